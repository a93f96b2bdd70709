"""The web tier under concurrent load, on the production stack.

gunicorn with DJANGO_ENV=prod settings (2 workers per core, the README's command;
LOAD_WORKERS and LOAD_THREADS change it), PostgreSQL with persistent connections (the production
default of DB_CONN_MAX_AGE), driven by `wrk` (Debian's package: the bench installs it with
apt-get when it can, else says how). No worker runs: creates queue up, as a burst from a batch
script does. For each case: requests a second, p50 and p99 latency, and the CPU the web
server, PostgreSQL and wrk spent per request (all on the same cores).

    .venv/bin/python bench/load.py                       # PostgreSQL at 127.0.0.1:5432
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench_load .venv/bin/python bench/load.py
    LOAD_SECONDS=20 LOAD_CONNECTIONS=32 .venv/bin/python bench/load.py
    LOAD_CASES=create,poll .venv/bin/python bench/load.py        # only the cases named so
    LOAD_PROFILE=1 .venv/bin/python bench/load.py                # py-spy each case's web workers

The last line reads `RESULT create_rps=<x> create_p99_ms=<y> gallery_rps=<z>`. The database is
created afresh and dropped afterwards.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/studio_bench_load")
if not os.environ["DATABASE_URL"].startswith("postgres"):
    sys.exit("bench/load.py measures the production stack: DATABASE_URL must be PostgreSQL.")
from bench.scratch import scratch_database, scratch_environment  # noqa: E402
from tests.receiver import Receiver  # noqa: E402

SCRATCH = scratch_environment("bench-load", hosts="127.0.0.1")
SECONDS = int(os.environ.get("LOAD_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "16"))
HISTORY = int(os.environ.get("LOAD_HISTORY", "10000"))
ONLY = [word.strip().lower() for word in os.environ.get("LOAD_CASES", "").split(",")]
ONLY = [word for word in ONLY if word]
PROFILE = os.environ.get("LOAD_PROFILE") == "1"
# gunicorn's processes and threads: the README's production command, 2 workers per core.
WORKERS = os.environ.get("LOAD_WORKERS", str(2 * (os.cpu_count() or 1)))
THREADS = os.environ.get("LOAD_THREADS", "1")
PROD = {
    "DJANGO_ENV": "prod",
    "SECURE_SSL_REDIRECT": "False",  # wrk speaks plain HTTP to gunicorn, as a proxy would
    # The bench measures the calls, not the limits that would refuse a burst of them.
    "API_WRITE_RATE_LIMIT": "1000000000",
    "API_READ_RATE_LIMIT": "1000000000",
    "API_USER_QUEUE_LIMIT": "1000000000",
    "API_TEAM_QUEUE_LIMIT": "1000000000",
}


def _wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (Debian's package)…", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        found = shutil.which("wrk")
    if not found:
        sys.exit("bench/load.py needs wrk: `sudo apt-get install wrk`.")
    return found


def _world():
    """bench/gallery.py's team (four members, three accounts, a collection) with HISTORY
    videos, an API token and a signed-in session of its admin."""
    from bench.gallery import _fill, _setup

    alice, team, other, authors, accounts = _setup(SCRATCH)
    from django.test import Client

    from bench.gallery_poll import _cards, _keys
    from studio.api import services as api_services

    _fill(team, other, authors, accounts, HISTORY, 0)
    _cards(team, alice)  # 24 cards in progress on the first page, which the poll asks about
    from django.db import connection

    # Statistics, as autovacuum would have gathered by now on a studio with this history.
    # Without them the planner takes the freshly filled table for empty: the first runs of
    # this bench sorted the whole history for every gallery page (79 ms a query).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, token = api_services.api_token_create(user=alice, team=team, name="load")
    client = Client()
    client.force_login(alice)
    cards = ",".join(f"{pk}-{key}" for pk, key in _keys(client).items())
    return team, token, client.cookies["sessionid"].value, cards


def _lua(path: Path, method: str, body: str = "", headers: dict | None = None) -> Path:
    lines = [f'wrk.method = "{method}"']
    if body:
        lines.append(f"wrk.body = {json.dumps(body)}")
    for name, value in (headers or {}).items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(wrk: str, url: str, script: Path) -> tuple[float, float, float, int]:
    load = [wrk, f"-t{min(2, CONNECTIONS)}", f"-c{CONNECTIONS}", "-s", str(script)]
    # Two seconds first, not measured: each gunicorn worker's first requests compile templates
    # and open its database connection, which the measured run should not count.
    subprocess.run([*load, "-d2s", url], capture_output=True, check=True)
    out = subprocess.run(
        [*load, f"-d{SECONDS}s", "--latency", url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, _ms(out, "50%"), _ms(out, "99%"), int(errors.group(1)) if errors else 0


def _cpu_seconds(server_session: int) -> dict[str, float]:
    """CPU seconds used so far by the web server's processes (its session), PostgreSQL's and
    this process's finished children (wrk): where a case's time went, read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"web": 0.0, "database": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        if int(fields[3]) == server_session:
            used["web"] += seconds
        elif comm.startswith("postgres"):
            # With the children it has reaped (cutime, cstime): a backend whose connection
            # reached DB_CONN_MAX_AGE during the run has ended, and its CPU is its parent's now.
            used["database"] += seconds + (int(fields[13]) + int(fields[14])) / tick
    children = os.times()
    used["wrk"] = children.children_user + children.children_system
    return used


def _profiled(wrk: str, url: str, script: Path, server_pid: int, out: Path):
    """The case under py-spy: what the web workers spent their samples on, as collapsed stacks
    in `out`, and the project's own functions that held the most samples, printed."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        sys.exit("LOAD_PROFILE=1 needs py-spy: `.venv/bin/python -m pip install py-spy`.")
    recorder = subprocess.Popen(
        [spy, "record", "--pid", str(server_pid), "--subprocesses", "--format", "raw",
         "--duration", str(SECONDS), "--rate", "200", "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1)  # py-spy attaches to each worker before the load starts
    result = _run(wrk, url, script)
    recorder.wait(timeout=SECONDS + 30)
    inclusive: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in set(stack.split(";")):
            if "/studio/" in frame or "/videos/" in frame:
                inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"  {total} samples; the project's functions holding most of them:")
    for frame, count in sorted(inclusive.items(), key=lambda item: -item[1])[:12]:
        print(f"  {100 * count / max(total, 1):5.1f}%  {frame.replace(str(ROOT) + '/', '')}")
    return result


def _ms(out: str, percentile: str) -> float:
    value, unit = re.search(
        rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M
    ).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    wrk = _wrk()
    team, token, session_key, cards = _world()
    from studio.api import links
    from videos.models import Video

    video_id = links.video_id(Video.objects.filter(team=team).order_by("-pk").first())
    static_root = Path(tempfile.mkdtemp(prefix="bench-load-static-"))
    env = {**os.environ, **PROD, "ALLOWED_HOSTS": "127.0.0.1", "STATIC_ROOT": str(static_root)}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
        check=True,
    )  # fmt: skip
    port = Receiver.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", WORKERS, "--threads", THREADS, "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    page = {"Cookie": f"sessionid={session_key}", "X-Forwarded-Proto": "https"}
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    get = _lua(work / "get.lua", "GET", headers=api)
    # The writes last, so the reads see the history as filled (and the poll's cards unchanged:
    # it answers 204, as for a tab whose cards are all up to date).
    cases = {
        "gallery page": ("/", _lua(work / "gallery.lua", "GET", headers=page)),
        "gallery poll": (
            f"/videos/poll?cards={cards}",
            _lua(work / "poll.lua", "GET", headers={**page, "HX-Request": "true"}),
        ),
        "API get video": (f"/v1/minimax/videos/{video_id}", get),
        "API list (30)": ("/v1/minimax/videos/?limit=30", get),
        "scheduler/available": ("/v1/minimax/scheduler/available", get),
        "API create": (
            "/v1/minimax/videos/create",
            _lua(work / "create.lua", "POST", json.dumps({"prompt": "A load test"}), api),
        ),
    }
    results = {}
    cpu: dict[str, dict[str, float]] = {}  # CPU ms per request, by who spent it
    chosen = {
        name: case
        for name, case in cases.items()
        if not ONLY or any(word in name.lower() for word in ONLY)
    }
    try:
        for name, (path, script) in chosen.items():
            before = _cpu_seconds(server.pid)
            if PROFILE:
                stacks = Path(tempfile.gettempdir()) / f"bench-load-{name.split()[-1]}.txt"
                print(f"{name}: profiled into {stacks}", flush=True)
                results[name] = _profiled(wrk, base + path, script, server.pid, stacks)
            else:
                results[name] = _run(wrk, base + path, script)
                print(f"{name}: done", flush=True)
            after = _cpu_seconds(server.pid)
            requests_made = results[name][0] * SECONDS
            cpu[name] = {k: 1000 * (after[k] - before[k]) / requests_made for k in after}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(static_root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        import django

        django.db.connections.close_all()
        scratch_database(SCRATCH, create=False)

    print(
        f"\nLoad on {os.cpu_count()} cores, gunicorn {WORKERS} x {THREADS}, {CONNECTIONS} "
        f"connections, {SECONDS} s each:"
    )
    print(
        f"{'case':<22} | {'req/s':>8} | {'p50 ms':>8} | {'p99 ms':>8} | non-2xx | "
        "CPU ms per request: web / PostgreSQL / wrk"
    )
    for name, (rps, p50, p99, bad) in results.items():
        spent = " / ".join(f"{cpu[name][k]:.1f}" for k in ("web", "database", "wrk"))
        print(f"{name:<22} | {rps:8.1f} | {p50:8.1f} | {p99:8.1f} | {bad:>7} | {spent}")
    if "API create" not in results or "gallery page" not in results:
        return  # a partial run has no RESULT line: it would not be comparable
    create, gallery = results["API create"], results["gallery page"]
    print(
        f"RESULT create_rps={create[0]:.1f} create_p99_ms={create[2]:.1f} "
        f"gallery_rps={gallery[0]:.1f}"
    )


if __name__ == "__main__":
    main()
