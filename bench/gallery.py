"""Gallery cost against history size.

Fills a scratch database with 10,000 and then 100,000 videos for one team (plus another team's
noise) and reports the median server time of the gallery page, of a deep page reached by cursor,
and of the progress fragment a running card polls; then the median and 95th percentile of the
gallery page with each search and filter (?q=, author=, status=, account=, model=, from/to, fav,
collection, and all of them at once), against a history of four authors, three accounts, three
models, a year of dates, favourites, a collection and some trash.

    .venv/bin/python bench/gallery.py                 # scratch SQLite file in var/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench .venv/bin/python bench/gallery.py

The PostgreSQL database is created if missing and dropped afterwards; the SQLite file is removed.
"""

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import scratch_database, scratch_environment  # noqa: E402

SQLITE = scratch_environment("bench-gallery", hosts="testserver")

import django  # noqa: E402

SIZES = (10_000, 100_000)
REQUESTS = 60


# The words of the searches: every prompt has "neon"; one video in RARE_EVERY has "zebrafinch".
COMMON_WORD, RARE_WORD, RARE_EVERY = "neon", "zebrafinch", 5000
ANIMALS = ["fox", "whale", "heron", "otter", "lynx", "crane", "moth", "bison", "gecko", "orca"]
MODELS = ["MiniMax-Hailuo-02", "MiniMax-Hailuo-2.3", "T2V-01"]
# About 250 videos a day: 10,000 videos are 40 days of history, 100,000 are 400.
PER_DAY = 250


def _made_at(i: int) -> dt.datetime:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return start + dt.timedelta(days=i / PER_DAY)


def _fill(team, other, authors, accounts, until: int, start: int) -> None:
    """Videos start..until-1 (every tenth another team's), each with an attempt on one of the
    team's accounts, a date in the history, and for some a star, a collection or the trash."""
    from django.db import connection

    from videos.models import Attempt, CollectionItem, Favourite, Video

    # bulk_create goes through pre_save, where auto_now_add would stamp every row "now".
    Video._meta.get_field("created_at").auto_now_add = False
    statuses = ["completed"] * 17 + ["failed", "moderated", "cancelled"]
    alice, reel = authors[0], accounts[0].team.collections.get()
    for low in range(start, until, 5000):
        batch = []
        for i in range(low, min(until, low + 5000)):
            rare = f" {RARE_WORD}" if i % RARE_EVERY == 7 else ""
            batch.append(
                Video(
                    team=team if i % 10 else other,
                    author=authors[i % len(authors)],
                    prompt=f"Benchmark shot number {i}: a slow dolly across a {COMMON_WORD} street "
                    f"at night, a {ANIMALS[i % len(ANIMALS)]} in the rain{rare}",
                    model=MODELS[i % len(MODELS)],
                    status=statuses[i % len(statuses)],
                    percent=100,
                    width=1280,
                    height=720,
                    duration=5.0,
                    file=f"videos/bench/{i}.mp4",
                    poster=f"videos/bench/{i}.jpg",
                    created_at=_made_at(i),
                    deleted_at=_made_at(i + 50) if i % 200 == 3 else None,
                )
            )
        videos = Video.objects.bulk_create(batch)
        Attempt.objects.bulk_create(
            Attempt(video=v, account=accounts[v.pk % len(accounts)], outcome="completed")
            for v in videos
            if v.team_id == team.pk
        )
        Favourite.objects.bulk_create(
            Favourite(user=alice, video=v)
            for v in videos
            if v.team_id == team.pk and v.pk % 50 == 0
        )
        CollectionItem.objects.bulk_create(
            CollectionItem(collection=reel, video=v)
            for v in videos
            if v.team_id == team.pk and v.pk % 100 == 2
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE videos_video SET attempt_id = (SELECT a.id FROM videos_attempt a "
                "WHERE a.video_id = videos_video.id) WHERE id >= %s AND team_id = %s",
                [videos[0].pk, team.pk],
            )
    Video._meta.get_field("created_at").auto_now_add = True


def _samples_ms(client, url: str, requests: int = REQUESTS, cpu=None, **headers) -> list[float]:
    """Server times of `requests` GETs of `url`; `cpu`, a list, also gets this process's CPU time
    of each (on SQLite that includes the database's work; on PostgreSQL it does not)."""
    client.get(url, **headers)  # warm caches and the connection
    samples = []
    for _ in range(requests):
        started, used = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - used) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _search_samples_ms(team, user, query: str) -> list[float]:
    """The search's own time: videos.search.gallery_search for the query string, without the
    page around it (sessions, the composer, the live panel, the cards' HTML)."""
    from django.http import QueryDict

    from videos.forms import GalleryForm
    from videos.search import gallery_search

    form = GalleryForm(QueryDict(query), team=team, user=user)
    assert form.is_valid(), form.errors
    filters, samples = form.filters(), []
    for _ in range(FILTER_REQUESTS + 1):
        started = time.perf_counter()
        gallery_search(team=team, user=user, filters=filters, size=24)
        samples.append((time.perf_counter() - started) * 1000)
    return samples[1:]


def _median_ms(client, url: str, **headers) -> float:
    return statistics.median(_samples_ms(client, url, **headers))


# Each search or filter case: enough for a 95th percentile, and the run stays in minutes.
FILTER_REQUESTS = 40


def _median_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def _filter_cases(team, size: int) -> dict[str, str]:
    """Each search and filter as a query string, for a history of `size` videos."""
    newest = _made_at(size).date()
    week_from, week_to = newest - dt.timedelta(days=37), newest - dt.timedelta(days=30)
    two_months = newest - dt.timedelta(days=60)
    account = team.accounts.order_by("pk")[1].pk
    reel = team.collections.get().pk
    return {
        "q common word": f"q={COMMON_WORD}",
        "q rare word": f"q={RARE_WORD}",
        "q two words": "q=heron+rain",
        "author=mine": "author=mine",
        "author=bob": "author=bob",
        "status=failed": "status=failed",
        "status=running": "status=running",
        "account": f"account={account}",
        "model": f"model={MODELS[1]}",
        "from/to (a week)": f"from={week_from}&to={week_to}",
        "fav=1": "fav=1",
        "collection": f"collection={reel}",
        "combination": f"q=lynx&author=mine&status=completed&from={two_months}",
    }


def _setup(sqlite: Path):
    """A fresh scratch database with alice, her team and another team's noise."""
    scratch_database(sqlite, create=True)
    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from tests.factories import add_member, make_team, make_user
    from videos.models import Collection, ProviderAccount

    setup_test_environment()
    call_command("migrate", verbosity=0)
    alice = make_user("alice")
    team = make_team("Bench", admin=alice)
    authors = [alice]
    for name in ("bob", "carol", "dave"):
        authors.append(make_user(name))
        add_member(team, authors[-1])
    accounts = [ProviderAccount.objects.get(team=team)]
    for name in ("Studio key", "Agency key"):
        accounts.append(ProviderAccount.objects.create(team=team, name=name, kind="minimax"))
    Collection.objects.create(team=team, name="Showreel", created_by=alice)
    other = make_team("Noise")
    add_member(other, alice)
    return alice, team, other, authors, accounts


def main() -> None:
    alice, team, other, authors, accounts = _setup(SQLITE)
    from django.test import Client

    from videos.models import Video

    client = Client()
    client.force_login(alice)

    rows, made = [], 0
    filtered: dict[str, dict[int, tuple]] = {}
    for size in SIZES:
        _fill(team, other, authors, accounts, size, made)
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
        for case, query in _filter_cases(team, size).items():
            cpu: list[float] = []
            page = _samples_ms(client, f"/?{query}", requests=FILTER_REQUESTS, cpu=cpu)
            own = _search_samples_ms(team, alice, query)
            found = len(client.get(f"/?{query}", **htmx).content.split(b'class="card ')) - 1
            figures = (*_median_p95(page), statistics.median(cpu), *_median_p95(own), found)
            filtered.setdefault(case, {})[size] = figures
            print(
                f"  {case:<22} page {figures[0]:6.1f} ms (CPU {figures[2]:5.1f}), search "
                f"{figures[3]:5.1f} ms median {figures[4]:5.1f} p95, {found} cards",
                flush=True,
            )

    engine = django.db.connection.vendor
    print(f"\nGallery server time, median of {REQUESTS} requests ({engine})")
    print(
        f"{'videos':>8} | {'gallery page':>12} | {'deepest page':>12} | {'progress fragment':>17}"
    )
    for size, page, deep, card in rows:
        print(f"{size:>8,} | {page:>9.1f} ms | {deep:>9.1f} ms | {card:>14.1f} ms")
    print(
        f"\nSearch and filters ({engine}), ms: the whole page (median, p95, CPU of this process) "
        f"and the search alone (videos.search.gallery_search: median, p95); {FILTER_REQUESTS} each"
    )
    print(
        f"{'case':<22} | {'videos':>7} | {'page':>6} | {'p95':>6} | {'CPU':>5} | "
        f"{'search':>6} | {'p95':>5} | cards"
    )
    for case, by_size in filtered.items():
        for size in SIZES:
            page, p95, cpu, own, own_p95, found = by_size[size]
            print(
                f"{case:<22} | {size:>7,} | {page:>6.1f} | {p95:>6.1f} | {cpu:>5.1f} | "
                f"{own:>6.1f} | {own_p95:>5.1f} | {found}"
            )
    worst = max((by[size][3], case, size) for case, by in filtered.items() for size in SIZES)
    print(f"RESULT search_worst_median_ms={worst[0]:.1f} ({worst[1]} at {worst[2]:,})")
    growth = rows[-1][1] / rows[0][1]
    print(
        f"RESULT page_10k_ms={rows[0][1]:.1f} page_100k_ms={rows[-1][1]:.1f} "
        f"fragment_10k_ms={rows[0][3]:.1f} fragment_100k_ms={rows[-1][3]:.1f} growth={growth:.2f}"
    )
    django.db.connections.close_all()
    scratch_database(SQLITE, create=False)


if __name__ == "__main__":
    main()
