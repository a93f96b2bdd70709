"""Wall time and memory of the local renderer, without Django.

Renders five text-only videos and five over a first-frame image into a scratch directory and
reports the median and worst wall time per video, and the process's peak RSS; then one video
at each size and length a create may ask for (512P..1080P, 6 and 10 s), one with a face inset
(S2V-01), and the peak RSS after them.

    .venv/bin/python bench/local_renderer.py
    taskset -c 0 .venv/bin/python bench/local_renderer.py    # one core, as the target is stated
"""

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from videos.providers.base import Job  # noqa: E402
from videos.providers.local import LocalRenderer  # noqa: E402

N = 5
PROMPTS = [
    "A lighthouse on a stormy coast at dusk, waves crashing against the rocks",
    "Neon city rain, reflections on wet asphalt, a taxi passes slowly",
    "A fox in a snowy forest",
    "Sunrise over lavender fields in Provence, drone shot drifting forward over the rows",
    "Underwater coral reef, slow drift past a turtle",
]
# Landscape, portrait and the extreme aspects the upload form accepts.
IMAGE_SIZES = [(1600, 900), (900, 1600), (1200, 1200), (2000, 800), (400, 1000)]


def make_image(folder: Path, size: tuple[int, int]) -> Path:
    # A busy photo-like picture, so the encoder has detail to chew on, not a flat gradient.
    path = folder / f"image-{size[0]}x{size[1]}.jpg"
    image = Image.effect_mandelbrot(size, (-2.2, -1.2, 1.0, 1.2), 60).convert("RGB")
    image.save(path, "JPEG", quality=90)
    return path


def time_renders(folder: Path, jobs: list[Job]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds per video; CPU time is the fairer figure on a busy machine."""
    renderer, walls, cpus = LocalRenderer(), [], []
    for job in jobs:
        workdir = folder / f"video-{job.video_id}"
        workdir.mkdir()
        wall, cpu = time.perf_counter(), cpu_seconds()
        renderer.render(job, workdir=workdir, on_progress=lambda percent, message: None)
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    return walls, cpus


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads, x264's included
    return usage.ru_utime + usage.ru_stime


def report(name: str, walls: list[float], cpus: list[float]) -> None:
    print(
        f"{name:<11} n={len(walls)}  wall median {statistics.median(walls):.2f} s"
        f"  max {max(walls):.2f} s  |  CPU median {statistics.median(cpus):.2f} s"
        f"  max {max(cpus):.2f} s  per video"
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-local-") as scratch:
        folder = Path(scratch)
        text_jobs = [Job(video_id=i, prompt=PROMPTS[i % len(PROMPTS)]) for i in range(N)]
        image_jobs = [
            Job(video_id=N + i, prompt=PROMPTS[i % len(PROMPTS)], image_path=make_image(folder, s))
            for i, s in enumerate(IMAGE_SIZES[:N])
        ]
        text_walls, text_cpus = time_renders(folder, text_jobs)
        image_walls, image_cpus = time_renders(folder, image_jobs)
        report("text only", text_walls, text_cpus)
        report("with image", image_walls, image_cpus)
        print(f"peak RSS    {peak_rss_mb():.0f} MB")
        median = statistics.median(text_walls + image_walls)
        print(f"RESULT local_render_median_s={median:.2f} peak_rss_mb={peak_rss_mb():.0f}")
        face = make_image(folder, (600, 600))
        asked = [
            ("512P", 6, {"image_path": make_image(folder, (1600, 900))}),
            ("768P", 6, {}),
            ("768P", 10, {}),
            ("1080P", 6, {}),
            ("1080P", 10, {}),
            ("720P", 6, {"model": "S2V-01", "subject_image_path": face}),
        ]
        for n, (resolution, seconds, extra) in enumerate(asked, 2 * N):
            job = Job(
                video_id=n, prompt=PROMPTS[0], resolution=resolution, duration=seconds, **extra
            )
            walls, cpus = time_renders(folder, [job])
            label = f"{resolution} {seconds}s" + (" face" if "subject_image_path" in extra else "")
            report(label, walls, cpus)
        print(f"peak RSS    {peak_rss_mb():.0f} MB (after the asked sizes)")


if __name__ == "__main__":
    main()
