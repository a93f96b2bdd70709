"""The scheduler loop: one django-q2 task at a time holds its lease, ticks several times a
second, runs the remote steps that are due on a small thread pool, and fills free slots. It
hands itself on to a fresh task before django-q2's timeout; a dead loop is replaced once its
lease runs out. Also the dispatch pass the dispatch task and finished renders run."""

import gc
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.db import close_old_connections, connection, connections
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from studio import conf
from videos import hooks
from videos.models import Attempt, ProviderAccount, SchedulerLease, Video
from videos.scheduler.accounts import calls_prune
from videos.scheduler.claims import accounts_with_room, videos_reap
from videos.scheduler.remote import (
    account_fill,
    video_fetch,
    video_poll,
    video_reconcile,
    video_send,
)
from videos.scheduler.state import DB_OUTAGE

log = logging.getLogger(__name__)
Status = Video.Status
LEASE = "scheduler"


def videos_dispatch(*, send=None) -> list[int]:
    """Starts as many queued videos as the enabled accounts have free slots (and rate) for.

    Takes back stale videos first, so a dead worker's slot is reused in the same pass.
    Returns the ids of the videos started.
    """
    videos_reap()
    started: list[int] = []
    for account_id in accounts_with_room():
        started += account_fill(account_id=account_id, send=send)
    # Videos that just ended (a render, a cancel, a reaped worker) may owe a replyUrl callback.
    hooks.run(hooks.videos_changed)
    return started


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
    on_remote = Q(status__in=Video.RUNNING, attempt__account__in=remote)
    if not remote.filter(enabled=True).exists() and not Video.objects.filter(on_remote).exists():
        return False
    return Video.objects.filter(Q(status=Status.QUEUED) | on_remote).exists()


def _lease(owner: str) -> bool:
    now = timezone.now()
    expires = now + timedelta(seconds=conf.SCHEDULER_LEASE_SECONDS)
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
    run_for = seconds if seconds is not None else conf.SCHEDULER_RUN_SECONDS
    deadline = time.monotonic() + run_for
    last_reap = last_collect = 0.0
    try:
        with (
            ThreadPoolExecutor(conf.SCHEDULER_THREADS, thread_name_prefix="poll") as pool,
            ThreadPoolExecutor(
                conf.SCHEDULER_THREADS // 2 or 1, thread_name_prefix="fetch"
            ) as fetches,
        ):

            def spawn(fn, **kwargs):
                (fetches if fn is video_fetch else pool).submit(_in_thread, fn, **kwargs)

            while time.monotonic() < deadline:
                try:
                    if not _lease(owner):
                        break
                    if time.monotonic() - last_reap > conf.WORKER_WATCH_SECONDS:
                        videos_reap()
                        calls_prune()
                        last_reap = time.monotonic()
                    _due(spawn)
                    if time.monotonic() - last_collect > 0.5:
                        hooks.run(hooks.videos_changed)
                        last_collect = time.monotonic()
                    for account_id in accounts_with_room():
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


def _due_attempts():
    """Current attempts of running videos with a step scheduled (the next_poll_at index)."""
    return Attempt.objects.filter(
        next_poll_at__isnull=False, current_of__status__in=Video.RUNNING
    ).order_by("next_poll_at")


def _due(spawn) -> None:
    """Claims the remote videos whose next step is due and hands each to the pool."""
    now = timezone.now()
    due = (
        _due_attempts()
        .filter(next_poll_at__lte=now)
        .values_list(
            "video_id", "pk", "current_of__status", "next_poll_at", "upstream_finished_at"
        )[:200]
    )
    for video_id, attempt, status, when, finished in due:
        # Claimed by moving next_poll_at on: a second loop (or this one, next tick) skips it
        # while the step runs; a step killed mid-way is due again when the claim runs out.
        hold = conf.FETCH_CLAIM_SECONDS if finished else conf.POLL_CLAIM_SECONDS
        if not Attempt.objects.filter(pk=attempt, next_poll_at=when).update(
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
    tick = conf.SCHEDULER_TICK_SECONDS
    soonest = _due_attempts().values_list("next_poll_at", flat=True).first()
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
