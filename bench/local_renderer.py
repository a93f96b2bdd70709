"""Local renderer speed and memory: wall time per 5-second video, and the process's peak RSS.

.venv/bin/python bench/local_renderer.py
"""

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from videos.providers.base import Job
from videos.providers.local import LocalRenderer

RUNS = 5
PROMPT = "A paper boat drifts across a rain puddle at dusk, low angle, neon reflections"


def _time_renders(image_size: tuple[int, int] | None) -> list[float]:
    times = []
    for run in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            image_path = None
            if image_size:
                image_path = workdir / "first.jpg"
                Image.new("RGB", image_size, (30 + run * 20, 120, 200)).save(image_path)
            started = time.perf_counter()
            LocalRenderer().render(
                Job(video_id=run, prompt=f"{PROMPT} #{run}", image_path=image_path),
                workdir=workdir,
                on_progress=lambda percent, message: None,
            )
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    results = {
        "text only": _time_renders(None),
        "with a 1920x1080 image": _time_renders((1920, 1080)),
    }
    for kind, times in results.items():
        print(
            f"{kind:>24}: median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s ({RUNS} runs)"
        )
    everything = [t for times in results.values() for t in times]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak RSS':>24}: {peak_mb:.0f} MB")
    print(
        f"RESULT local_render_median_s={statistics.median(everything):.2f} "
        f"peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
