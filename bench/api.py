"""REST API cost against history size.

Fills a scratch database with 10,000 and then 100,000 videos for one team (plus another team's
noise), then times the calls a useapi.net script makes: POST videos/create (queue mode), GET
videos/{videoId}, GET videos/ (a page of 30), GET scheduler/ and GET scheduler/available. Each
request goes through token auth and the per-token rate limit's UPDATE, as in production.

    .venv/bin/python bench/api.py                 # scratch SQLite file in var/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench .venv/bin/python bench/api.py
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from studio.embedded import fresh_secrets_setdefault  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
SQLITE = ROOT / "var" / "bench-api.sqlite3"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SQLITE}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# A scratch database per run, so secrets of its own (`./run` keeps the checkout's in var/).
fresh_secrets_setdefault()
os.environ["ALLOWED_HOSTS"] = "testserver"
# The bench measures the calls, not the limits that would refuse them.
os.environ["API_WRITE_RATE_LIMIT"] = os.environ["API_READ_RATE_LIMIT"] = "100000000"
os.environ["API_USER_QUEUE_LIMIT"] = os.environ["API_TEAM_QUEUE_LIMIT"] = "100000000"

import django  # noqa: E402
from gallery import _fill, _setup  # noqa: E402

SIZES = (10_000, 100_000)
REQUESTS = 100


def _timed(call, expect: int = 200) -> tuple[float, float]:
    call()  # warm caches and the connection
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expect, response.content[:300]
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    alice, team, other = _setup(SQLITE)
    from django.test import Client

    from studio.api import links as records
    from studio.api import services as api_services
    from videos.models import Video

    _, raw = api_services.api_token_create(user=alice, team=team, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = json.dumps({"prompt": "A benchmark shot", "replyRef": "bench"})

    rows, made = [], 0
    for size in SIZES:
        _fill(team, other, alice, size, made)
        made = size
        with django.db.connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        video = Video.objects.filter(team=team).order_by("id")[100]
        url = f"/v1/minimax/videos/{records.video_id(video)}"

        def create():
            return client.post("/v1/minimax/videos/create", body, content_type="application/json")

        row = {
            "create": _timed(create),
            "get": _timed(lambda url=url: client.get(url)),
            "list": _timed(lambda: client.get("/v1/minimax/videos/", {"limit": 30})),
            "scheduler": _timed(lambda: client.get("/v1/minimax/scheduler/")),
            "available": _timed(lambda: client.get("/v1/minimax/scheduler/available")),
        }
        # The creates above are queued and tracked: clear them so each size starts alike.
        Video.objects.filter(team=team, status="queued").update(status="cancelled")
        rows.append((size, row))
        print(f"filled {size:>7,} videos", flush=True)

    engine = django.db.connection.vendor
    print(f"\nREST API server time, median / p95 of {REQUESTS} requests, ms ({engine})")
    names = list(rows[0][1])
    print(f"{'videos':>8} | " + " | ".join(f"{n:>15}" for n in names))
    for size, row in rows:
        cells = " | ".join(f"{row[n][0]:>6.1f} / {row[n][1]:>6.1f}" for n in names)
        print(f"{size:>8,} | {cells}")
    last = rows[-1][1]
    print(
        "RESULT "
        + " ".join(f"{n}_100k_p50_ms={last[n][0]:.1f}" for n in names)
        + f" create_growth={last['create'][0] / rows[0][1]['create'][0]:.2f}"
    )
    django.db.connections.close_all()
    SQLITE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
