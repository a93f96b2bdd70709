"""How busy the studio keeps MiniMax accounts, beside what a useapi.net-style client manages.

Against the emulator (in this process), A accounts x max_jobs slots, N videos of emulated
duration T, with real django-q2 clusters (`manage.py qcluster` subprocesses) on a scratch
database. Time is compressed by 125 s / T: MiniMax's 5 creates per minute become 5 per
60/scale seconds, useapi's "sleep 20 s on 429" becomes 20/scale seconds.

    .venv/bin/python bench/scheduler.py                          # A=4, max_jobs=3, N=120, T=5
    .venv/bin/python bench/scheduler.py --videos 48 --seconds 3  # quicker
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench .venv/bin/python bench/scheduler.py

Runs: the studio polling every --poll seconds; the studio with MiniMax callbacks (a gunicorn
serves the studio so the emulator can push); the baseline client. Measures slot utilisation
(ideal makespan ÷ measured), dispatch delay (slot freed upstream → next create sent),
completion delay (upstream success → stored and visible in the gallery) and upstream requests
per video. The last line is machine-readable.
"""

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from studio.embedded import fresh_secrets_setdefault  # noqa: E402

SQLITE = ROOT / "var" / "bench-scheduler.sqlite3"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SQLITE}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# A scratch database per run, so secrets of its own (`./run` keeps the checkout's in var/).
fresh_secrets_setdefault()
MEDIA = Path(tempfile.mkdtemp(prefix="bench-scheduler-media-"))
os.environ["MEDIA_ROOT"] = str(MEDIA)

import django  # noqa: E402

UPSTREAM_SECONDS = 125.0  # a typical MiniMax video, which T stands for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database() -> None:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE}{suffix}").unlink(missing_ok=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Processes:
    def __init__(self, env: dict[str, str]):
        self.env, self.procs = env, []
        self.log = (ROOT / "var" / "bench-scheduler.log").open("a")

    def start(self, *args: str) -> None:
        self.procs.append(
            subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_studio(args, emu, run: int, *, callbacks: bool) -> dict:
    from django.contrib.auth import get_user_model

    from studio.teams import services as team_services
    from videos import services
    from videos.models import ProviderAccount, Video

    scale = UPSTREAM_SECONDS / args.seconds
    env = {
        **os.environ,
        "POLL_SECONDS": str(args.poll),
        "RATE_WINDOW_SECONDS": str(60 / scale),
        "EXPECTED_UPSTREAM_SECONDS": str(args.seconds),
        "Q_WORKERS": str(args.q_workers),
        "PYTHONUNBUFFERED": "1",
    }
    team = team_services.team_create(
        name=f"Run {run}", admin=get_user_model().objects.create_user(f"admin{run}")
    )
    ProviderAccount.objects.filter(team=team, kind="local").update(enabled=False)
    users = [get_user_model().objects.create_user(f"member{run}-{i}") for i in range(3)]
    for i in range(args.accounts):
        services.account_create(
            team=team,
            kind="minimax",
            name=f"MiniMax {i}",
            secret=f"run{run}-key{i}",
            base_url=emu.url,
            max_jobs=args.max_jobs,
            rpm=5,
        )
    procs = Processes(env)
    if callbacks:
        port = free_port()
        env["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        procs.start(
            "-m", "gunicorn", "studio.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4"
        )  # fmt: skip
    for _ in range(args.clusters):
        procs.start("manage.py", "qcluster")
    if callbacks:
        _wait_http(env["PUBLIC_URL"] + "/accounts/login/")
    time.sleep(4)  # let the clusters start; their start-up is not what is measured
    before = emu.stats()
    started = time.time()
    try:
        for n in range(args.videos):
            services.video_submit(
                team=team,
                user=users[n % 3],
                submission=services.Submission(prompt=f"Run {run} video {n}"),
            )
        deadline = time.monotonic() + args.videos * args.seconds + 300
        while Video.objects.filter(team=team).exclude(status__in=Video.FINAL).exists():
            if time.monotonic() > deadline:
                raise SystemExit("The studio run did not finish in time; see var/bench-*.log")
            time.sleep(0.2)
    finally:
        procs.stop()
    after = emu.stats()
    videos = list(Video.objects.filter(team=team).select_related("attempt"))
    keys = {f"run{run}-key{i}" for i in range(args.accounts)}
    tasks = [t for t in after["tasks"] if t["key"] in keys]
    done = [v for v in videos if v.status == "completed"]
    by_task = {t["task_id"]: t for t in tasks}
    completion = [
        v.finished_at.timestamp() - (by_task[v.upstream_id]["created_at"] + args.seconds)
        for v in done
        if v.upstream_id in by_task
    ]
    makespan = max(v.finished_at.timestamp() for v in videos) - started
    first_create = min(t["created_at"] for t in tasks) - started
    last_success = max(t["created_at"] for t in tasks) + args.seconds - started
    print(
        f"  run {run}: first create {first_create:.2f} s after the first submit, last upstream "
        f"success at {last_success:.2f} s, last video stored at {makespan:.2f} s"
    )
    requests_made = sum(after["requests"].values()) - sum(before["requests"].values())
    return {
        "completed": f"{len(done)}/{len(videos)}",
        "makespan_s": makespan,
        "utilisation": _ideal(args) / makespan,
        "dispatch": _dispatch_delays(tasks, args),
        "completion": completion,
        "creates": len(tasks),
        "requests_per_video": requests_made / len(videos),
        "peak": max(after["peak_concurrent"].get(k, 0) for k in keys),
    }


def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"The web server at {url} did not start")


def _ideal(args) -> float:
    rounds = -(-args.videos // (args.accounts * args.max_jobs))  # ceil
    return rounds * args.seconds


def _dispatch_delays(tasks: list[dict], args) -> list[float]:
    """Per account: the k-th slot to free upstream is taken by the (k + max_jobs)-th create."""
    delays = []
    for key in {t["key"] for t in tasks}:
        creates = sorted(t["created_at"] for t in tasks if t["key"] == key)
        freed = sorted(c + args.seconds for c in creates)
        for k in range(len(creates) - args.max_jobs):
            delays.append(max(0.0, creates[k + args.max_jobs] - freed[k]))
    return delays


def run_baseline(args, emu, run: int) -> dict:
    """useapi.net's own client pattern: create; on 429 try the next account, and when every
    account refuses, sleep 20 s (scaled) and retry. Then poll each video until it is final."""
    scale = UPSTREAM_SECONDS / args.seconds
    accounts = [f"{run}00{i}" for i in range(args.accounts)]
    token = f"run{run}-token"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    api = emu.url + "/v1/minimax"
    before = emu.stats()
    started = time.time()
    video_ids, turn, refused = [], 0, 0
    for n in range(args.videos):
        while True:
            account = accounts[turn % len(accounts)]
            turn += 1
            resp = session.post(
                api + "/videos/create",
                json={"account": account, "prompt": f"Baseline {run} video {n}",
                      "maxJobs": args.max_jobs},
            )  # fmt: skip
            if resp.status_code == 200:
                video_ids.append(resp.json()["videoId"])
                refused = 0
                break
            refused += 1
            if refused >= len(accounts):
                time.sleep(20 / scale)
                refused = 0
    pending, seen = set(video_ids), {}
    while pending:
        time.sleep(30 / scale)  # useapi's scripts poll videos every 30 s
        for video_id in list(pending):
            if session.get(f"{api}/videos/{video_id}").json().get("statusFinal"):
                pending.discard(video_id)
                seen[video_id] = time.time()
    after = emu.stats()
    tasks = [t for t in after["tasks"] if t["key"] in accounts]
    # Like the studio's, measured to the moment the client knows the result (it has not even
    # downloaded it yet, which the studio's figure includes).
    makespan = max(seen.values()) - started
    requests_made = sum(after["requests"].values()) - sum(before["requests"].values())
    return {
        "completed": f"{len(tasks)}/{args.videos}",
        "makespan_s": makespan,
        "utilisation": _ideal(args) / makespan,
        "dispatch": _dispatch_delays(tasks, args),
        "completion": [
            seen[t["video_id"]] - (t["created_at"] + args.seconds)
            for t in tasks
            if t.get("video_id") in seen
        ],
        "creates": len(tasks),
        "requests_per_video": requests_made / args.videos,
        "peak": max(after["peak_concurrent"].get(a, 0) for a in accounts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--max-jobs", type=int, default=3)
    parser.add_argument("--videos", type=int, default=120)
    parser.add_argument("--seconds", type=float, default=5.0, help="emulated video duration T")
    parser.add_argument("--poll", type=float, default=0.2, help="studio poll interval")
    parser.add_argument("--clusters", type=int, default=2, help="qcluster processes")
    parser.add_argument("--q-workers", type=int, default=3, help="workers per cluster")
    parser.add_argument("--skip-callbacks", action="store_true")
    args = parser.parse_args()

    fresh_database()
    django.setup()
    from django.core.management import call_command

    from tests.emulator import Emulator, EmulatorConfig

    call_command("migrate", verbosity=0)
    scale = UPSTREAM_SECONDS / args.seconds
    config = EmulatorConfig(
        preparing_s=0.2,
        queueing_s=0.3,
        processing_s=args.seconds - 0.5,
        rpm=5,
        rate_window_s=60 / scale,
        max_concurrent=args.max_jobs,
        useapi_max_jobs=args.max_jobs,
    )
    emu = Emulator(port=0, config=config).start(render=True)
    print(
        f"A={args.accounts} accounts x max_jobs={args.max_jobs}, N={args.videos} videos of "
        f"T={args.seconds:g} s (x{scale:g} compressed: {5} creates per {60 / scale:.2f} s), "
        f"poll {args.poll:g} s, {args.clusters} clusters x {args.q_workers} workers, "
        f"{os.environ['DATABASE_URL'].split(':')[0]}"
    )
    runs = {"studio, polling": run_studio(args, emu, 1, callbacks=False)}
    if not args.skip_callbacks:
        runs["studio, callbacks"] = run_studio(args, emu, 2, callbacks=True)
    runs["baseline (useapi client)"] = run_baseline(args, emu, 3)
    emu.stop()

    print(f"ideal makespan {_ideal(args):.1f} s")
    header = (
        f"{'run':<26}{'done':>9}{'makespan s':>12}{'util.':>7}{'disp p50':>10}{'disp p95':>10}"
        f"{'compl p50':>11}{'compl p95':>11}{'req/video':>11}{'peak':>6}"
    )
    print(header)
    for name, r in runs.items():
        print(
            f"{name:<26}{r['completed']:>9}{r['makespan_s']:>12.1f}{r['utilisation']:>7.3f}"
            f"{pct(r['dispatch'], 0.5):>10.3f}{pct(r['dispatch'], 0.95):>10.3f}"
            f"{pct(r['completion'], 0.5):>11.3f}{pct(r['completion'], 0.95):>11.3f}"
            f"{r['requests_per_video']:>11.1f}{r['peak']:>6}"
        )
    studio, base = runs["studio, polling"], runs["baseline (useapi client)"]
    print(
        f"RESULT utilisation={studio['utilisation']:.3f} "
        f"dispatch_p95_s={pct(studio['dispatch'], 0.95):.3f} "
        f"completion_p95_s={pct(studio['completion'], 0.95):.3f} "
        f"baseline_utilisation={base['utilisation']:.3f}"
    )


if __name__ == "__main__":
    main()
