"""Prompt images: stored once, used by many videos."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from studio.lib.errors import ServiceError
from studio.teams.models import Team
from videos.images import CleanImage
from videos.models import PromptImage, ProviderAccount, Video


def image_store(
    *,
    team: Team,
    user: AbstractBaseUser,
    image: CleanImage,
    original_name: str = "",
    account: ProviderAccount | None = None,
) -> PromptImage:
    """Keeps a checked image. `account` is the one the API's upload named (POST
    files/?account=): the fileID says so, for good, as useapi.net's does; otherwise "auto"."""
    if account is not None and account.team_id != team.pk:
        raise ServiceError(f"{account.name} is not one of {team.name}'s accounts.", field="account")
    record = PromptImage(
        team=team,
        uploader=user,
        id_prefix=f"user:{user.pk}-minimax:{account.pk if account else 'auto'}",
        original_name=original_name[:255],
        width=image.width,
        height=image.height,
        format=image.format,
        bytes=len(image.content),
    )
    record.file.save(f"upload.{image.extension}", ContentFile(image.content), save=False)
    try:
        record.save()
    except BaseException:
        record.file.delete(save=False)
        raise
    return record


def image_delete(*, image: PromptImage) -> None:
    """DELETE files/{fileID}. Refused while a video that has not finished uses the image."""
    name = image.file.name
    with transaction.atomic():
        # The lock a create using this file takes too: check-then-delete cannot interleave with
        # a create that would be left pointing at nothing.
        if not PromptImage.objects.select_for_update().filter(pk=image.pk).exists():
            return
        active = Video.objects.filter(status__in=Video.ACTIVE, team_id=image.team_id)
        waiting = active.filter(
            Q(image=image) | Q(last_image=image) | Q(subject_image=image)
        ).exists() or any(
            # fileID2.. of useapi.net-only videos, kept in JSON: few, and read in Python
            # because SQLite cannot look inside a JSON list.
            image.pk in (passthrough.get("references") or [])
            for passthrough in active.filter(useapi_only=True).values_list("passthrough", flat=True)
        )
        if waiting:
            raise ServiceError(
                "A video that has not finished uses this image; delete it afterwards."
            )
        PromptImage.objects.filter(pk=image.pk).delete()
        transaction.on_commit(lambda: default_storage.delete(name))
