"""The supervisor behind `runstudio` (web + workers) and `runworkers` (workers only).

It starts each child as the leader of its own process group, and every second or so:
- restarts a child that died (giving up on one that keeps dying at once);
- restarts the task cluster when it is stuck (videos.workers.cluster_stuck) for
  WORKER_STUCK_SECONDS, or when its sentinel stopped saving its status: SIGTERM to its main
  process, WORKER_STOP_GRACE_SECONDS, then SIGKILL to its whole group, then a new cluster;
- every WORKER_WATCH_SECONDS, takes back videos from dead workers and makes sure queued work
  gets a dispatch (videos.workers.workers_watch).
A watchdog process (videos.watchdog) stops the groups if the supervisor itself is killed.
"""

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from studio import conf
from videos import workers
from videos.scheduler import DB_OUTAGE

log = logging.getLogger(__name__)
# A cluster that never reports (its sentinel died or hangs) is restarted after this long.
SILENT_SECONDS = 30.0
# A child that dies this often within CRASH_WINDOW_SECONDS is broken: stop, do not loop.
CRASH_LIMIT, CRASH_WINDOW_SECONDS = 5, 60.0
STUCK_GRACE_SECONDS = 3.0
CHECK_SECONDS = 1.0  # how often the cluster's state is looked at


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    deaths: deque = field(default_factory=lambda: deque(maxlen=CRASH_LIMIT))

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def start(self) -> None:
        # Its own process group, so a stop reaches every process it forked (the cluster's
        # sentinel, workers, pusher and monitor), and a terminal's Ctrl-C reaches only us.
        self.process = subprocess.Popen(self.argv, start_new_session=True)
        self.started = time.monotonic()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float) -> None:
        """SIGTERM to the leader, then SIGKILL to whatever of its group is left after `grace`.
        The leader alone: qcluster's main process stops its sentinel, which drains and stops
        the workers in order; SIGTERM to every process at once leaves that stop waiting for
        workers that are already gone."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        # The leader may have exited while a child of its group hangs: kill the group anyway.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class Supervisor:
    def __init__(self, *, worker: Child, web: Child | None = None):
        self.worker, self.web = worker, web
        self.children = [c for c in (web, worker) if c is not None]
        self.watchdog: subprocess.Popen | None = None
        self.seen: workers.ClusterView | None = None  # the cluster at the previous look
        self.seen_at = 0.0  # when the cluster last reported
        self.stuck_since: float | None = None
        self.db_down = False

    def run(self) -> int:
        """Runs until a signal (KeyboardInterrupt) or a child that keeps crashing; returns the
        exit code."""
        grace = conf.WORKER_STOP_GRACE_SECONDS
        self.watchdog = subprocess.Popen(
            [sys.executable, "-m", "videos.watchdog", str(grace)],
            stdin=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for child in self.children:
            child.start()
        self._tell_watchdog()
        self.seen_at = time.monotonic()
        next_check = next_watch = 0.0
        try:
            while True:
                if not self._restart_dead():
                    return 1
                now = time.monotonic()
                if now >= next_check:
                    self._check_cluster()  # reads a few small local files: cheap
                    next_check = now + CHECK_SECONDS
                if now >= next_watch:
                    self._watch_videos()  # database queries
                    next_watch = now + conf.WORKER_WATCH_SECONDS
                time.sleep(0.2)
        finally:
            for child in self.children:
                child.stop(grace)
            with contextlib.suppress(OSError):
                self.watchdog.stdin.close()
            self.watchdog.wait()

    def _restart_dead(self) -> bool:
        for child in self.children:
            if child.running():
                continue
            now = time.monotonic()
            child.deaths.append(now)
            code = child.process.returncode if child.process else None
            if len(child.deaths) == CRASH_LIMIT and now - child.deaths[0] < CRASH_WINDOW_SECONDS:
                log.error(
                    "The %s stopped %d times in a minute (last exit code %s); giving up",
                    child.name,
                    CRASH_LIMIT,
                    code,
                )
                return False
            log.warning("The %s stopped (exit code %s); starting it again", child.name, code)
            self._restart(child, why="")
        return True

    def _check_cluster(self) -> None:
        try:
            view = workers.clusters_seen().get(self.worker.pid)
        except OSError as exc:
            log.warning("Could not read the workers' state: %s", exc)
            return
        now = time.monotonic()
        if view is None:
            if now - max(self.seen_at, self.worker.started) > SILENT_SECONDS:
                self._restart(self.worker, why=f"it has not reported for {SILENT_SECONDS:.0f} s")
            return
        self.seen_at = now
        reason = workers.cluster_stuck(self.seen, view) if self.seen else ""
        self.seen = view
        if not reason:
            self.stuck_since = None
            return
        self.stuck_since = self.stuck_since or now
        if now - self.stuck_since >= conf.WORKER_STUCK_SECONDS:
            # A stuck cluster cannot drain its queue, so its graceful stop can only hang: a
            # short grace lets a busy worker finish its write; whatever it held is handed back.
            grace = min(conf.WORKER_STOP_GRACE_SECONDS, STUCK_GRACE_SECONDS)
            self._restart(self.worker, why=f"it is stuck: {reason}", grace=grace)

    def _restart(self, child: Child, *, why: str, grace: float | None = None) -> None:
        if why:
            log.warning("Restarting the %s (%s): %s", child.name, child.pid, why)
        child.stop(conf.WORKER_STOP_GRACE_SECONDS if grace is None else grace)
        if child is self.worker:
            self.seen, self.stuck_since = None, None
            self._recover()
        child.start()
        self._tell_watchdog()
        log.warning("The %s runs again as process %s", child.name, child.pid)

    def _recover(self) -> None:
        try:
            done = workers.workers_recover()
        except DB_OUTAGE as exc:
            # The new cluster's workers try again when they spawn.
            log.warning("Could not hand back the dead cluster's videos yet: %s", exc)
            return
        finally:
            close_old_connections()
        log.warning(
            "Handed back %d video(s) and released %d task(s) the old cluster held",
            done.videos,
            done.tasks,
        )

    def _watch_videos(self) -> None:
        try:
            workers.workers_watch()
        except DB_OUTAGE as exc:
            if not self.db_down:
                log.warning("The database is unreachable (%s); will keep trying", exc)
            self.db_down = True
            connection.close()
            return
        if self.db_down:
            log.warning("The database is back")
            self.db_down = False

    def _tell_watchdog(self) -> None:
        pgids = " ".join(str(child.pid) for child in self.children if child.pid)
        try:
            self.watchdog.stdin.write(f"groups {pgids}\n")
            self.watchdog.stdin.flush()
        except OSError:
            log.error("The watchdog is gone: children would outlive a killed supervisor")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_supervised(command: BaseCommand, supervisor: Supervisor, banner: str) -> None:
    # Explicit handlers: a shell that starts us in the background ignores SIGINT, and
    # `kill <pid>` sends SIGTERM; either way every child must be stopped, not orphaned.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    metrics_dir_prepare()
    command.stdout.write(command.style.SUCCESS(banner))
    code = 1
    try:
        code = supervisor.run()
        command.stderr.write("A studio process keeps stopping; shutting down.")
    except KeyboardInterrupt:
        command.stdout.write("Stopping…")
        code = 0
    sys.exit(code)


def metrics_dir_prepare() -> Path:
    """Gives the children one PROMETHEUS_MULTIPROC_DIR (the operator's, or var/metrics), empty:
    each process of this host keeps its counts there and /metrics adds them up. Emptied at each
    start, as prometheus_client asks, so the counts of a previous run are not added again."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.DATA_DIR / "metrics")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def worker_child() -> Child:
    return Child("task cluster", [sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"])
