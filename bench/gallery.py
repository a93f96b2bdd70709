"""Gallery cost against history size.

Fills a scratch database with 10,000 and then 100,000 videos for one team (plus another team's
noise) and reports the median server time of the gallery page, of a deep page reached by cursor,
and of the progress fragment a running card polls.

    .venv/bin/python bench/gallery.py                 # scratch SQLite file in var/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench .venv/bin/python bench/gallery.py

The PostgreSQL database is created if missing and dropped afterwards; the SQLite file is removed.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from studio.embedded import fresh_secrets_setdefault  # noqa: E402

SQLITE = ROOT / "var" / "bench-gallery.sqlite3"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SQLITE}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# A scratch database per run, so secrets of its own (`./run` keeps the checkout's in var/).
fresh_secrets_setdefault()
os.environ["ALLOWED_HOSTS"] = "testserver"

import django  # noqa: E402

SIZES = (10_000, 100_000)
REQUESTS = 60


def _ensure_postgres_database() -> None:
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _fill(team, other, author, until: int, start: int) -> None:
    from videos.models import Video

    statuses = ["completed"] * 17 + ["failed", "moderated", "cancelled"]
    batch = []
    for i in range(start, until):
        batch.append(
            Video(
                team=team if i % 10 else other,
                author=author,
                prompt=f"Benchmark shot number {i}: a slow dolly across a neon street at night",
                status=statuses[i % len(statuses)],
                percent=100,
                width=1280,
                height=720,
                duration=5.0,
                file=f"videos/bench/{i}.mp4",
                poster=f"videos/bench/{i}.jpg",
            )
        )
        if len(batch) == 5000:
            Video.objects.bulk_create(batch)
            batch = []
    Video.objects.bulk_create(batch)


def _median_ms(client, url: str, **headers) -> float:
    client.get(url, **headers)  # warm caches and the connection
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples)


def _setup(sqlite: Path):
    """A fresh scratch database with alice, her team and another team's noise."""
    _ensure_postgres_database()
    sqlite.unlink(missing_ok=True)
    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from tests.factories import add_member, make_team, make_user

    setup_test_environment()
    call_command("migrate", verbosity=0)
    alice = make_user("alice")
    team = make_team("Bench", admin=alice)
    other = make_team("Noise")
    add_member(other, alice)
    return alice, team, other


def main() -> None:
    alice, team, other = _setup(SQLITE)
    from django.test import Client

    from videos.models import Video

    client = Client()
    client.force_login(alice)

    rows, made = [], 0
    for size in SIZES:
        _fill(team, other, alice, size, made)
        made = size
        # Fresh planner statistics, as autovacuum would have gathered on a live database.
        with django.db.connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        # A handful of live videos at the top, as a busy team has.
        running = Video.objects.create(team=team, author=alice, prompt="live", status="processing")
        for _ in range(3):
            Video.objects.create(team=team, author=alice, prompt="waiting", status="queued")
        oldest_ids = Video.objects.filter(team=team).order_by("id").values_list("id", flat=True)
        deep_cursor = oldest_ids[30]
        htmx = {"HTTP_HX_REQUEST": "true"}
        rows.append(
            (
                size,
                _median_ms(client, "/"),
                _median_ms(client, f"/?before={deep_cursor}", **htmx),
                _median_ms(client, f"/videos/{running.pk}/card", **htmx),
            )
        )
        print(f"filled {size:>7,} videos: page {rows[-1][1]:.1f} ms", flush=True)

    engine = django.db.connection.vendor
    print(f"\nGallery server time, median of {REQUESTS} requests ({engine})")
    print(
        f"{'videos':>8} | {'gallery page':>12} | {'deepest page':>12} | {'progress fragment':>17}"
    )
    for size, page, deep, card in rows:
        print(f"{size:>8,} | {page:>9.1f} ms | {deep:>9.1f} ms | {card:>14.1f} ms")
    growth = rows[-1][1] / rows[0][1]
    print(
        f"RESULT page_10k_ms={rows[0][1]:.1f} page_100k_ms={rows[-1][1]:.1f} "
        f"fragment_10k_ms={rows[0][3]:.1f} fragment_100k_ms={rows[-1][3]:.1f} growth={growth:.2f}"
    )
    django.db.connections.close_all()
    SQLITE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
