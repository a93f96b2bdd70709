"""Prompt images: stored once, used by many videos."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from studio.lib.errors import ServiceError
from studio.teams.models import Team
from videos.images import CleanImage
from videos.models import PromptImage, Video


def image_store(
    *, team: Team, user: AbstractBaseUser, image: CleanImage, original_name: str = ""
) -> PromptImage:
    record = PromptImage(
        team=team,
        uploader=user,
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
        waiting = Video.objects.filter(status__in=Video.ACTIVE).filter(
            Q(image=image) | Q(last_image=image)
        )
        if waiting.exists():
            raise ServiceError(
                "A video that has not finished uses this image; delete it afterwards."
            )
        PromptImage.objects.filter(pk=image.pk).delete()
        transaction.on_commit(lambda: default_storage.delete(name))
