"""Memory and time of the bulk zip and of joining clips.

Renders real clips with the local renderer, stores copies of them as finished videos in a
scratch database and media directory, then runs each case in a fresh child process (so each
peak RSS is its own): a zip of 20 and of 200 videos streamed through the real view with
Django's test Client (the stream is read and counted, never kept), and a 20-clip join on both
paths (remux: clips of one shape; re-encode: two sizes alternating). Peak RSS must not grow
with the size of the archive.

    .venv/bin/python bench/bulk.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench_bulk .venv/bin/python bench/bulk.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database, scratch_environment  # noqa: E402

SQLITE = scratch_environment("bench-bulk", hosts="testserver")

import django  # noqa: E402

ZIPS = (20, 200)
ZIP_MEMBER_BYTES = 8 * 2**20
JOIN_PARTS = 20


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def peak_rss_reset() -> float:
    """Starts measuring the peak afresh (Linux: writing 5 to clear_refs resets VmHWM); returns
    the RSS now. getrusage's ru_maxrss would not do: it survives fork and exec, so a child
    reports its parent's peak."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def _render(workdir: Path, resolution: str, prompt: str) -> Path:
    from videos.providers.base import Job
    from videos.providers.local import LocalRenderer

    workdir.mkdir(parents=True)
    job = Job(video_id=1, prompt=prompt, resolution=resolution, duration=6)
    return LocalRenderer().render(job, workdir=workdir, on_progress=lambda p, m: None).video_path


def _setup(media: Path) -> dict:
    """The scratch database and media: 200 finished videos for the zip, 20 + 20 for the joins."""
    scratch_database(SQLITE, create=True)
    django.setup()
    from django.core.management import call_command

    from tests.factories import make_team, make_user
    from videos import media as probe
    from videos.models import Video

    call_command("migrate", verbosity=0)
    alice = make_user("alice")
    team = make_team("Bench", admin=alice)
    scratch = media / "renders"
    big = _render(scratch / "720", "720P", "A lighthouse on a stormy coast at dusk")
    small = _render(scratch / "512", "512P", "Neon city rain, a taxi passes slowly")
    folder = media / f"videos/team-{team.pk}"
    folder.mkdir(parents=True)

    def finished(source: Path, n: int, payload: Path | None = None) -> int:
        info = probe.probe(source, poster=scratch / "poster.jpg")
        target = folder / f"{n:04d}.mp4"
        if payload is None:
            shutil.copyfile(source, target)
        else:
            os.link(payload, target)
        return Video.objects.create(
            team=team,
            author=alice,
            prompt=f"Bench clip {n}: a lighthouse on a stormy coast",
            status="completed",
            file=str(target.relative_to(media)),
            width=info.width,
            height=info.height,
            duration=info.duration,
            file_bytes=target.stat().st_size,
        ).pk

    remux_ids = [finished(big, 2000 + n) for n in range(JOIN_PARTS)]
    # The zip's members: 8 MiB of random bytes each (one file, linked under every name), so
    # an archive held in memory would show at once: 1.6 GB for 200.
    payload = scratch / "payload.mp4"
    payload.write_bytes(os.urandom(ZIP_MEMBER_BYTES))
    zip_ids = [finished(big, n, payload) for n in range(max(ZIPS))]
    reencode_ids = [finished(big if n % 2 else small, 1000 + n) for n in range(JOIN_PARTS)]
    return {
        "user": alice.pk,
        "zip": zip_ids,
        "remux": remux_ids,
        "reencode": reencode_ids,
        "clip_mb": big.stat().st_size / 2**20,
    }


def _child(case: str, n: int, plan: dict) -> dict:
    """One case, in this fresh process; peak RSS before and after it."""
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from videos import joins, services
    from videos.models import Video

    setup_test_environment()
    user = get_user_model().objects.get(pk=plan["user"])
    membership = user.memberships.get()
    baseline = peak_rss_reset()
    started = time.perf_counter()
    result = {"case": case, "n": n, "baseline_mb": baseline}
    if case == "zip":
        client = Client()
        client.force_login(user)
        response = client.post("/videos/bulk", {"action": "zip", "ids": plan["zip"][:n]})
        assert response.status_code == 200 and response.streaming, response.status_code
        size = sum(len(chunk) for chunk in response.streaming_content)
        result["bytes"] = size
    else:
        videos = list(Video.objects.filter(pk__in=plan[case][:n]).order_by("pk"))
        joined = services.video_join(membership=membership, videos=videos)
        joins.join_run(video_id=joined.pk)
        joined.refresh_from_db()
        assert joined.status == "completed", joined.error
        result["message"] = joined.message
        result["duration"] = joined.duration
        result["parts_seconds"] = sum(v.duration for v in videos)
        result["bytes"] = joined.file_bytes
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = peak_rss_mb()
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        plan = json.loads(Path(sys.argv[2]).read_text())
        os.environ["MEDIA_ROOT"] = plan["media"]
        print(json.dumps(_child(sys.argv[3], int(sys.argv[4]), plan)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as scratch:
        media = Path(scratch) / "media"
        media.mkdir()
        os.environ["MEDIA_ROOT"] = str(media)
        plan = {**_setup(media), "media": str(media)}
        plan_path = Path(scratch) / "plan.json"
        plan_path.write_text(json.dumps(plan))
        django.db.connections.close_all()
        cases = [("zip", n) for n in ZIPS] + [("remux", JOIN_PARTS), ("reencode", JOIN_PARTS)]
        results = []
        for case, n in cases:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(plan_path), case, str(n)],
                capture_output=True,
                text=True,
                env={**os.environ, "MEDIA_ROOT": str(media)},
                check=False,
            )
            if out.returncode:
                sys.exit(f"{case} {n} failed:\n{out.stderr[-3000:]}")
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"done: {case} {n}", flush=True)
    engine = django.db.connection.vendor
    print(
        f"\nBulk zip and join ({engine}); zip members {ZIP_MEMBER_BYTES / 2**20:.0f} MiB each; "
        f"a local-renderer clip (720P, 6 s) is {plan['clip_mb']:.2f} MiB"
    )
    print(
        f"{'case':<22} | {'wall':>8} | {'output':>10} | {'rate':>10} | {'peak RSS':>9} | "
        f"{'grew':>7}"
    )
    for r in results:
        name = f"zip of {r['n']}" if r["case"] == "zip" else f"join {r['n']} ({r['case']})"
        mb = r["bytes"] / 2**20
        # A zip's rate is bytes streamed; a join's, seconds of video made per second.
        rate = (
            f"{mb / r['seconds']:>5.0f} MB/s"
            if r["case"] == "zip"
            else f"{r['parts_seconds'] / r['seconds']:>5.1f}x real"
        )
        print(
            f"{name:<22} | {r['seconds']:>6.2f} s | {mb:>7.1f} MB | {rate:>10}"
            f" | {r['peak_mb']:>6.0f} MB | {r['peak_mb'] - r['baseline_mb']:>+4.0f} MB"
        )
    for r in results:
        if r["case"] != "zip":
            print(
                f"join ({r['case']}): {r['duration']:.2f} s for {r['parts_seconds']:.2f} s of "
                f"clips; {r['message']}"
            )
    scratch_database(SQLITE, create=False)


if __name__ == "__main__":
    main()
