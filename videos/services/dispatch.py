"""Asking workers to hand queued videos to free slots, and the periodic dispatch."""

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from videos.models import DispatchFlag

DISPATCH_FLAG = "dispatch"


# A flag older than this is presumed lost (its task died before starting) and is replaced.
DISPATCH_FLAG_SECONDS = 30


def dispatch_request(*, reason: str) -> None:
    """Asks a worker to hand queued videos to free slots; call inside the writing transaction.

    A burst of submits (a script creating 100 videos) shares one dispatch task instead of
    queueing 100 in front of everything else. While a requested dispatch has not started, later
    requests only touch its flag row. On PostgreSQL that UPDATE holds the row lock until the
    caller commits, and the dispatch clears the flag (waiting on that lock) before it reads the
    queue, so it cannot miss the caller's video; SQLite serialises the two anyway.
    """
    now = timezone.now()
    fresh = now - timedelta(seconds=DISPATCH_FLAG_SECONDS)
    # A no-op UPDATE on purpose: it takes the flag's row lock (see above) and says whether a
    # requested dispatch is still waiting to start. In a burst that is all a submit does here.
    waiting = DispatchFlag.objects.filter(name=DISPATCH_FLAG, pending=True)
    if waiting.filter(requested_at__gt=fresh).update(pending=True):
        return
    DispatchFlag.objects.get_or_create(name=DISPATCH_FLAG, defaults={"requested_at": now})
    DispatchFlag.objects.filter(name=DISPATCH_FLAG).update(pending=True, requested_at=now)
    async_task("videos.tasks.dispatch", task_name=reason[:100])


def dispatch_started() -> None:
    """The dispatch task's first step: from now on, new requests need a new task."""
    DispatchFlag.objects.filter(name=DISPATCH_FLAG).update(pending=False)


DISPATCH_SCHEDULE = "studio: dispatch and take back stale videos"
# Also made by migration 0013 (an upgrade that never runs `bootstrap` still gets it).
TRASH_SCHEDULE = "studio: purge the Trash"


def schedules_ensure() -> None:
    """The periodic tasks. The safety net (also made by migration 0002): each minute, dispatch
    and take back videos from dead workers. Submissions and finished videos dispatch at once;
    this catches a worker killed mid-render, or a backlog left by a restart."""
    Schedule.objects.update_or_create(
        name=DISPATCH_SCHEDULE,
        defaults={
            "func": "videos.tasks.dispatch",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    # Hourly, so a video leaves the Trash within the hour it is due (conf.TRASH_DAYS); the
    # query finds nothing most hours.
    Schedule.objects.update_or_create(
        name=TRASH_SCHEDULE,
        defaults={
            "func": "videos.tasks.trash_purge",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )
