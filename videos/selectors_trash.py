"""Reads for the Trash page: the team's deleted videos, newest-deleted first, keyset-paged."""

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from studio import conf
from studio.teams.models import Membership, Team
from videos.access import may_manage_video
from videos.models import Video

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A page link's cursor: when the last video on the page was deleted (microseconds since the
# epoch) and its id, for the order (deleted_at, id) descending. Two videos deleted in the same
# microsecond (a bulk delete) still page without a gap or a repeat.
CURSOR = re.compile(r"(\d{1,18})\.(\d{1,18})")
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass
class TrashPage:
    videos: list[Video]
    total: int  # every video in the team's Trash, not only this page's
    next_before: str | None  # the cursor of the next (older) page; None on the last page


def trash_cursor(video: Video) -> str:
    return f"{(video.deleted_at - EPOCH) // ONE_MICROSECOND}.{video.pk}"


def parse_trash_cursor(text: str) -> tuple[datetime, int] | None:
    """The (deleted_at, id) a cursor made by trash_cursor stands for; None if it is not one."""
    match = CURSOR.fullmatch(text)
    if match is None:
        return None
    micros, pk = int(match[1]), int(match[2])
    try:
        return EPOCH + micros * ONE_MICROSECOND, pk
    except OverflowError:
        return None


def trash_page(
    *, team: Team, before: tuple[datetime, int] | None = None, size: int = 24
) -> TrashPage:
    """One page of the team's Trash. Each video gets `purge_days`: whole days, rounded up, until
    the hourly purge takes it (0 when it is due)."""
    trashed = Video.objects.filter(team=team, deleted_at__isnull=False)
    qs = trashed.select_related("author", "deleted_by").order_by("-deleted_at", "-id")
    if before is not None:
        at, pk = before
        qs = qs.filter(Q(deleted_at__lt=at) | Q(deleted_at=at, id__lt=pk))
    rows = list(qs[: size + 1])
    videos = rows[:size]
    now = timezone.now()
    for video in videos:
        left = video.deleted_at + timedelta(days=conf.TRASH_DAYS) - now
        video.purge_days = max(0, math.ceil(left / timedelta(days=1)))
    return TrashPage(
        videos=videos,
        total=trashed.count(),
        next_before=trash_cursor(videos[-1]) if len(rows) > size else None,
    )


# Where a delete without JavaScript leaves the video's id for the gallery's Undo toast.
UNDO_SESSION_KEY = "trash_undo"


def trash_undo_video(*, membership: Membership, video_id: object) -> Video | None:
    """The video a toast may offer to restore: still in the Trash, and the member's to restore."""
    if not isinstance(video_id, int):
        return None
    video = Video.objects.filter(
        pk=video_id, team_id=membership.team_id, deleted_at__isnull=False
    ).first()
    return video if video is not None and may_manage_video(membership, video) else None
