"""The Trash: a deleted video waits there for conf.TRASH_DAYS, restorable by its author or an
admin, then a schedule purges it with its files. Who may: access.may_manage_video.

Every write here is conditional on the row's Trash state, so a double click, a bulk delete
racing a single one, or a restore racing the purge changes nothing twice."""

from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from studio import conf
from studio.lib.errors import ServiceError
from studio.teams.models import Membership, Team
from videos.access import may_manage_video
from videos.models import Video

# Rows deleted per transaction: a purge of a big Trash never holds one long lock.
PURGE_BATCH = 200


def video_trash(*, video: Video, by: Membership) -> bool:
    """Moves a finished video to the Trash; False if it was there already (a double click, or a
    bulk delete that got there first). Raises ServiceError when `by` may not, or when it is
    still running (cancel it first)."""
    if not may_manage_video(by, video):
        raise ServiceError("Only the video's author or a team admin can delete it.")
    if not video.is_final:
        raise ServiceError("Cancel the video before deleting it.")
    return bool(
        Video.objects.filter(pk=video.pk, deleted_at=None).update(
            deleted_at=timezone.now(), deleted_by=by.user
        )
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


def trash_delete(*, video: Video, by: Membership) -> bool:
    """An admin's "Delete forever": removes one video from the Trash with its files now, without
    waiting for the purge. False if it was no longer in the Trash (restored meanwhile)."""
    _require_admin(by, video.team_id)
    return bool(_delete_with_files(Video.objects.filter(pk=video.pk, deleted_at__isnull=False)))


def trash_empty(*, team: Team, by: Membership) -> int:
    """An admin's "Empty trash": deletes every video in the team's Trash, files and all."""
    _require_admin(by, team.pk)
    return _delete_with_files(Video.objects.filter(team=team, deleted_at__isnull=False))


def trash_purge(*, now: datetime | None = None) -> int:
    """Deletes videos that have been in the Trash longer than conf.TRASH_DAYS, and their files
    once the rows are gone. Returns how many. Run by the schedule (videos.tasks.trash_purge)."""
    cutoff = (now or timezone.now()) - timedelta(days=conf.TRASH_DAYS)
    return _delete_with_files(Video.objects.filter(deleted_at__lt=cutoff))


def _require_admin(by: Membership, team_id: int) -> None:
    if by.team_id != team_id or not by.is_admin:
        raise ServiceError("Only a team admin can delete videos from the Trash for good.")


def _delete_with_files(trashed: QuerySet) -> int:
    """Deletes the rows of `trashed` in batches; each batch's files go once it commits (a
    rollback keeps both). The filter is repeated in the DELETE itself: a restore that wins the
    race keeps its video and files."""
    deleted = 0
    trashed = trashed.order_by("pk")
    while batch := list(trashed.values_list("pk", "file", "poster")[:PURGE_BATCH]):
        with transaction.atomic():
            ids = [pk for pk, _file, _poster in batch]
            # Locked (PostgreSQL) until the files are queued: a restore waits, then finds none.
            gone = set(trashed.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
            deleted += trashed.filter(pk__in=gone).delete()[1].get("videos.Video", 0)
            names = [name for pk, *files in batch if pk in gone for name in files if name]
            transaction.on_commit(lambda names=names: [default_storage.delete(n) for n in names])
        if len(batch) < PURGE_BATCH:
            break
    return deleted
