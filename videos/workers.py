"""The task cluster on this host: what its workers are doing, whether it is stuck, and handing
back what a killed worker or cluster left behind.

django-q2's workers share one multiprocessing queue. A worker waiting for a task holds the
queue's read lock while it blocks on the pipe, so one killed there (OOM, SIGKILL) leaves the lock
held for ever: every other worker, and each one the sentinel spawns to replace it, waits on that
lock, and tasks pile up in the queue while the cluster looks alive (django-q2 #23). Nothing
inside the cluster can see it; the sentinel's status and the workers' own records can:

- the sentinel saves its status every guard cycle (internal queue size, worker pids) to the
  per-host "workers" cache (Q_CLUSTER["cache"]);
- each worker records here when it spawns, starts a task and finishes one (django-q2's signals,
  connected in VideosConfig.ready());
- the pusher records which broker rows it leased (videos.broker).

A cluster is stuck when tasks wait in its queue while one of its workers sits idle through two
looks (`cluster_stuck`). Whatever restarts it (the supervisor in `runstudio`, or a process
manager behind `manage.py worker_liveness`), the first worker of the new cluster calls
`workers_recover`: the dead workers' renders go back to the queue without costing a try, and the
dead cluster's leased tasks become visible to the broker at once instead of after `retry`.

The records are small JSON files under WORKER_STATE_DIR, one per process, written atomically;
they are local to the host, as pids are.
"""

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import close_old_connections, connections
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import BadSignature, SignedPackage
from django_q.status import Stat

from studio import conf
from videos import scheduler, services
from videos.scheduler import DB_OUTAGE

log = logging.getLogger(__name__)
RUN_VIDEO = "videos.tasks.run_video"


# Records: one JSON file per process


def _records_dir() -> Path:
    path = Path(settings.WORKER_STATE_DIR) / "processes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(kind: str, pid: int, data: dict) -> None:
    folder = _records_dir()
    tmp = folder / f".{kind}-{pid}.tmp"
    tmp.write_text(json.dumps({"pid": pid, **data}))
    # os.replace is atomic: a reader sees the old record or the new one, never half of one.
    os.replace(tmp, folder / f"{kind}-{pid}.json")


def _read(kind: str) -> list[tuple[Path, dict]]:
    records = []
    for path in _records_dir().glob(f"{kind}-*.json"):
        try:
            records.append((path, json.loads(path.read_text())))
        except (OSError, ValueError):
            continue  # removed meanwhile by another process's recovery
    return records


def process_alive(pid: int) -> bool:
    """Whether `pid` runs: a zombie (killed, not yet reaped) counts as dead."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # The state letter follows the command name, which is in parentheses.
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


# What each worker is doing (django-q2 signal receivers: record, nothing else)


def worker_spawned(sender=None, **kwargs) -> None:
    _worker_record("idle")
    # The worker was forked from the sentinel, with the sentinel's database connection: closing
    # it here would end the sentinel's session too (psycopg skips that only on garbage
    # collection), so it is dropped and this process opens its own.
    for conn in connections.all(initialized_only=True):
        conn.connection = None
    # A worker that spawns may be replacing one that died, or be the first of a cluster that
    # replaced a killed one: hand back what they held before taking any task.
    try:
        workers_recover()
    except DB_OUTAGE as exc:
        log.warning("Could not recover dead workers' videos yet (database: %s)", exc)
    except Exception:  # a bug here must not crash every new worker in a loop
        log.exception("Recovering dead workers' videos failed")
    finally:
        close_old_connections()


def worker_task_started(sender=None, task=None, **kwargs) -> None:
    task = task or {}
    _worker_record(
        "busy",
        func=str(task.get("func", "")),
        args=list(task.get("args") or ()) if task.get("func") == RUN_VIDEO else [],
        name=str(task.get("name", "")),
    )


def worker_task_finished(sender=None, **kwargs) -> None:
    _worker_record("idle")


def _worker_record(state: str, **extra) -> None:
    try:
        record = {"sentinel": os.getppid(), "state": state, "since": time.time(), **extra}
        _write("worker", os.getpid(), record)
    except OSError as exc:  # a full disk must not stop the worker; the check just sees less
        log.warning("Could not record the worker's state: %s", exc)


def leases_record(leases: Iterable[tuple[int, datetime]]) -> None:
    """The pusher leased these broker rows (id, lock); kept while the lease runs."""
    pid, now = os.getpid(), timezone.now()
    path = _records_dir() / f"lease-{pid}.json"
    try:
        held = json.loads(path.read_text())["leases"]
    except (OSError, ValueError, KeyError):
        held = {}
    held = {k: v for k, v in held.items() if datetime.fromisoformat(v) > now}
    held.update({str(row_id): lock.isoformat() for row_id, lock in leases})
    _write("lease", pid, {"sentinel": os.getppid(), "leases": held})


# Recovery: what dead processes on this host left behind


@dataclass
class Recovered:
    videos: int = 0
    tasks: int = 0


def workers_recover() -> Recovered:
    """Hands back the renders of workers that died on this host (not a try: the video was not at
    fault) and releases the broker rows a dead cluster had leased. Idempotent: several new
    workers may run it at once, and every change is a conditional UPDATE."""
    done = Recovered()
    for path, record in _read("worker"):
        if process_alive(record["pid"]):
            continue
        if record.get("state") == "busy" and record.get("func") == RUN_VIDEO:
            video_id, attempt = record["args"][:2]
            done.videos += scheduler.video_hand_back(video_id=video_id, attempt=attempt)
        path.unlink(missing_ok=True)
    for path, record in _read("lease"):
        # A pusher that died inside a live cluster may have put its rows in the cluster's
        # queue already: those still run. Only a cluster that is gone has lost them.
        if process_alive(record["pid"]) or process_alive(record.get("sentinel", 0)):
            continue
        for row_id, lock in record.get("leases", {}).items():
            done.tasks += OrmQ.objects.filter(
                pk=int(row_id), lock=datetime.fromisoformat(lock)
            ).update(lock=timezone.now())
        path.unlink(missing_ok=True)
    if done.videos or done.tasks:
        log.warning(
            "Recovered from dead workers: %d video(s) handed back, %d task(s) released",
            done.videos,
            done.tasks,
        )
        services.dispatch_request(reason="worker recovery")
    return done


# Health: is a cluster on this host stuck?


@dataclass(frozen=True)
class ClusterView:
    pid: int  # the qcluster process
    sentinel: int
    queued: int  # tasks in the cluster's internal queue, taken from the broker, not yet started
    workers: tuple[int, ...]
    busy: int
    # (pid, idle since) of each idle worker: the same pair at two looks means idle throughout.
    idle: frozenset[tuple[int, float]]

    def describe(self) -> str:
        return (
            f"cluster {self.pid}: {len(self.workers)} workers, {self.busy} busy, "
            f"{self.queued} task(s) waiting in its queue"
        )


def clusters_seen() -> dict[int, ClusterView]:
    """The clusters on this host whose sentinel saved its status in the last few seconds."""
    states = {record["pid"]: record for _, record in _read("worker")}
    views = {}
    for stat in _stats():
        workers = tuple(stat.workers)
        mine = [states[pid] for pid in workers if pid in states]
        views[stat.pid] = ClusterView(
            pid=stat.pid,
            sentinel=stat.sentinel,
            queued=stat.task_q_size,
            workers=workers,
            busy=sum(1 for s in mine if s["state"] == "busy"),
            idle=frozenset((s["pid"], s["since"]) for s in mine if s["state"] == "idle"),
        )
    return views


def _stats() -> list[Stat]:
    # Read-only, unlike Stat.get_all(), which writes the list of keys back and could drop the
    # key a sentinel is adding at that moment (both read, change and write the same list).
    cache = caches[settings.Q_CLUSTER["cache"]]
    stats = []
    for key in cache.get(Conf.Q_STAT) or []:
        pack = cache.get(key)
        if pack is None:
            continue  # expired: that sentinel stopped saving its status
        with contextlib.suppress(BadSignature):
            stats.append(SignedPackage.loads(pack))
    return stats


def cluster_stuck(before: ClusterView, after: ClusterView) -> str:
    """Why the cluster is stuck, or "" when it is not. In a live cluster an idle worker takes a
    queued task within milliseconds, so tasks waiting at two looks a second or more apart while
    the same worker stayed idle throughout mean nobody can read the queue."""
    idle_throughout = before.idle & after.idle
    if before.queued and after.queued and idle_throughout:
        pids = ", ".join(str(pid) for pid, _ in sorted(idle_throughout))
        return f"{after.queued} task(s) wait in its queue while idle worker(s) {pids} take none"
    return ""


def workers_watch() -> int:
    """The supervisor's beat, every WORKER_WATCH_SECONDS: takes back videos whose worker went
    quiet (on any host), and asks for a dispatch when queued work could start but has not, as
    after a dispatch task was lost with a killed cluster. Returns how many were taken back."""
    taken = scheduler.videos_reap()
    if taken or scheduler.work_waiting(older_than=conf.WORKER_WATCH_SECONDS):
        services.dispatch_request(reason="supervisor: queued work waits")
    return taken
