"""Soak: the real studio (runstudio: web + supervised task cluster) under worker kills, one
whole-cluster kill and one database restart, then a check of every video.

    .venv/bin/python bench/soak.py                # PostgreSQL: a private cluster in a temp dir
    .venv/bin/python bench/soak.py --sqlite       # the embedded default
    .venv/bin/python bench/soak.py --videos 30 --render-seconds 4 --kill-every 3

It starts its own database (initdb on a free loopback port, so it may restart it freely; or a
SQLite file), migrates, bootstraps a team and an API token, starts `manage.py runstudio`, and
submits N videos through the REST API on the local renderer, paced with
LOCAL_RENDER_MIN_SECONDS so renders overlap the faults. While they run it SIGKILLs a worker every
few seconds, alternating the idle one blocked in the task queue's get() (found by /proc/PID/wchan:
it sleeps on the pipe while the others wait on the lock) and a busy one; SIGKILLs the whole
cluster once a quarter of the videos are done; and restarts PostgreSQL once half are (SQLite has
no server to restart). Then it checks each video: completed, exactly one stored MP4 and poster,
no orphan files, `failures` untouched.

The last line is machine-readable:
RESULT completed=<n>/<N> duplicates=<d> lost=<l> failed=<f> max_stall_s=<s> recovery_p95_s=<r>
- duplicates: stored MP4s no video refers to (a second result of some video);
- lost: videos not completed when the run ended; failed: videos that ended failed or moderated,
  or were charged a try (`failures` > 0);
- max_stall_s: the longest time with unfinished work and no video making progress;
- recovery_p95_s: per fault, the time until a worker starts a render again (a new
  (video, attempt) in "processing"), 95th percentile.
"""

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.embedded import fresh_secrets  # noqa: E402
from tests import pgcluster  # noqa: E402
from tests.conftest import wait_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--videos", type=int, default=60)
    parser.add_argument("--render-seconds", type=float, default=6.0)
    parser.add_argument("--kill-every", type=float, default=4.0)
    parser.add_argument("--slots", type=int, default=2, help="local renderer max_jobs (of 3)")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after (s)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)
    # A `kill` of this script still stops the studio and removes the database (finally below).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    scratch = Path(tempfile.mkdtemp(prefix="studio-soak-"))
    pg = None if args.sqlite else pgcluster.PrivatePostgres().init()
    port = _free_port()
    env = {
        **os.environ,
        **fresh_secrets(),  # a scratch database, so secrets of its own
        "STUDIO_DATA_DIR": str(scratch),
        "MEDIA_ROOT": str(scratch / "media"),
        "WORKER_STATE_DIR": str(scratch / "workers"),
        "DATABASE_URL": pg.url if pg else f"sqlite:///{scratch / 'soak.sqlite3'}",
        "LOCAL_RENDER_MIN_SECONDS": str(args.render_seconds),
        "API_WRITE_RATE_LIMIT": "100000",
        "API_READ_RATE_LIMIT": "100000",
        "API_USER_QUEUE_LIMIT": "100000",
        "API_TEAM_QUEUE_LIMIT": "100000",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
    _manage(env, "migrate", "--noinput")
    _manage(env, "bootstrap")
    # Fewer slots than workers, so one worker is idle in the queue's get() (the one to kill),
    # as in the incident behind this bench: 3 workers, one of them idle.
    _manage(
        env,
        "shell",
        "-c",
        "from videos.models import ProviderAccount; "
        f"ProviderAccount.objects.filter(kind='local').update(max_jobs={args.slots})",
    )
    token = _manage(env, "create_api_token", "admin").split()[-1]
    log = (scratch / "studio.log").open("w")
    studio = subprocess.Popen(
        [sys.executable, "manage.py", "runstudio", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        result = _soak(args, env, pg, port, token, scratch)
    finally:
        studio.send_signal(signal.SIGTERM)
        studio.wait(timeout=60)
        if pg:
            pg.destroy()
    print(f"(studio log: {scratch / 'studio.log'})")
    print(result)


def _soak(args, env, pg, port, token, scratch: Path) -> str:
    import django

    django.setup()
    wait_for(lambda: _http_ok(port), timeout=60, what="the web server")
    for i in range(args.videos):
        _create(port, token, f"Soak video {i}: a lighthouse at dusk, take {i}")
    print(f"Submitted {args.videos} videos at {time.strftime('%X')}")
    monitor = Monitor(args.videos)
    faults: list[tuple[str, float]] = []
    cluster_killed = db_restarted = False
    next_kill, kind = time.monotonic() + args.kill_every, "idle"
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and not monitor.finished:
        monitor.sample()
        done = monitor.completed
        now = time.monotonic()
        if not cluster_killed and done >= args.videos // 4:
            cluster_killed = _kill_cluster(scratch)
            faults.append(("cluster", now))
        elif pg and not db_restarted and done >= args.videos // 2:
            print(f"{time.strftime('%X')} restarting PostgreSQL (down 2 s)")
            pg.stop()
            time.sleep(2)
            pg.start()
            db_restarted = True
            faults.append(("database", now))
        elif now >= next_kill and (victim := _worker(scratch, kind)):
            # No such worker right now (all busy, or none idle yet): try again next sample.
            os.kill(victim, signal.SIGKILL)
            print(f"{time.strftime('%X')} killed {kind} worker {victim}")
            faults.append((kind, now))
            kind = "busy" if kind == "idle" else "idle"
            next_kill = now + args.kill_every
        time.sleep(0.25)
    return monitor.report(faults, scratch)


class Monitor:
    """Samples the videos twice a second: progress, stalls, and when renders (re)start."""

    def __init__(self, total: int):
        self.total = total
        self.completed = 0
        self.finished = False
        self.last_signature = None
        self.last_progress = time.monotonic()
        self.max_stall = 0.0
        self.starts: list[float] = []  # when a new (video, attempt) was first seen processing
        self.seen: set[tuple[int, int]] = set()
        self.queued: list[tuple[float, int]] = []  # (when, videos waiting in the queue)

    def sample(self) -> None:
        from django.db import DatabaseError, connection

        from videos.models import Video

        try:
            rows = list(Video.objects.values_list("id", "attempt_id", "status", "percent"))
        except DatabaseError:
            connection.close()  # the database is restarting: a stall if it lasts
            rows = None
        now = time.monotonic()
        if rows is not None:
            for video_id, attempt, status, _ in rows:
                if status == "processing" and (video_id, attempt) not in self.seen:
                    self.seen.add((video_id, attempt))
                    self.starts.append(now)
            final = {"completed", "failed", "moderated", "cancelled"}
            self.completed = sum(1 for r in rows if r[2] == "completed")
            self.queued.append((now, sum(1 for r in rows if r[2] in ("queued", "submitting"))))
            self.finished = len(rows) == self.total and all(r[2] in final for r in rows)
            signature = (self.completed, sum(r[3] for r in rows), len(self.seen))
            if signature != self.last_signature:
                self.last_signature, self.last_progress = signature, now
        if not self.finished:
            self.max_stall = max(self.max_stall, now - self.last_progress)

    def waiting_at(self, at: float) -> int:
        """Videos waiting for a worker at the last sample before `at`."""
        return next((n for when, n in reversed(self.queued) if when <= at), 0)

    def report(self, faults: list[tuple[str, float]], scratch: Path) -> str:
        from videos.models import Video

        videos = list(Video.objects.all())
        media = scratch / "media"
        referenced = {v.file.name for v in videos if v.file} | {
            v.poster.name for v in videos if v.poster
        }
        stored = {str(p.relative_to(media)) for p in media.rglob("videos/**/*") if p.is_file()}
        orphans = stored - referenced
        duplicates = sum(1 for name in orphans if name.endswith(".mp4"))
        completed = sum(1 for v in videos if v.status == "completed" and v.file)
        failed = sum(1 for v in videos if v.status in ("failed", "moderated") or v.failures)
        lost = sum(1 for v in videos if v.status != "completed")
        recoveries = []
        for kind, at in faults:
            after = [t for t in self.starts if t > at]
            if not after and self.finished and not self.waiting_at(at):
                print(f"fault {kind:8} came after the last render started: nothing to heal")
                continue
            recoveries.append(after[0] - at if after else float("inf"))
            print(f"fault {kind:8} healed in {recoveries[-1]:.1f} s")
        p95 = _p95(recoveries)
        print(
            f"worker losses handed back: {sum(v.worker_losses for v in videos)}; "
            f"tries charged: {sum(v.failures for v in videos)}; orphan files: {len(orphans)}; "
            f"missing files: {sum(1 for v in videos if v.file and v.file.name not in stored)}"
        )
        return (
            f"RESULT completed={completed}/{self.total} duplicates={duplicates} lost={lost} "
            f"failed={failed} max_stall_s={self.max_stall:.1f} recovery_p95_s={p95:.1f}"
        )


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _workers(scratch: Path) -> list[dict]:
    from videos.workers import process_alive

    records = []
    for path in (scratch / "workers" / "processes").glob("worker-*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if process_alive(record["pid"]) and process_alive(record["sentinel"]):
            records.append(record)
    return records


def _worker(scratch: Path, kind: str) -> int | None:
    records = _workers(scratch)
    if kind == "busy":
        busy = [r["pid"] for r in records if r["state"] == "busy"]
        return random.choice(busy) if busy else None
    for record in records:  # the idle one that holds the queue's read lock
        try:
            if "pipe" in Path(f"/proc/{record['pid']}/wchan").read_text():
                return record["pid"]
        except OSError:
            continue
    return None


def _kill_cluster(scratch: Path) -> bool:
    records = _workers(scratch)
    if not records:
        return False
    sentinel = records[0]["sentinel"]
    group = os.getpgid(sentinel)
    os.killpg(group, signal.SIGKILL)
    print(f"{time.strftime('%X')} killed the whole cluster (process group {group})")
    return True


def _manage(env: dict, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(argv)} failed:\n{done.stderr}")
    return done.stdout.strip()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2):
            return True
    except OSError:
        return False


def _create(port: int, token: str, prompt: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/minimax/videos/create",
        data=json.dumps({"prompt": prompt}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, response.read()


if __name__ == "__main__":
    main()
