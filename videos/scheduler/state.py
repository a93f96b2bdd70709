"""How whoever holds a claim changes its video: one conditional write to the video and its
attempt, and the shapes every step ends in (back to the queue, final, completed).

A claim is the pair (video, attempt): the video row points at the attempt it runs. Every write
is conditional on the video still pointing at the claimed attempt and being in the expected
status, so a worker that lost its claim (cancelled, taken back, claimed again) cannot overwrite
the winner. The video row is written (or locked) first, then the attempt row, always in that
order and in one transaction, so two writers never deadlock and never see half a step.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from studio import conf
from studio.lib import metrics
from videos.models import Attempt, Video

Status = Video.Status
Outcome = Attempt.Outcome
# The database went away (a restart, a dropped connection): the infrastructure's fault, never
# the video's, so it never costs a try.
DB_OUTAGE = (OperationalError, InterfaceError)


@dataclass
class Change:
    """What one step writes: to the video (what the team sees) and to its attempt."""

    video: dict = field(default_factory=dict)
    attempt: dict = field(default_factory=dict)


def owned(video_id: int, attempt: int, *statuses: str):
    """The video, while it still runs `attempt` in one of `statuses` (any running one)."""
    return Video.objects.filter(
        pk=video_id, attempt_id=attempt, status__in=statuses or Video.RUNNING
    )


def write(
    video_id: int,
    attempt: int,
    change: Change,
    *statuses: str,
    video_where: dict | None = None,
    attempt_where: dict | None = None,
) -> int:
    """Applies `change` if the claim still holds (and the extra conditions match); 1 if it did.

    The video's conditional UPDATE (or, with nothing to write there, its row lock) comes first:
    on PostgreSQL it waits for a concurrent cancel or claim to commit and then re-checks the
    condition on the new row. A condition on the attempt that no longer matches undoes the
    video's half, so the step is all or nothing."""
    with transaction.atomic():
        mine = owned(video_id, attempt, *statuses).filter(**(video_where or {}))
        if change.video:
            won = mine.update(**change.video)
        else:
            # NO KEY (see NO_KEY in videos/services/submit.py): new Attempts' foreign-key
            # checks on this video must not wait for it.
            won = len(mine.select_for_update(no_key=True).values_list("pk", flat=True))
        if not won:
            return 0
        if change.attempt or attempt_where:
            done = Attempt.objects.filter(pk=attempt, **(attempt_where or {})).update(
                **(change.attempt or {"outcome": F("outcome")})
            )
            if not done:
                transaction.set_rollback(True)
                return 0
    if "finished_at" in change.attempt:
        _observe_end(attempt)
    return won


def _observe_end(attempt: int) -> None:
    """The attempt ended: how long it ran on its account goes into studio_video_render_seconds
    (one small read, once per attempt; an attempt that never started is not a render)."""
    row = (
        Attempt.objects.filter(pk=attempt, started_at__isnull=False)
        .values("started_at", "finished_at", "outcome", "account__kind")
        .first()
    )
    if row and row["finished_at"]:
        seconds = (row["finished_at"] - row["started_at"]).total_seconds()
        metrics.VIDEO_SECONDS.labels(
            kind=row["account__kind"] or "removed", outcome=row["outcome"] or "ended"
        ).observe(max(0.0, seconds))


def requeue(message: str, *, failed: bool = False, retry_in: float = 0) -> Change:
    """Back to the queue: the attempt ends and the video points at none (no account)."""
    now = timezone.now()
    video = {
        "status": Status.QUEUED,
        "attempt": None,
        "percent": 0,
        "message": message[:200],
        "retry_at": now + timedelta(seconds=retry_in) if retry_in else None,
    }
    if failed:
        video["failures"] = F("failures") + 1
    attempt = {
        "outcome": Outcome.RETRIED if failed else Outcome.REQUEUED,
        "error": message,
        "finished_at": now,
        "next_poll_at": None,
    }
    return Change(video, attempt)


def final(status: str, error: str = "", *, attempt: dict | None = None, **video) -> Change:
    """The video ended; so did its attempt, with the same outcome."""
    now = timezone.now()
    return Change(
        {"status": status, "error": error, "message": "", "finished_at": now, **video},
        {
            "outcome": status,
            "error": error,
            "finished_at": now,
            "next_poll_at": None,
            **(attempt or {}),
        },
    )


def retry_or_fail(video: Video, attempt: int, error: str) -> None:
    """A failure that is the video's (the upstream or the renderer refused it): retried with
    backoff, and failed for good at MAX_VIDEO_ATTEMPTS."""
    failures = video.failures + 1
    if failures >= conf.MAX_VIDEO_ATTEMPTS:
        write(
            video.pk,
            attempt,
            final(Status.FAILED, f"Gave up after {failures} tries: {error}", failures=failures),
        )
        return
    delay = conf.RETRY_BASE_SECONDS * 2 ** (failures - 1)
    write(
        video.pk,
        attempt,
        requeue(f"Retrying in {delay:.0f} s after: {error}", failed=True, retry_in=delay),
    )


def video_complete(
    *,
    video_id: int,
    attempt: int,
    file_name: str,
    poster_name: str,
    width: int,
    height: int,
    duration: float,
    patience: float = 0,
) -> bool:
    """Records stored result files as the video's, or deletes them when the attempt lost its
    claim (taken back, cancelled) or the database did not come back within `patience`."""
    done = 0
    try:
        change = final(
            Status.COMPLETED,
            percent=100,
            file=file_name,
            poster=poster_name,
            width=width,
            height=height,
            duration=duration,
            file_bytes=default_storage.size(file_name),
        )

        def record() -> int:
            return write(video_id, attempt, change, Status.PROCESSING)

        done = when_db_returns(record, patience=patience) if patience else record()
    finally:
        if not done:
            default_storage.delete(file_name)
            default_storage.delete(poster_name)
    return bool(done)


def when_db_returns(write: Callable[[], int], *, patience: float = 60.0) -> int:
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
