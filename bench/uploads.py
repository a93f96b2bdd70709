"""What an image upload costs the web server, and what parallel uploads do to the sign-in page.

Runs the studio's real web server (gunicorn, as `runstudio` starts it: 2 workers x 4 threads) on
a free port over a scratch SQLite database, signs in through the sign-in form and uploads first
frames through the composer's form (POST videos/new, with CSRF), the path the browser takes. For
each image, on a fresh server each time:
- one upload at a time, 3 times: CPU seconds per upload and peak web RSS (summed over the
  gunicorn processes, sampled from /proc every 10 ms);
- N uploads at once (16 by default) while a visitor opens the sign-in page (GET /login/) every
  0.1 s on a new connection: its latency p50/p95/max, and the peak web RSS.

    .venv/bin/python bench/uploads.py                            # this checkout
    .venv/bin/python bench/uploads.py --tree /tmp/before         # another checkout, same images
    .venv/bin/python bench/uploads.py --images webp16,bomb40 --parallel 8

The images are made here: `png25` (RGBA, just under 25 MP), `webp16` (RGBA, just under 16 MP),
`jpeg25` (progressive 4:4:4, just under 25 MP: a progressive JPEG keeps every coefficient),
`bomb40` (the 7680 x 5200 one-bit PNG from issue 10, a few KB) and `webp40` (7680 x 5200 WebP).
The machine's load (`uptime`) is printed before and after: other work on it skews the latency.
"""

import argparse
import contextlib
import io
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from PIL import Image

from studio.embedded import fresh_secrets

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
PROBE_SECONDS = 0.1


def _png(mode: str, size: tuple[int, int], colour) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def _webp(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (90, 140, 200, 100)).save(out, "WEBP", lossless=True)
    return out.getvalue()


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (90, 140, 200))
    image.save(out, "JPEG", quality=92, progressive=True, subsampling=0)
    return out.getvalue()


IMAGES = {
    "png25": ("frame.png", lambda: _png("RGBA", (6120, 4080), (90, 140, 200, 100))),
    "webp16": ("frame.webp", lambda: _webp((4896, 3264))),
    "jpeg25": ("frame.jpg", lambda: _jpeg((6120, 4080))),
    "bomb40": ("frame.png", lambda: _png("1", (7680, 5200), 0)),
    "webp40": ("frame.webp", lambda: _webp((7680, 5200))),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to serve")
    parser.add_argument("--images", default="webp16,png25,jpeg25,bomb40")
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--singles", type=int, default=3, help="sequential uploads per image")
    args = parser.parse_args()
    tree = args.tree.resolve()
    print(f"tree {tree}; load: {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as scratch:
        env = _environment(Path(scratch))
        _manage(tree, env, "migrate", "--noinput")
        bootstrap = _manage(tree, env, "bootstrap", "--username", "bench")
        password = re.search(r"password: (\S+)", bootstrap)[1]
        for key in args.images.split(","):
            name, make = IMAGES[key]
            data = make()
            print(f"\n{key}: {name}, {len(data):,} bytes")
            with Server(tree, env) as server:
                _singles(server, password, name, data, args.singles)
            with Server(tree, env) as server:
                _parallel(server, password, name, data, args.parallel)
    print(f"\nload: {_load()}")


def _environment(scratch: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_ENV", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        fresh_secrets(),  # a scratch database, so secrets of its own
        STUDIO_DATA_DIR=str(scratch),
        MEDIA_ROOT=str(scratch / "media"),
        WORKER_STATE_DIR=str(scratch / "workers"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(tree: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


class Server:
    """gunicorn with runstudio's arguments, and its processes' RSS sampled in a thread."""

    def __init__(self, tree: Path, env: dict[str, str]) -> None:
        self.tree, self.env = tree, env
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.peak_kb = 0
        self._stop = threading.Event()

    def __enter__(self) -> "Server":
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "studio.wsgi",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", "2",
                "--threads", "4",
                "--graceful-timeout", "10",
            ],
            cwd=self.tree,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(self.pids()) < 3 or not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise SystemExit(f"gunicorn did not start:\n{self.log.read().decode()[-3000:]}")
            time.sleep(0.2)
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()

    def _answers(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.url}/login/", timeout=5).status_code == 200
        return False

    def pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    if int(_stat(entry)[1]) == self.process.pid:
                        children.append(int(entry.name))
        return [self.process.pid, *children]

    def rss_kb(self) -> int:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, ValueError):
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
        return total

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError):
                fields = _stat(Path(f"/proc/{pid}"))
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

    def reset_peak(self) -> int:
        self.peak_kb = self.rss_kb()
        return self.peak_kb

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak_kb = max(self.peak_kb, self.rss_kb())


def _stat(proc: Path) -> list[str]:
    # Fields after the command name, which may itself hold spaces and parentheses.
    return (proc / "stat").read_text().rsplit(")", 1)[1].split()


def _signed_in(server: Server, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{server.url}/login/", timeout=30)
    response = session.post(
        f"{server.url}/login/",
        data={
            "username": "bench",
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, f"sign-in failed: {response.status_code}"
    return session


def _upload(server: Server, cookies, name: str, data: bytes) -> tuple[str, float]:
    """One POST videos/new; "accepted", "refused: <message>" or the unexpected status."""
    session = requests.Session()
    session.cookies.update(cookies)
    started = time.perf_counter()
    response = session.post(
        f"{server.url}/videos/new",
        data={"prompt": "A lighthouse at dusk", "prompt_optimization": "on"},
        files={"image": (name, data)},
        headers={"X-CSRFToken": cookies["csrftoken"]},
        allow_redirects=False,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code == 302:
        return "accepted", elapsed
    error = re.search(r'id="image-error"[^>]*>([^<]*)<', response.text)
    if response.status_code in (200, 400) and error:  # the form again, with the reason
        return f"refused: {error[1][:90]}", elapsed
    return f"HTTP {response.status_code}", elapsed


def _singles(server: Server, password: str, name: str, data: bytes, count: int) -> None:
    cookies = _signed_in(server, password).cookies
    _upload(server, cookies, "warm.png", _png("RGB", (640, 480), "white"))  # import and warm
    base = server.reset_peak()
    cpu = server.cpu_seconds()
    outcomes, walls = [], []
    for _ in range(count):
        outcome, wall = _upload(server, cookies, name, data)
        outcomes.append(outcome)
        walls.append(wall)
    cpu = (server.cpu_seconds() - cpu) / count
    time.sleep(0.05)  # one more RSS sample after the last answer
    print(
        f"  one at a time: {cpu:.2f} s CPU per upload, {statistics.median(walls):.2f} s wall; "
        f"web RSS {base / 1024:.0f} MB idle, peak {server.peak_kb / 1024:.0f} MB; "
        f"{_summary(outcomes)}"
    )


def _parallel(server: Server, password: str, name: str, data: bytes, count: int) -> None:
    cookies = _signed_in(server, password).cookies
    _upload(server, cookies, "warm.png", _png("RGB", (640, 480), "white"))
    base = server.reset_peak()
    cpu = server.cpu_seconds()
    results: list[tuple[str, float]] = []
    latencies: list[float] = []

    def upload() -> None:
        results.append(_upload(server, cookies, name, data))

    def sign_in_page() -> None:
        # A new connection each time, as a person arriving would open.
        begun = time.perf_counter()
        response = requests.get(f"{server.url}/login/", timeout=600)
        latencies.append(time.perf_counter() - begun)
        assert response.status_code == 200, response.status_code

    started = time.perf_counter()
    uploads = [threading.Thread(target=upload) for _ in range(count)]
    for thread in uploads:
        thread.start()
    # Open loop: a visitor every PROBE_SECONDS whether or not the last one got an answer, so a
    # long wait is sampled as often as the people arriving during it would meet it.
    probes = []
    while any(thread.is_alive() for thread in uploads) or not probes:
        probes.append(threading.Thread(target=sign_in_page))
        probes[-1].start()
        time.sleep(PROBE_SECONDS)
    wall = time.perf_counter() - started
    for thread in probes:
        thread.join()
    cpu = server.cpu_seconds() - cpu
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    slowest = max(elapsed for _, elapsed in results)
    print(
        f"  {count} at once: done in {wall:.1f} s (slowest upload {slowest:.1f} s), "
        f"{cpu:.1f} s CPU; sign-in page ({len(latencies)} loads) p50 "
        f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
        f"{latencies[-1] * 1000:.0f} ms; web RSS {base / 1024:.0f} MB idle, peak "
        f"{server.peak_kb / 1024:.0f} MB; {_summary([outcome for outcome, _ in results])}"
    )


def _summary(outcomes: list[str]) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return "; ".join(f"{n} x {outcome}" for outcome, n in counts.items())


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    main()
