"""Claims: which queued video an account takes next, and taking back what dead workers held.

Slots are derived, not counted: an account's busy slots are the running videos whose current
attempt is on it and whose upstream has not finished. A claim moves a queued video to
SUBMITTING, creates its Attempt and points the video at it, under the account's row lock.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django_q.tasks import async_task

from studio import conf
from videos.models import Attempt, ProviderAccount, UpstreamCall, Video
from videos.scheduler.accounts import creates_left, record_call
from videos.scheduler.jobs import discard_results
from videos.scheduler.state import Change, final, owned, requeue, write

log = logging.getLogger(__name__)
Status = Video.Status
WORKER_RESTART = "Retrying after a worker restart"
# Starts a claimed remote create: (video id, attempt id).
Send = Callable[[int, int], None]
# An account's current attempts that hold one of its slots.
BUSY = Q(attempts__current_of__status__in=Video.RUNNING, attempts__upstream_finished_at=None)


def running(account_id: int):
    """The videos holding a slot on the account."""
    return Video.objects.filter(
        attempt__account_id=account_id,
        status__in=Video.RUNNING,
        attempt__upstream_finished_at=None,
    )


def accounts_with_room() -> list[int]:
    """Accounts that could start something now: a read-only pre-check, so the loop does not
    take a write lock on every account several times a second."""
    now = timezone.now()
    teams = (
        Video.objects.filter(status=Status.QUEUED)
        .filter(Q(retry_at=None) | Q(retry_at__lte=now))
        .values("team_id")
    )
    accounts = (
        ProviderAccount.objects.filter(enabled=True, team_id__in=teams)
        .exclude(paused_until__gt=now)
        .annotate(busy=Count("attempts", filter=BUSY))
        .filter(busy__lt=F("max_jobs"))
    )
    return [a.pk for a in accounts if not a.is_remote or creates_left(a, now) > 0]


def work_waiting(*, older_than: float) -> bool:
    """Whether a video queued more than `older_than` seconds ago could start on an account
    with room now: a dispatch is due and none has picked it up."""
    now = timezone.now()
    waiting = Video.objects.filter(
        status=Status.QUEUED, created_at__lt=now - timedelta(seconds=older_than)
    ).filter(Q(retry_at=None) | Q(retry_at__lte=now))
    return waiting.exists() and bool(accounts_with_room())


def claim(account_id: int) -> tuple[list[tuple[int, int]], bool]:
    """Claims queued videos for one account's free slots: [(video id, attempt id)], and whether
    the account is remote (its creates still have to be sent)."""
    now = timezone.now()
    with transaction.atomic():
        # The account row lock makes count-then-claim atomic across dispatchers. Without it two
        # workers on PostgreSQL (READ COMMITTED) could both see 2 of 3 slots busy and each start
        # a third video. On SQLite the IMMEDIATE transaction already serialises writers.
        # FOR NO KEY UPDATE (see NO_KEY in videos/services/submit.py): a create pinned to this
        # account checks its foreign key with a KEY SHARE lock, which FOR UPDATE would block.
        account = ProviderAccount.objects.select_for_update(no_key=True).get(pk=account_id)
        if not account.enabled or account.is_paused:
            return [], account.is_remote
        busy = running(account_id).count()
        free = account.max_jobs - busy
        if account.is_remote:
            # Creates are counted under the same lock, so two dispatchers cannot both use the
            # account's last request of the minute.
            free = min(free, creates_left(account, now))
        if free <= 0:
            return [], account.is_remote
        claims = []
        for video_id in _next_in_queue(account=account, count=free, busy=busy, now=now):
            attempt = video_claim(account=account, video_id=video_id, now=now)
            if attempt is not None:
                claims.append((video_id, attempt))
    return claims, account.is_remote


def video_claim(*, account: ProviderAccount, video_id: int, now) -> int | None:
    """Gives a queued video a slot on `account` (locked by the caller, inside its transaction):
    a new Attempt, the video pointing at it, and the start (a remote create is counted against
    the account's rate; a local render is enqueued, and with the ORM broker the task commits
    with the claim). Returns the attempt's id, the claim's token, or None if it was taken."""
    # Another account of the same team may have claimed it since the queue was read. The
    # UPDATE also locks the video row, so the attempt's number below cannot be taken twice.
    claimed = Video.objects.filter(pk=video_id, status=Status.QUEUED).update(
        status=Status.SUBMITTING,
        submitted_at=now,
        percent=0,
        message=f"Starting on {account.name}",
        retry_at=None,
    )
    if not claimed:
        return None
    tries = Attempt.objects.filter(video_id=video_id).aggregate(n=Max("number"))["n"] or 0
    attempt = Attempt.objects.create(
        video_id=video_id,
        account=account,
        number=tries + 1,
        created_at=now,
        heartbeat_at=now,
        callback_token=secrets.token_urlsafe(24) if account.is_remote else "",
        # Usage costs the attempt at today's prices; the local renderer costs nothing.
        price_per_video=account.price_per_video if account.is_remote else 0,
        price_per_second=account.price_per_second if account.is_remote else 0,
    )
    Video.objects.filter(pk=video_id).update(attempt=attempt)
    if account.is_remote:
        record_call(account, UpstreamCall.Kind.CREATE, at=now)
    else:
        async_task("videos.tasks.run_video", video_id, attempt.pk, task_name=f"video {video_id}")
    return attempt.pk


def account_has_room(account: ProviderAccount, *, max_jobs: int | None, now) -> bool:
    """Whether `account` (locked by the caller) can start one more video now; `max_jobs` is a
    per-video limit (the API's maxJobs), which can lower the account's but never raise it."""
    if not account.enabled or account.is_paused:
        return False
    limit = min(account.max_jobs, max_jobs or account.max_jobs)
    if running(account.pk).count() >= limit:
        return False
    return not account.is_remote or creates_left(account, now) > 0


def _next_in_queue(*, account: ProviderAccount, count: int, busy: int, now) -> list[int]:
    """Up to `count` queued videos `account` may take, fair between authors.

    Each pick goes to the author with the fewest videos running (ties: the oldest waiting video),
    so one person's hundred queued videos do not hold up a teammate's single one. A video pinned
    to another account is not taken, nor one whose own maxJobs the account's load has reached,
    nor one whose model only a useapi.net account runs, unless this is one.
    """
    queued = (
        Video.objects.filter(team_id=account.team_id, status=Status.QUEUED)
        .filter(Q(retry_at=None) | Q(retry_at__lte=now))
        .filter(Q(requested_account=None) | Q(requested_account=account.pk))
        .order_by("id")
    )
    if account.kind != ProviderAccount.Kind.USEAPI:
        queued = queued.filter(useapi_only=False)  # Veo, Sora, Seedance: useapi.net only
    if connection.features.has_select_for_update_skip_locked:
        # Rows another dispatcher is claiming right now are skipped, not waited for.
        # NO KEY (see NO_KEY in videos/services/submit.py): no foreign-key check waits on them.
        queued = queued.select_for_update(skip_locked=True, of=("self",), no_key=True)
    waiting: dict[int | None, list[tuple[int, int | None]]] = {}
    for video_id, author_id, max_jobs in queued.values_list("id", "author_id", "max_jobs")[:500]:
        waiting.setdefault(author_id, []).append((video_id, max_jobs))
    load_of: dict[int | None, int] = {}
    for author_id in Video.objects.filter(
        team_id=account.team_id, status__in=Video.RUNNING
    ).values_list("author_id", flat=True):
        load_of[author_id] = load_of.get(author_id, 0) + 1
    picks: list[int] = []
    while len(picks) < count:
        load = busy + len(picks)
        heads = {}
        for author, items in waiting.items():
            head = next((item for item in items if item[1] is None or load < item[1]), None)
            if head is not None:
                heads[author] = head
        if not heads:
            break
        author = min(heads, key=lambda a: (load_of.get(a, 0), heads[a][0]))
        picks.append(heads[author][0])
        waiting[author].remove(heads[author])
        load_of[author] = load_of.get(author, 0) + 1
    return picks


def videos_reap() -> int:
    """Takes back videos whose worker went quiet (killed, OOM, host lost).

    A local render beats its heartbeat every HEARTBEAT_SECONDS from a thread of its own; one
    silent for STALE_AFTER_SECONDS lost its worker and goes back to the queue. That is not the
    video's fault, so it costs no try (only MAX_WORKER_LOSSES of them fail it). A remote create
    that went quiet is never simply resent: it is marked in doubt and reconciled.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=conf.STALE_AFTER_SECONDS)
    # A send may legitimately take minutes (image uploads, then the create, each with its own
    # timeout): only past SEND_STALE_SECONDS is a quiet send presumed dead.
    send_cutoff = now - timedelta(seconds=conf.SEND_STALE_SECONDS)
    stale = Video.objects.filter(status__in=Video.RUNNING, attempt__heartbeat_at__lt=cutoff)
    taken = 0
    for video_id, attempt, status, heartbeat_at, kind, next_poll_at in stale.values_list(
        "id",
        "attempt_id",
        "status",
        "attempt__heartbeat_at",
        "attempt__account__kind",
        "attempt__next_poll_at",
    ):
        if kind is not None and kind != ProviderAccount.Kind.LOCAL:
            quiet_send = status == Status.SUBMITTING and next_poll_at is None
            if quiet_send and heartbeat_at < send_cutoff:
                taken += write(
                    video_id,
                    attempt,
                    Change(
                        {"message": "Checking whether the upstream got it"},
                        {"next_poll_at": timezone.now()},
                    ),
                    attempt_where={"heartbeat_at": heartbeat_at},
                )
            continue
        if status == Status.SUBMITTING and heartbeat_at >= send_cutoff:
            # Claimed, its task not started yet: nothing beats until a worker takes it, and the
            # task is safe in the broker (behind a busy queue, or released after a restart).
            continue
        # Matching the old heartbeat means a worker that revives at this instant keeps the video.
        taken += video_hand_back(video_id=video_id, attempt=attempt, heartbeat_at=heartbeat_at)
    if taken:
        log.warning("Took back %d video(s) from workers that stopped responding", taken)
    return taken


def video_hand_back(*, video_id: int, attempt: int, heartbeat_at=None) -> int:
    """Puts a local video whose worker died (or whose task never started) back in the queue,
    without costing it a try.

    Only the attempt that died is touched (a newer claim is left alone); a video that has now
    lost MAX_WORKER_LOSSES workers fails, since it is what kills them (django-q2 #327).
    Returns 1 when the video was handed back or failed, else 0.
    """
    mine = owned(video_id, attempt)
    beat = {} if heartbeat_at is None else {"heartbeat_at": heartbeat_at}
    if beat:
        mine = mine.filter(attempt__heartbeat_at=heartbeat_at)
    row = mine.values_list("worker_losses", "status", "team_id").first()
    if row is None:
        return 0
    # Only a render under way had a worker to lose; a claim whose task never started did not.
    losses, status, team_id = row
    held = status == Status.PROCESSING
    if held and losses + 1 >= conf.MAX_WORKER_LOSSES:
        change = final(Status.FAILED, f"Its worker stopped {losses + 1} times on this video.")
    else:
        change = requeue(WORKER_RESTART)
    change.video["worker_losses"] = losses + held
    # worker_losses in the condition: two recoveries of the same death count it once.
    handed = write(
        video_id,
        attempt,
        change,
        status,
        video_where={"worker_losses": losses},
        attempt_where=beat,
    )
    if handed and held:
        # A worker killed between storing its result and recording it left files nobody
        # refers to; the attempt is over, so they go.
        discard_results(team_id=team_id, video_id=video_id, attempt=attempt)
    return handed
