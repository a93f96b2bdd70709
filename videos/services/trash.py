"""The Trash: a deleted video waits there for conf.TRASH_DAYS, restorable by its author or an
admin, then a schedule purges it with its files. Who may: access.may_manage_video."""

from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from studio import conf
from studio.lib.errors import ServiceError
from studio.teams.models import Membership
from videos.access import may_manage_video
from videos.models import Video


def video_trash(*, video: Video, by: Membership) -> None:
    """Moves a finished video to the Trash. Raises ServiceError when `by` may not, or when it is
    still running (cancel it first)."""
    if not may_manage_video(by, video):
        raise ServiceError("Only the video's author or a team admin can delete it.")
    if not video.is_final:
        raise ServiceError("Cancel the video before deleting it.")
    # Conditional: a second click (or a bulk delete racing a single one) changes nothing.
    Video.objects.filter(pk=video.pk, deleted_at=None).update(
        deleted_at=timezone.now(), deleted_by=by.user
    )


def video_restore(*, video: Video, by: Membership) -> bool:
    """Takes a video out of the Trash; False if it was not there (restored already, or purged)."""
    if not may_manage_video(by, video):
        raise ServiceError("Only the video's author or a team admin can restore it.")
    return bool(
        Video.objects.filter(pk=video.pk, deleted_at__isnull=False).update(
            deleted_at=None, deleted_by=None
        )
    )


def trash_purge(*, now=None) -> int:
    """Deletes videos that have been in the Trash longer than conf.TRASH_DAYS, and their files
    once the rows are gone. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=conf.TRASH_DAYS)
    purged = 0
    old = Video.objects.filter(deleted_at__lt=cutoff).order_by("pk")
    while batch := list(old.values_list("pk", "file", "poster")[:200]):
        with transaction.atomic():
            # Conditional on still being in the Trash: a restore that wins the race keeps it.
            ids = [pk for pk, _f, _p in batch]
            purged += (
                Video.objects.filter(pk__in=ids, deleted_at__lt=cutoff)
                .delete()[1]
                .get("videos.Video", 0)
            )
            names = [n for _pk, *files in batch for n in files if n]
            transaction.on_commit(lambda names=names: [default_storage.delete(n) for n in names])
    return purged

