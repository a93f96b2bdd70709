"""Reads. Every function takes the team it reads for; none writes."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone

from studio import conf
from studio.teams.models import Team
from videos.models import (
    Attempt,
    Favourite,
    GalleryPrefs,
    PromptImage,
    ProviderAccount,
    UpstreamCall,
    Video,
)


@dataclass
class GalleryPage:
    videos: list[Video]
    next_before: int | None  # the cursor for the next (older) page, None on the last page

    @property
    def has_running(self) -> bool:
        return any(not v.is_final for v in self.videos)


def gallery_page(*, team: Team, before: int | None = None, size: int = 24) -> GalleryPage:
    """One page of the team's videos, newest first.

    Keyset pagination (id < cursor) on the (team, -id) index: the cost of a page does not grow
    with the team's history, unlike OFFSET, which reads and throws away every earlier row.
    """
    qs = (
        Video.objects.filter(team=team, deleted_at=None)
        .select_related("author", "attempt__account")
        .order_by("-id")
    )
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: size + 1])
    videos, more = rows[:size], len(rows) > size
    annotate_queue_positions(team=team, videos=videos)
    return GalleryPage(videos=videos, next_before=videos[-1].id if more else None)


def gallery_density(*, user) -> str:
    """The member's chosen gallery density (GalleryPrefs), comfortable until they choose."""
    prefs = GalleryPrefs.objects.filter(user=user).first()
    return prefs.density if prefs else GalleryPrefs.Density.COMFORTABLE


def mark_favourites(*, user, videos: list[Video]) -> None:
    """Sets `is_favourite` (the user's own star) on each of `videos`: one query for a page."""
    if not videos:
        return
    starred = set(
        Favourite.objects.filter(user=user, video__in=[v.pk for v in videos]).values_list(
            "video_id", flat=True
        )
    )
    for video in videos:
        video.is_favourite = video.pk in starred


def annotate_queue_positions(*, team: Team, videos: list[Video]) -> None:
    """Sets `queue_position` (1 = next to start) on the queued videos in `videos`."""
    queued = [v for v in videos if v.status == Video.Status.QUEUED]
    if not queued:
        return
    newest = max(v.id for v in queued)
    ahead = list(
        Video.objects.filter(team=team, status=Video.Status.QUEUED, id__lte=newest)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for video in queued:
        video.queue_position = bisect_right(ahead, video.id)


def video_attempts(*, video: Video) -> list[Attempt]:
    """The video's tries, first to last, with their accounts: its history on the detail page
    ("account A: rate limited; account B: completed in 2 min 14 s")."""
    return list(video.attempts.select_related("account").order_by("number", "id"))


def video_with_position(*, video: Video) -> Video:
    annotate_queue_positions(team=video.team, videos=[video])
    return video


def team_accounts(*, team: Team) -> list[ProviderAccount]:
    """The team's accounts, each with `running` (videos holding its slots) and `last_ok` (as
    account_last_ok)."""
    accounts = list(
        ProviderAccount.objects.filter(team=team)
        .annotate(
            running=Count(
                "attempts",
                filter=Q(
                    attempts__current_of__status__in=Video.RUNNING,
                    attempts__upstream_finished_at=None,
                ),
            ),
            last_started=Max("attempts__started_at"),
            last_finished=Max("attempts__upstream_finished_at"),
        )
        .order_by("name")
    )
    for account in accounts:
        # In Python: SQL's GREATEST treats NULL differently on SQLite and PostgreSQL.
        moments = (account.last_started, account.last_finished)
        account.last_ok = max((t for t in moments if t is not None), default=None)
    return accounts


@dataclass
class AccountSlots:
    account: ProviderAccount
    running: list[Video]
    calls_last_minute: int
    creates_last_minute: int
    # Queued videos pinned to this account (Video.requested_account): they will take its slots.
    pinned: int = 0
    # Creates sent in the current rate window (conf.RATE_WINDOW_SECONDS).
    creates_in_window: int = 0

    @property
    def free(self) -> int:
        return max(0, self.account.max_jobs - len(self.running))

    @property
    def rate_limited(self) -> bool:
        """No create left in the rate window, as videos.scheduler.accounts.creates_left counts
        them; the local renderer has no rate."""
        return self.account.is_remote and self.account.rpm - self.creates_in_window <= 0

    @property
    def available(self) -> int:
        """Videos a new create could start on this account now: its free slots less those its
        pinned queued videos will take, and no more than its creates left (the scheduler's
        claim caps them the same way). 0 when disabled, paused or rate limited."""
        account = self.account
        if not account.enabled or account.is_paused or self.rate_limited:
            return 0
        room = self.free - self.pinned
        if account.is_remote:
            room = min(room, account.rpm - self.creates_in_window)
        return max(0, room)


def account_slots(*, team: Team) -> tuple[list[AccountSlots], int]:
    """Each account's live slots (running videos, pinned queued videos, upstream calls in the
    last minute and the rate window) and the team's queue, which any enabled account may take
    from. A fixed number of queries whatever the size."""
    accounts = list(ProviderAccount.objects.filter(team=team).order_by("kind", "name"))
    # Grouped by the account each is pinned to (None: any account); equality on (team, status)
    # keeps to the index, as in active_videos. Read BEFORE the running videos: each query sees
    # its own snapshot on PostgreSQL, and a claim committing in between then counts its video
    # twice (queued, then running: too little room, for a moment) rather than not at all (a
    # full account listed as free, which a script would pin its next create to).
    queued_for: dict[int | None, int] = {
        row["requested_account_id"]: row["n"]
        for row in Video.objects.filter(team=team, status=Video.Status.QUEUED)
        .values("requested_account_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    running: dict[int, list[Video]] = {a.pk: [] for a in accounts}
    for video in sorted(
        active_videos(
            Video.objects.filter(team=team, attempt__upstream_finished_at=None).select_related(
                "author", "attempt__account"
            ),
            statuses=Video.RUNNING,
        ),
        key=lambda v: (v.submitted_at or v.created_at, v.pk),
    ):
        running.setdefault(video.account_id, []).append(video)
    now = timezone.now()
    minute = now - timedelta(minutes=1)
    window = now - timedelta(seconds=conf.RATE_WINDOW_SECONDS)
    calls: dict[tuple[int, str], tuple[int, int]] = {
        (row["account_id"], row["kind"]): (row["n"], row["in_window"])
        for row in UpstreamCall.objects.filter(account__team=team, at__gt=min(minute, window))
        .values("account_id", "kind")
        .annotate(
            n=Count("id", filter=Q(at__gt=minute)), in_window=Count("id", filter=Q(at__gt=window))
        )
    }
    create = UpstreamCall.Kind.CREATE
    slots = [
        AccountSlots(
            account=a,
            running=running.get(a.pk, []),
            calls_last_minute=sum(n for (acc, _), (n, _w) in calls.items() if acc == a.pk),
            creates_last_minute=calls.get((a.pk, create), (0, 0))[0],
            pinned=queued_for.get(a.pk, 0),
            creates_in_window=calls.get((a.pk, create), (0, 0))[1],
        )
        for a in accounts
    ]
    return slots, sum(queued_for.values())


def account_last_ok(*, account: ProviderAccount) -> datetime | None:
    """The last time the account's upstream answered a video's create or reported one finished:
    a success an earlier account error (ProviderAccount.last_error_at) is older than."""
    row = Attempt.objects.filter(account=account).aggregate(
        started=Max("started_at"), finished=Max("upstream_finished_at")
    )
    return max((t for t in row.values() if t is not None), default=None)


# The REST API


def video_list(
    *, team: Team, before: int | None, limit: int, account: ProviderAccount | None = None
) -> GalleryPage:
    """GET videos/: newest first, keyset-paged like the gallery; what is in the Trash is not."""
    qs = (
        Video.objects.filter(team=team, deleted_at=None)
        .select_related("attempt__account", "image", "last_image", "subject_image")
        .order_by("-id")
    )
    if account is not None:
        qs = qs.filter(attempt__account=account)
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: limit + 1])
    videos = rows[:limit]
    return GalleryPage(videos=videos, next_before=videos[-1].id if len(rows) > limit else None)


def image_list(*, team: Team, before: int | None, limit: int) -> list[PromptImage]:
    qs = PromptImage.objects.filter(team=team).order_by("-id")
    if before is not None:
        qs = qs.filter(id__lt=before)
    return list(qs[:limit])


def account_running(*, account: ProviderAccount) -> int:
    return Video.objects.filter(
        attempt__account=account, status__in=Video.RUNNING, attempt__upstream_finished_at=None
    ).count()


def tracked_videos(*, team: Team) -> list[Video]:
    """GET scheduler/: the API's videos that have not ended and are still tracked."""
    videos = active_videos(
        Video.objects.filter(team=team, tracked=True).select_related("attempt__account")
    )
    return sorted(videos, key=lambda v: v.pk)


def active_videos(videos, *, statuses=Video.ACTIVE) -> list:
    """The rows of `videos` (a team's) in `statuses` (not ended), one indexed read per status.

    `status IN (four values)` looks cheap but is not on SQLite once ANALYZE has run: its
    statistics say a status matches a fifth of the table, so it scans the team's whole history
    (18 ms at 100,000 videos and growing, bench/api.py). Equality on (team, status) always uses
    the index, and the active rows are few. Sorting is the caller's, for the same reason.
    """
    return [row for status in statuses for row in videos.filter(status=status)]


def active_counts(*, team_id: int, author_id: int) -> tuple[int, int]:
    """How many of the team's videos have not ended, and how many of those are by `author_id`:
    counted in the database, so a create reads no rows however long the queue.

    One statement: a count per status on the (team, status) index, for the reason active_videos
    gives, joined by UNION ALL; a WHERE on the author would let the planner walk the author's
    whole history instead (measured in bench/api.py). Written as SQL because every API create
    runs it: the ORM took 5 ms to build this union on the bench's 2 cores, the database 0.6 ms
    to plan and run it (bench/load.py)."""
    one_status = (
        f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN author_id = %s THEN 1 ELSE 0 END), 0) "
        f"FROM {Video._meta.db_table} WHERE team_id = %s AND status = %s"
    )
    sql = " UNION ALL ".join([one_status] * len(Video.ACTIVE))
    params = [value for status in Video.ACTIVE for value in (author_id, team_id, status)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sum(row[0] for row in rows), sum(row[1] for row in rows)


# API tokens and webhooks


def team_page_accounts(team: Team) -> dict:
    """The team_page hook (studio.teams.hooks): the accounts the team page lists."""
    return {"accounts": team_accounts(team=team)}
