"""The scheduler, part of the service layer: it hands queued videos to accounts with free slots
and drives remote videos (MiniMax, useapi.net) from create to a stored MP4.

Slots are derived, not counted: an account's busy slots are its videos in Video.RUNNING whose
upstream has not finished. Every change is a conditional UPDATE on (id, attempts, status), so a
worker that lost its claim (cancelled, taken back) cannot overwrite the winner.

A remote video holds no worker while MiniMax works on it. One scheduler loop (a django-q2 task
that holds a lease and hands itself on) ticks several times a second: it polls the videos whose
`next_poll_at` has come, and fills free slots. The HTTP calls run on a small thread pool inside
that task, and a poll that sees a video finish fills the freed slot at once, in the same thread.
"""

import gc
import hashlib
import hmac
import logging
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.db.models import Count, F, Q
from django.utils import timezone
from django_q.tasks import async_task

from videos import hooks, media
from videos.models import PromptImage, ProviderAccount, SchedulerLease, UpstreamCall, Video
from videos.providers import (
    AccountConfig,
    AccountPaused,
    AccountRejected,
    InDoubt,
    Job,
    Progress,
    ProviderError,
    RateLimited,
    get_provider,
)

log = logging.getLogger(__name__)
Status = Video.Status
LEASE = "scheduler"
# The database went away (a restart, a dropped connection): the infrastructure's fault, never
# the video's, so it never costs a try.
DB_OUTAGE = (OperationalError, InterfaceError)
WORKER_RESTART = "Retrying after a worker restart"
Send = Callable[[int, int], None]


def provider_for(account: ProviderAccount):
    return get_provider(account_config(account))


def account_config(account: ProviderAccount) -> AccountConfig:
    import json

    try:
        credentials = json.loads(account.credentials or "{}")
    except ValueError:
        credentials = {}
    return AccountConfig(
        name=account.name,
        kind=account.kind,
        credentials=credentials,
        base_url=account.base_url,
        region=account.region,
        default_model=account.default_model,
        upstream_account=account.upstream_account,
        max_jobs=account.max_jobs,
    )


# Dispatch: hand queued videos to accounts with free slots


def videos_dispatch(*, send: Send | None = None) -> list[int]:
    """Starts as many queued videos as the enabled accounts have free slots (and rate) for.

    Takes back stale videos first, so a dead worker's slot is reused in the same pass.
    Returns the ids of the videos started.
    """
    videos_reap()
    started: list[int] = []
    for account_id in _accounts_with_room():
        started += account_fill(account_id=account_id, send=send)
    # Videos that just ended (a render, a cancel, a reaped worker) may owe a replyUrl callback.
    hooks.run(hooks.videos_changed)
    return started


def _running(account_id: int):
    return Video.objects.filter(
        account_id=account_id, status__in=Video.RUNNING, upstream_finished_at=None
    )


def _accounts_with_room() -> list[int]:
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
        .annotate(
            busy=Count(
                "videos",
                filter=Q(videos__status__in=Video.RUNNING, videos__upstream_finished_at=None),
            )
        )
        .filter(busy__lt=F("max_jobs"))
    )
    return [a.pk for a in accounts if not a.is_remote or _creates_left(a, now) > 0]


def work_waiting(*, older_than: float) -> bool:
    """Whether a video queued more than `older_than` seconds ago could start on an account
    with room now: a dispatch is due and none has picked it up."""
    now = timezone.now()
    waiting = Video.objects.filter(
        status=Status.QUEUED, created_at__lt=now - timedelta(seconds=older_than)
    ).filter(Q(retry_at=None) | Q(retry_at__lte=now))
    return waiting.exists() and bool(_accounts_with_room())


def _creates_left(account: ProviderAccount, now) -> int:
    since = now - timedelta(seconds=settings.RATE_WINDOW_SECONDS)
    recent = UpstreamCall.objects.filter(
        account=account, kind=UpstreamCall.Kind.CREATE, at__gt=since
    ).count()
    return account.rpm - recent


def account_fill(*, account_id: int, send: Send | None = None) -> list[int]:
    """Claims queued videos for one account's free slots, then starts them: a local render goes
    to a worker, a remote create is sent by `send` (inline when None)."""
    claims, remote = _claim(account_id)
    for video_id, attempt in claims if remote else ():
        (send or _send_inline)(video_id, attempt)
    return [video_id for video_id, _ in claims]


def _send_inline(video_id: int, attempt: int) -> None:
    video_send(video_id=video_id, attempt=attempt)


def _claim(account_id: int) -> tuple[list[tuple[int, int]], bool]:
    now = timezone.now()
    with transaction.atomic():
        # The account row lock makes count-then-claim atomic across dispatchers. Without it two
        # workers on PostgreSQL (READ COMMITTED) could both see 2 of 3 slots busy and each start
        # a third video. On SQLite the IMMEDIATE transaction already serialises writers.
        account = ProviderAccount.objects.select_for_update().get(pk=account_id)
        if not account.enabled or account.is_paused:
            return [], account.is_remote
        busy = _running(account_id).count()
        free = account.max_jobs - busy
        if account.is_remote:
            # Creates are counted under the same lock, so two dispatchers cannot both use the
            # account's last request of the minute.
            free = min(free, _creates_left(account, now))
        if free <= 0:
            return [], account.is_remote
        claims = []
        for video_id in _next_in_queue(account=account, count=free, busy=busy, now=now):
            # Another account of the same team may have claimed it since we read the queue.
            claimed = Video.objects.filter(pk=video_id, status=Status.QUEUED).update(
                **claim_fields(account, now)
            )
            if not claimed:
                continue
            attempt = Video.objects.values_list("attempts", flat=True).get(pk=video_id)
            claim_start(account, video_id, attempt, now)
            claims.append((video_id, attempt))
    return claims, account.is_remote


def claim_fields(account: ProviderAccount, now) -> dict:
    """What a video's row says once it holds a slot on `account`: the claim's new attempt."""
    return {
        "status": Status.SUBMITTING,
        "account": account,
        "attempts": F("attempts") + 1,
        "submitted_at": now,
        "heartbeat_at": now,
        "percent": 0,
        "message": f"Starting on {account.name}",
        "callback_token": secrets.token_urlsafe(24) if account.is_remote else "",
        "upstream_id": "",
        "upstream_file": "",
        "upstream_finished_at": None,
        "next_poll_at": None,
        "poll_failures": 0,
        "fetch_failures": 0,
        "upstream_seen_at": None,
        "retry_at": None,
    }


def claim_start(account: ProviderAccount, video_id: int, attempt: int, now) -> None:
    """The claim's other half, inside its transaction: a remote create is counted against the
    account's rate; a local render is enqueued (ORM broker: claim and task commit together)."""
    if account.is_remote:
        UpstreamCall.objects.create(account=account, kind=UpstreamCall.Kind.CREATE, at=now)
    else:
        async_task("videos.tasks.run_video", video_id, attempt, task_name=f"video {video_id}")


def account_has_room(account: ProviderAccount, *, max_jobs: int | None, now) -> bool:
    """Whether `account` (locked by the caller) can start one more video now; `max_jobs` is a
    per-video limit (the API's maxJobs), which can lower the account's but never raise it."""
    if not account.enabled or account.is_paused:
        return False
    limit = min(account.max_jobs, max_jobs or account.max_jobs)
    if _running(account.pk).count() >= limit:
        return False
    return not account.is_remote or _creates_left(account, now) > 0


def _next_in_queue(*, account: ProviderAccount, count: int, busy: int, now) -> list[int]:
    """Up to `count` queued videos `account` may take, fair between authors.

    Each pick goes to the author with the fewest videos running (ties: the oldest waiting video),
    so one person's hundred queued videos do not hold up a teammate's single one. A video pinned
    to another account is not taken, nor one whose own maxJobs the account's load has reached.
    """
    queued = (
        Video.objects.filter(team_id=account.team_id, status=Status.QUEUED)
        .filter(Q(retry_at=None) | Q(retry_at__lte=now))
        .filter(Q(requested_account=None) | Q(requested_account=account.pk))
        .order_by("id")
    )
    if connection.features.has_select_for_update_skip_locked:
        # Rows another dispatcher is claiming right now are skipped, not waited for.
        queued = queued.select_for_update(skip_locked=True, of=("self",))
    waiting: dict[int | None, list[tuple[int, int | None]]] = {}
    for video_id, author_id, max_jobs in queued.values_list("id", "author_id", "max_jobs")[:500]:
        waiting.setdefault(author_id, []).append((video_id, max_jobs))
    running: dict[int | None, int] = {}
    for author_id in Video.objects.filter(
        team_id=account.team_id, status__in=Video.RUNNING
    ).values_list("author_id", flat=True):
        running[author_id] = running.get(author_id, 0) + 1
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
        author = min(heads, key=lambda a: (running.get(a, 0), heads[a][0]))
        picks.append(heads[author][0])
        waiting[author].remove(heads[author])
        running[author] = running.get(author, 0) + 1
    return picks


def videos_reap() -> int:
    """Takes back videos whose worker went quiet (killed, OOM, host lost).

    A local render beats its heartbeat every HEARTBEAT_SECONDS from a thread of its own; one
    silent for STALE_AFTER_SECONDS lost its worker and goes back to the queue. That is not the
    video's fault, so it costs no try (only MAX_WORKER_LOSSES of them fail it). A remote create
    that went quiet is never simply resent: it is marked in doubt and reconciled.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    # A send may legitimately take minutes (image uploads, then the create, each with its own
    # timeout): only past SEND_STALE_SECONDS is a quiet send presumed dead.
    send_cutoff = timezone.now() - timedelta(seconds=settings.SEND_STALE_SECONDS)
    stale = Video.objects.filter(status__in=Video.RUNNING, heartbeat_at__lt=cutoff)
    taken = 0
    for video in stale.select_related("account").only(
        "id", "attempts", "status", "heartbeat_at", "account__kind", "next_poll_at"
    ):
        if video.account and video.account.is_remote:
            quiet_send = video.status == Status.SUBMITTING and video.next_poll_at is None
            if quiet_send and video.heartbeat_at < send_cutoff:
                same = Video.objects.filter(
                    pk=video.pk, attempts=video.attempts, heartbeat_at=video.heartbeat_at
                )
                taken += same.update(
                    next_poll_at=timezone.now(), message="Checking whether the upstream got it"
                )
            continue
        if video.status == Status.SUBMITTING and video.heartbeat_at >= send_cutoff:
            # Claimed, its task not started yet: nothing beats until a worker takes it, and the
            # task is safe in the broker (behind a busy queue, or released after a restart).
            continue
        # Matching the old heartbeat means a worker that revives at this instant keeps the video.
        taken += video_hand_back(
            video_id=video.pk, attempt=video.attempts, heartbeat_at=video.heartbeat_at
        )
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
    mine = _owned(video_id, attempt)
    if heartbeat_at is not None:
        mine = mine.filter(heartbeat_at=heartbeat_at)
    row = mine.values_list("worker_losses", "status", "team_id").first()
    if row is None:
        return 0
    # Only a render under way had a worker to lose; a claim whose task never started did not.
    held, losses, team_id = row[1] == Status.PROCESSING, row[0], row[2]
    mine = mine.filter(worker_losses=losses, status=row[1])
    losses += held
    if held and losses >= settings.MAX_WORKER_LOSSES:
        changes = _final(Status.FAILED, f"Its worker stopped {losses} times on this video.")
    else:
        changes = _requeue(WORKER_RESTART)
    # worker_losses in the filter: two recoveries of the same death count it once.
    handed = mine.update(**changes, worker_losses=losses)
    if handed and held:
        # A worker killed between storing its result and recording it left files nobody
        # refers to; the attempt is over, so they go.
        _discard_results(team_id=team_id, video_id=video_id, attempt=attempt)
    return handed


def _requeue(message: str, *, failed: bool = False, retry_in: float = 0) -> dict:
    changes = {
        "status": Status.QUEUED,
        "account": None,
        "percent": 0,
        "message": message[:200],
        "next_poll_at": None,
        "upstream_id": "",
        "retry_at": timezone.now() + timedelta(seconds=retry_in) if retry_in else None,
    }
    if failed:
        changes["failures"] = F("failures") + 1
    return changes


def _final(status: str, error: str = "", **extra) -> dict:
    return {
        "status": status,
        "error": error,
        "message": "",
        "next_poll_at": None,
        "finished_at": timezone.now(),
        **extra,
    }


# Remote videos: send, reconcile, poll, fetch


def _owned(video_id: int, attempt: int, *statuses: str):
    return Video.objects.filter(pk=video_id, attempts=attempt, status__in=statuses or Video.RUNNING)


def _job(video: Video, workdir: Path) -> Job:
    callback = ""
    minimax = video.account.kind == ProviderAccount.Kind.MINIMAX
    if settings.PUBLIC_URL and video.callback_token and minimax:
        callback = f"{settings.PUBLIC_URL}/hooks/minimax/{video.callback_token}/"
    return Job(
        video_id=video.pk,
        prompt=video.prompt,
        prompt_optimization=video.prompt_optimization,
        image_path=_copy_image(video.image, workdir, "first") if video.image else None,
        last_image_path=(
            _copy_image(video.last_image, workdir, "last") if video.last_image else None
        ),
        model=video.model,
        resolution=video.resolution,
        duration=video.requested_duration,
        callback_url=callback,
    )


def _copy_image(image: PromptImage, workdir: Path, stem: str) -> Path:
    target = workdir / f"{stem}-frame.{image.file.name.rsplit('.', 1)[-1]}"
    with image.file.open("rb") as src, target.open("wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    return target


def video_send(*, video_id: int, attempt: int) -> None:
    """Sends a claimed video's create upstream. The claim (status SUBMITTING, this attempt) was
    committed first: that is the recorded intent a crash leaves behind for `video_reconcile`."""
    video = (
        Video.objects.select_related("account", "image", "last_image")
        .filter(pk=video_id, attempts=attempt, status=Status.SUBMITTING, next_poll_at=None)
        .first()
    )
    if video is None:
        return
    account = video.account
    try:
        with tempfile.TemporaryDirectory(prefix=f"send-{video_id}-") as tmp:
            upstream_id = provider_for(account).submit(_job(video, Path(tmp)))
    except InDoubt as exc:
        _owned(video_id, attempt, Status.SUBMITTING).update(
            next_poll_at=timezone.now(), message=f"Checking whether it arrived: {exc}"[:200]
        )
        _account_error(account, str(exc))
        return
    except ProviderError as exc:
        _send_failed(video, attempt, exc)
        return
    except DB_OUTAGE:
        raise  # not the video's fault: the claim stays, and reconciling finds out what happened
    except Exception as exc:  # a bug must not leave the video stuck in "submitting"
        log.exception("Sending video %s failed", video_id)
        _send_failed(video, attempt, ProviderError(f"Sending failed unexpectedly: {exc}"))
        return
    _started(video_id, attempt, upstream_id, account)


def _started(video_id: int, attempt: int, upstream_id: str, account: ProviderAccount) -> bool:
    started = _owned(video_id, attempt, Status.SUBMITTING).update(
        status=Status.PENDING,
        upstream_id=upstream_id,
        next_poll_at=timezone.now() + timedelta(seconds=settings.POLL_SECONDS),
        heartbeat_at=timezone.now(),
        percent=2,
        message=f"Sent to {account.name}",
    )
    if not started:
        # Cancelled while the create was in flight: keep the id so the record is complete.
        Video.objects.filter(pk=video_id, upstream_id="").update(upstream_id=upstream_id)
    return bool(started)


def _send_failed(video: Video, attempt: int, exc: ProviderError) -> None:
    account = video.account
    mine = _owned(video.pk, attempt)
    if isinstance(exc, RateLimited):
        _account_pause(account, exc.seconds, f"Rate limited: {exc}")
        mine.update(**_requeue(f"Waiting: {account.name} asked us to slow down"))
    elif isinstance(exc, AccountPaused):
        _account_pause(account, exc.seconds, str(exc))
        mine.update(**_requeue(f"Back in the queue: {exc}"))
    elif isinstance(exc, AccountRejected):
        account_disable(account=account, reason=str(exc))
        mine.update(**_requeue(f"Back in the queue: {account.name} was disabled"))
    elif exc.moderated:
        mine.update(**_final(Status.MODERATED, str(exc)))
    elif exc.permanent:
        mine.update(**_final(Status.FAILED, str(exc)))
    else:
        _account_error(account, str(exc))
        _retry_or_fail(video, attempt, str(exc))


def _retry_or_fail(video: Video, attempt: int, error: str) -> None:
    failures = video.failures + 1
    if failures >= settings.MAX_VIDEO_ATTEMPTS:
        _owned(video.pk, attempt).update(
            **_final(Status.FAILED, f"Gave up after {failures} tries: {error}", failures=failures)
        )
        return
    delay = settings.RETRY_BASE_SECONDS * 2 ** (failures - 1)
    _owned(video.pk, attempt).update(
        **_requeue(f"Retrying in {delay:.0f} s after: {error}", failed=True, retry_in=delay)
    )


def video_reconcile(*, video_id: int, attempt: int) -> None:
    """A create whose answer was lost (a timeout, a dropped connection, a worker killed
    mid-send): find it upstream, or send it again only when it surely never arrived."""
    video = (
        Video.objects.select_related("account")
        .filter(pk=video_id, attempts=attempt, status=Status.SUBMITTING, upstream_id="")
        .first()
    )
    if video is None:
        return
    account = video.account
    provider = provider_for(account)
    if provider.can_find:
        known = set(
            Video.objects.filter(account=account)
            .exclude(upstream_id="")
            .order_by("-id")
            .values_list("upstream_id", flat=True)[:500]
        )
        try:
            with tempfile.TemporaryDirectory() as tmp:
                found = provider.find(_job(video, Path(tmp)), known_ids=known)
        except ProviderError as exc:
            _owned(video_id, attempt, Status.SUBMITTING).update(
                next_poll_at=timezone.now() + timedelta(seconds=settings.POLL_SECONDS * 2),
                message=f"Still checking whether it arrived: {exc}"[:200],
            )
            return
        if found:
            _started(video_id, attempt, found, account)
        else:
            _owned(video_id, attempt, Status.SUBMITTING).update(
                **_requeue("Sent again: the upstream never received it")
            )
        return
    # MiniMax v1 cannot list tasks. With a callback URL, MiniMax sends the challenge before it
    # accepts a create, then a push with the task id: no challenge means it never arrived.
    waited = (timezone.now() - (video.heartbeat_at or timezone.now())).total_seconds()
    if video.callback_token and settings.PUBLIC_URL:
        if video.upstream_seen_at is None and waited >= settings.CALLBACK_GRACE_SECONDS:
            _owned(video_id, attempt, Status.SUBMITTING).update(
                **_requeue("Sent again: MiniMax never received it")
            )
        elif waited >= settings.IN_DOUBT_GIVE_UP_SECONDS:
            _owned(video_id, attempt, Status.SUBMITTING).update(
                **_final(
                    Status.FAILED,
                    "MiniMax received this video but its answer was lost and no status followed. "
                    "It was not sent again, so you are not charged twice; try again if it does "
                    "not appear in MiniMax's console.",
                )
            )
        else:
            _owned(video_id, attempt, Status.SUBMITTING).update(
                next_poll_at=timezone.now() + timedelta(seconds=1)
            )
        return
    # No way to know: resend, but say so on the card rather than doubling silently.
    _owned(video_id, attempt, Status.SUBMITTING).update(
        **_requeue("Sent again after MiniMax's answer was lost; it may have started twice")
    )


def video_callback(*, token: str, payload: dict) -> dict | None:
    """MiniMax's callback (reference §3): answer the challenge; on a push, poll at once.

    The push is never trusted by itself: it only makes the next poll due now, and the poll asks
    MiniMax with the account's key. A push for a create whose answer was lost records its task
    id, which the same poll then confirms. None means the token is unknown.
    """
    video = Video.objects.filter(callback_token=token).exclude(callback_token="").first()
    if video is None:
        return None
    if "challenge" in payload:
        Video.objects.filter(pk=video.pk, upstream_seen_at=None).update(
            upstream_seen_at=timezone.now()
        )
        return {"challenge": payload["challenge"]}
    task_id = str(payload.get("task_id") or "")
    now = timezone.now()
    if task_id and video.status == Status.SUBMITTING and not video.upstream_id:
        Video.objects.filter(pk=video.pk, attempts=video.attempts, upstream_id="").update(
            status=Status.PENDING, upstream_id=task_id, next_poll_at=now, heartbeat_at=now
        )
    elif task_id and task_id == video.upstream_id:
        Video.objects.filter(
            pk=video.pk, status__in=Video.RUNNING, upstream_finished_at=None
        ).update(next_poll_at=now)
    return {"status": "success"}


def video_poll(*, video_id: int, attempt: int) -> None:
    video = (
        Video.objects.select_related("account")
        .filter(pk=video_id, attempts=attempt, upstream_finished_at=None)
        .filter(status__in=(Status.PENDING, Status.PROCESSING))
        .first()
    )
    if video is None:
        return
    account = video.account
    _record_call(account, UpstreamCall.Kind.QUERY)
    try:
        progress = provider_for(account).poll(video.upstream_id)
    except ProviderError as exc:
        _poll_failed(video, attempt, exc)
        return
    now = timezone.now()
    mine = _owned(video_id, attempt, Status.PENDING, Status.PROCESSING).filter(
        upstream_finished_at=None
    )
    if not progress.final:
        mine.update(
            status=Status.PROCESSING if progress.state == "processing" else Status.PENDING,
            percent=_estimate(video, progress),
            message=progress.message[:200],
            heartbeat_at=now,
            poll_failures=0,
            next_poll_at=now + timedelta(seconds=_poll_interval(video)),
        )
        return
    if progress.state == "success":
        # The upstream slot is free from this moment: fill it before the download starts.
        won = mine.update(
            status=Status.PROCESSING,
            upstream_finished_at=now,
            upstream_file=progress.file_ref,
            width=progress.width,
            height=progress.height,
            percent=99,
            message="Downloading the result",
            heartbeat_at=now,
            # Due at once: the loop hands the download to its own pool, so a slow download
            # never delays another video's poll.
            next_poll_at=now,
        )
        if won:
            account_fill(account_id=account.pk)
        return
    status = Status.MODERATED if progress.state == "moderated" else Status.FAILED
    if mine.update(**_final(status, progress.message or "The upstream could not make it")):
        account_fill(account_id=account.pk)


def _poll_interval(video: Video) -> float:
    # MiniMax answered this attempt's callback challenge, so its pushes reach us and make the
    # next poll due at once: polling is only the safety net, and can be much rarer.
    if video.upstream_seen_at is not None and settings.PUBLIC_URL:
        return settings.POLL_SECONDS * settings.POLL_SLOWDOWN_WITH_CALLBACKS
    return settings.POLL_SECONDS


def _estimate(video: Video, progress: Progress) -> int:
    # MiniMax reports a state, not a percentage: estimate from the time taken so far.
    elapsed = (timezone.now() - (video.submitted_at or timezone.now())).total_seconds()
    guess = int(90 * elapsed / settings.EXPECTED_UPSTREAM_SECONDS)
    if progress.state != "processing":
        guess = 0
    return max(2, min(95, max(progress.percent, guess)))


def _poll_failed(video: Video, attempt: int, exc: ProviderError) -> None:
    account = video.account
    mine = _owned(video.pk, attempt, Status.PENDING, Status.PROCESSING)
    if isinstance(exc, RateLimited | AccountPaused):
        _account_pause(account, exc.seconds, str(exc))
        delay = exc.seconds
    elif isinstance(exc, AccountRejected):
        # The video is already upstream: keep asking (an admin may fix the key) but do not spin.
        account_disable(account=account, reason=str(exc))
        delay = 60.0
    else:
        _account_error(account, str(exc))
        failures = video.poll_failures + 1
        if failures > settings.MAX_POLL_FAILURES:
            mine.update(**_final(Status.FAILED, f"Lost track of the video upstream: {exc}"))
            account_fill(account_id=account.pk)
            return
        delay = min(300.0, settings.POLL_SECONDS * 2**failures)
    mine.update(
        poll_failures=F("poll_failures") + 1,
        next_poll_at=timezone.now() + timedelta(seconds=delay),
        message=f"Upstream trouble, checking again in {delay:.0f} s"[:200],
    )


def video_fetch(*, video_id: int, attempt: int) -> None:
    """Downloads a finished video into storage (streamed), with a poster frame. The URL is minted
    afresh each time, so a retry after an expired link or a killed worker just works."""
    video = (
        Video.objects.select_related("account")
        .filter(pk=video_id, attempts=attempt, status=Status.PROCESSING)
        .exclude(upstream_finished_at=None)
        .first()
    )
    if video is None:
        return
    account = video.account
    _record_call(account, UpstreamCall.Kind.DOWNLOAD)
    try:
        with tempfile.TemporaryDirectory(prefix=f"fetch-{video_id}-") as tmp:
            workdir = Path(tmp)
            provider = provider_for(account)
            path = provider.fetch(video.upstream_id, video.upstream_file, workdir=workdir)
            info = media.probe(path, poster=workdir / "poster.jpg")
            file_name = _store(path, _upload_name(video, "mp4"))
            poster_name = _store(info.poster, _upload_name(video, "jpg"))
    except ProviderError as exc:
        _fetch_failed(video, attempt, str(exc))
        return
    except media.NotAVideo as exc:
        _fetch_failed(video, attempt, f"The upstream sent a file that is not a video: {exc}")
        return
    done = _owned(video_id, attempt, Status.PROCESSING).update(
        **_completed(file_name, poster_name, info.width, info.height, info.duration)
    )
    if not done:
        default_storage.delete(file_name)
        default_storage.delete(poster_name)


def _completed(file_name: str, poster_name: str, width: int, height: int, duration: float) -> dict:
    return _final(
        Status.COMPLETED,
        percent=100,
        file=file_name,
        poster=poster_name,
        width=width,
        height=height,
        duration=duration,
        file_bytes=default_storage.size(file_name),
    )


def _fetch_failed(video: Video, attempt: int, error: str) -> None:
    failures = video.fetch_failures + 1
    mine = _owned(video.pk, attempt, Status.PROCESSING)
    if failures >= settings.MAX_FETCH_FAILURES:
        mine.update(
            **_final(
                Status.FAILED,
                f"The video was made, but downloading it failed {failures} times: {error}",
                fetch_failures=failures,
            )
        )
        return
    delay = settings.RETRY_BASE_SECONDS * 2 ** (failures - 1)
    mine.update(
        fetch_failures=failures,
        next_poll_at=timezone.now() + timedelta(seconds=delay),
        message=f"Download failed, trying again with a fresh link in {delay:.0f} s",
    )


def _store(path: Path, name: str) -> str:
    """Streams a result file into storage in chunks; it is never read whole into memory."""
    with path.open("rb") as fh:
        return default_storage.save(name, File(fh, name=name))


def _upload_name(video: Video, ext: str) -> str:
    return Video._meta.get_field("file").generate_filename(video, f"result.{ext}")


def result_name(*, team_id: int, video_id: int, attempt: int, ext: str) -> str:
    """Where a local render's attempt stores its result: unguessable, as upload names are, but
    derived, so whoever hands back a dead worker's attempt can delete what it stored before it
    died. Only one run per attempt gets past video_run's claim, so no other run writes here."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"result:{video_id}:{attempt}:{ext}".encode(), hashlib.sha256)
    return f"videos/team-{team_id}/{digest.hexdigest()[:32]}.{ext}"


def _result_names(*, team_id: int, video_id: int, attempt: int) -> dict[str, str]:
    return {
        ext: result_name(team_id=team_id, video_id=video_id, attempt=attempt, ext=ext)
        for ext in ("mp4", "jpg")
    }


def _discard_results(*, team_id: int, video_id: int, attempt: int) -> None:
    for name in _result_names(team_id=team_id, video_id=video_id, attempt=attempt).values():
        default_storage.delete(name)


# Local renders: one worker holds the video from start to stored file


class _TakenBack(Exception):
    """The video was cancelled or reassigned while this worker was rendering it."""


def video_run(*, video_id: int, attempt: int) -> None:
    """Renders one dispatched local video and stores the result. Safe to run twice: only the
    worker holding the current attempt gets past the claim."""
    # SUBMITTING -> PROCESSING happens once per attempt: a second delivery of the task (its
    # lease ran out, or was released after a restart) finds nothing to claim. A worker that
    # died mid-render gets its video handed back as a new attempt, never resumed.
    claimed = Video.objects.filter(pk=video_id, attempts=attempt, status=Status.SUBMITTING).update(
        status=Status.PROCESSING, heartbeat_at=timezone.now(), message="Starting"
    )
    if not claimed:
        return
    video = Video.objects.select_related("account", "image", "last_image").get(pk=video_id)
    try:
        _render_and_store(video, attempt)
    except _TakenBack:
        log.info("Video %s was cancelled or taken back during rendering", video_id)
    except DB_OUTAGE as exc:
        # The database went away for longer than the render could wait: not the video's fault.
        log.warning("Video %s: the database went away (%s); handing it back", video_id, exc)
        _when_db_returns(lambda: video_hand_back(video_id=video_id, attempt=attempt))
    except ProviderError as exc:
        mine = _owned(video_id, attempt, Status.PROCESSING)
        if exc.permanent:
            mine.update(**_final(Status.MODERATED if exc.moderated else Status.FAILED, str(exc)))
        else:
            _retry_or_fail(video, attempt, str(exc))
    except Exception as exc:
        log.exception("Rendering video %s failed", video_id)
        _retry_or_fail(video, attempt, f"The renderer failed: {exc}")
    videos_dispatch()


class _Heartbeat(threading.Thread):
    """Writes a render's progress and heartbeat every HEARTBEAT_SECONDS from its own thread, so
    a renderer step that reports nothing for a while (an encode, a slow upload to storage) never
    looks dead, and a database restart is a pause here rather than an error in the render."""

    def __init__(self, video_id: int, attempt: int):
        super().__init__(name=f"heartbeat-{video_id}", daemon=True)
        self.video_id, self.attempt = video_id, attempt
        self.percent, self.message = 0, "Starting"
        self.lost = False  # cancelled or taken back: the render should stop
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.is_set():
                self.beat()
                self.done.wait(settings.HEARTBEAT_SECONDS)
        finally:
            connection.close()  # this thread's own connection

    def beat(self) -> None:
        try:
            updated = _owned(self.video_id, self.attempt, Status.PROCESSING).update(
                percent=self.percent, message=self.message[:200], heartbeat_at=timezone.now()
            )
        except DB_OUTAGE as exc:
            log.warning("Video %s: heartbeat missed (%s)", self.video_id, exc)
            connection.close()  # reconnect at the next beat
            return
        self.lost = self.lost or not updated


def _render_and_store(video: Video, attempt: int) -> None:
    provider = provider_for(video.account)
    heartbeat = _Heartbeat(video.pk, attempt)

    def on_progress(percent: int, message: str) -> None:
        if heartbeat.lost:
            raise _TakenBack
        heartbeat.percent, heartbeat.message = max(0, min(percent, 99)), message

    heartbeat.start()
    try:
        with tempfile.TemporaryDirectory(prefix=f"video-{video.pk}-") as tmp:
            workdir = Path(tmp)
            result = provider.render(_job(video, workdir), workdir=workdir, on_progress=on_progress)
            on_progress(99, "Saving")
            names = _result_names(team_id=video.team_id, video_id=video.pk, attempt=attempt)
            file_name = _store(result.video_path, names["mp4"])
            poster_name = _store(result.poster_path, names["jpg"])
    finally:
        heartbeat.done.set()
        heartbeat.join()
    finished = 0
    try:
        done = _completed(file_name, poster_name, result.width, result.height, result.duration)
        finished = _when_db_returns(
            lambda: _owned(video.pk, attempt, Status.PROCESSING).update(**done)
        )
    finally:
        if not finished:  # taken back, cancelled, or the database never came back
            default_storage.delete(file_name)
            default_storage.delete(poster_name)
    if not finished:
        raise _TakenBack


def _when_db_returns(write: Callable[[], int], *, patience: float = 60.0) -> int:
    """Runs a short write, retrying while the database is away (a restart takes seconds), so
    finished work is not thrown away for a blip. Gives up after `patience` seconds."""
    deadline = time.monotonic() + patience
    pause = 0.5
    while True:
        try:
            return write()
        except DB_OUTAGE:
            if time.monotonic() + pause > deadline:
                raise
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


# Accounts


def _record_call(account: ProviderAccount, kind: str) -> None:
    UpstreamCall.objects.create(account=account, kind=kind, at=timezone.now())


def _account_pause(account: ProviderAccount, seconds: float, reason: str) -> None:
    until = timezone.now() + timedelta(seconds=seconds)
    ProviderAccount.objects.filter(pk=account.pk).filter(
        Q(paused_until=None) | Q(paused_until__lt=until)
    ).update(paused_until=until, pause_reason=reason[:200])
    _account_error(account, reason)


def _account_error(account: ProviderAccount, error: str) -> None:
    ProviderAccount.objects.filter(pk=account.pk).update(
        last_error=error[:1000], last_error_at=timezone.now()
    )


def account_disable(*, account: ProviderAccount, reason: str) -> None:
    """Stops new work on an account an admin must fix; its queued work goes to other accounts."""
    ProviderAccount.objects.filter(pk=account.pk).update(
        enabled=False, last_error=reason[:1000], last_error_at=timezone.now()
    )


# The scheduler loop


def scheduler_ensure() -> bool:
    """Starts the loop if remote work exists and nobody holds the lease. Cheap; call it often."""
    lease = SchedulerLease.objects.filter(name=LEASE).first()
    if lease is not None and lease.expires_at > timezone.now():
        return False
    if not _remote_work_exists():
        return False
    async_task("videos.tasks.scheduler_loop", task_name="scheduler loop")
    return True


def _remote_work_exists() -> bool:
    remote = ProviderAccount.objects.exclude(kind=ProviderAccount.Kind.LOCAL)
    if (
        not remote.filter(enabled=True).exists()
        and not Video.objects.filter(status__in=Video.RUNNING, account__in=remote).exists()
    ):
        return False
    return Video.objects.filter(
        Q(status=Status.QUEUED) | Q(status__in=Video.RUNNING, account__in=remote)
    ).exists()


def _lease(owner: str) -> bool:
    now = timezone.now()
    expires = now + timedelta(seconds=settings.SCHEDULER_LEASE_SECONDS)
    SchedulerLease.objects.get_or_create(name=LEASE, defaults={"expires_at": now})
    # Taken when free or expired, renewed by its holder: one loop runs at a time.
    return bool(
        SchedulerLease.objects.filter(name=LEASE)
        .filter(Q(expires_at__lte=now) | Q(owner=owner))
        .update(owner=owner, expires_at=expires)
    )


def scheduler_loop(*, seconds: float | None = None) -> None:
    """Runs the loop for a while, then hands over to a fresh task, so no worker is held for
    longer than django-q2's timeout and a dead loop is replaced when its lease runs out."""
    owner = uuid.uuid4().hex
    if not _lease(owner):
        return
    run_for = seconds if seconds is not None else settings.SCHEDULER_RUN_SECONDS
    deadline = time.monotonic() + run_for
    last_reap = last_collect = 0.0
    try:
        with (
            ThreadPoolExecutor(settings.SCHEDULER_THREADS, thread_name_prefix="poll") as pool,
            ThreadPoolExecutor(
                settings.SCHEDULER_THREADS // 2 or 1, thread_name_prefix="fetch"
            ) as fetches,
        ):

            def spawn(fn, **kwargs):
                (fetches if fn is video_fetch else pool).submit(_in_thread, fn, **kwargs)

            while time.monotonic() < deadline:
                try:
                    if not _lease(owner):
                        break
                    if time.monotonic() - last_reap > settings.WORKER_WATCH_SECONDS:
                        videos_reap()
                        UpstreamCall.objects.filter(
                            at__lt=timezone.now() - timedelta(hours=1)
                        ).delete()
                        last_reap = time.monotonic()
                    _due(spawn)
                    if time.monotonic() - last_collect > 0.5:
                        hooks.run(hooks.videos_changed)
                        last_collect = time.monotonic()
                    for account_id in _accounts_with_room():
                        account_fill(
                            account_id=account_id,
                            send=lambda v, a: spawn(video_send, video_id=v, attempt=a),
                        )
                    if not _remote_work_exists():
                        break
                    time.sleep(_until_next_due())
                except DB_OUTAGE as exc:
                    # A database restart: drop the dead connection and carry on once it is
                    # back, rather than ending the loop (and its lease) on a blip.
                    log.warning("Scheduler loop: the database went away (%s)", exc)
                    connection.close()
                    time.sleep(1.0)
        # The pools are done: the last downloads have stored their videos, which may owe
        # callbacks the loop would otherwise leave to the minute's dispatch.
        hooks.run(hooks.videos_changed)
    finally:
        SchedulerLease.objects.filter(name=LEASE, owner=owner).update(expires_at=timezone.now())
        close_old_connections()
        gc.collect()  # the pool threads are gone; their connections close with them
    if _remote_work_exists():
        scheduler_ensure()


def _due(spawn) -> None:
    """Claims the remote videos whose next step is due and hands each to the pool."""
    now = timezone.now()
    due = (
        Video.objects.filter(next_poll_at__lte=now, status__in=Video.RUNNING)
        .order_by("next_poll_at")
        .values_list("id", "attempts", "status", "next_poll_at", "upstream_finished_at")[:200]
    )
    for video_id, attempt, status, when, finished in due:
        # Claimed by moving next_poll_at on: a second loop (or this one, next tick) skips it
        # while the step runs; a step killed mid-way is due again when the claim runs out.
        hold = settings.FETCH_CLAIM_SECONDS if finished else settings.POLL_CLAIM_SECONDS
        if not Video.objects.filter(pk=video_id, next_poll_at=when).update(
            next_poll_at=now + timedelta(seconds=hold)
        ):
            continue
        if status == Status.SUBMITTING:
            spawn(video_reconcile, video_id=video_id, attempt=attempt)
        elif finished:
            spawn(video_fetch, video_id=video_id, attempt=attempt)
        else:
            spawn(video_poll, video_id=video_id, attempt=attempt)


def _until_next_due() -> float:
    """Sleeps until the next poll is due rather than a fixed tick, so a 5 s poll lands at 5 s
    and not somewhere in the tick after it; capped so new work is noticed within a tick."""
    tick = settings.SCHEDULER_TICK_SECONDS
    soonest = (
        Video.objects.filter(next_poll_at__isnull=False, status__in=Video.RUNNING)
        .order_by("next_poll_at")
        .values_list("next_poll_at", flat=True)
        .first()
    )
    if soonest is None:
        return tick
    return min(tick, max(0.005, (soonest - timezone.now()).total_seconds()))


def _in_thread(fn, **kwargs) -> None:
    # Pool threads keep their database connection between steps (reconnecting to PostgreSQL
    # for every poll costs more than the poll); one that failed is closed and made afresh.
    try:
        fn(**kwargs)
    except Exception:
        log.exception("Scheduler step %s(%s) failed", fn.__name__, kwargs)
        connections.close_all()
