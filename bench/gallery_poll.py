"""The gallery's one poll per page: its server time, and the requests a viewer sends.

A scratch database with 10,000 finished videos of history (their attempts give the ETAs their
durations) and a page of 24 cards in progress. Reports:

- the server time of one poll (median and p95 over 200 polls): nothing changed (204), three
  cards changed (200 with three out-of-band cards), and a page where 8 of the 24 are queued
  (their queue states and ETAs read too);
- the requests one viewer's tab sends per minute with those 24 running cards, counted from a
  headless Chromium page over 20 s: before (each card polling itself every 2 s, as the gallery
  did; emulated in the page with htmx.ajax per card, since the cards no longer do it) and after
  (the page's one poll).

    .venv/bin/python bench/gallery_poll.py                 # scratch SQLite file in var/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench_poll \
        .venv/bin/python bench/gallery_poll.py

The PostgreSQL database is created if missing and dropped afterwards; the SQLite file is removed.
"""

import os
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import migrated_team, scratch_database, scratch_environment  # noqa: E402

SQLITE = scratch_environment("bench-gallery-poll", hosts="testserver,localhost,127.0.0.1")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop in this thread; plain ORM


HISTORY = 10_000
CARDS = 24
POLLS = 200
BROWSER_SECONDS = 20
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def _setup():
    alice, team = migrated_team(SQLITE)
    from videos.models import ProviderAccount

    ProviderAccount.objects.filter(team=team).update(max_jobs=10)
    for name in ("Studio key", "Agency key"):
        ProviderAccount.objects.create(team=team, name=name, kind="minimax", max_jobs=10)
    return alice, team


def _fill(team, author) -> None:
    """HISTORY finished videos, each with the completed attempt an ETA reads."""
    from django.utils import timezone

    from videos.models import Attempt, ProviderAccount, Video

    accounts = list(ProviderAccount.objects.filter(team=team))
    now = timezone.now()
    for start in range(0, HISTORY, 2000):
        videos = Video.objects.bulk_create(
            Video(
                team=team,
                author=author,
                prompt=f"History shot {i}: a slow dolly across a neon street at night",
                status="completed",
                percent=100,
            )
            for i in range(start, start + 2000)
        )
        attempts = Attempt.objects.bulk_create(
            Attempt(
                video=v,
                account=accounts[v.pk % len(accounts)],
                outcome="completed",
                created_at=now - timedelta(hours=2, seconds=v.pk % 30 + 100),
                started_at=now - timedelta(hours=2, seconds=100),
                finished_at=now - timedelta(hours=2) + timedelta(seconds=v.pk % 60),
            )
            for v in videos
        )
        for video, attempt in zip(videos, attempts, strict=True):
            video.attempt = attempt
        Video.objects.bulk_update(videos, ["attempt"])


def _cards(team, author, *, queued: int = 0) -> list:
    """CARDS videos in progress (newest on the page): running on the accounts, no worker, so
    they stay running; the last `queued` of them queued instead."""
    from tests.factories import make_video
    from videos.models import ProviderAccount, Video

    Video.objects.filter(team=team, status__in=Video.ACTIVE).update(status="completed")
    accounts = list(ProviderAccount.objects.filter(team=team))
    from django.utils import timezone

    videos = []
    for i in range(CARDS):
        if i >= CARDS - queued:
            videos.append(make_video(team, author, prompt=f"Queued {i}"))
            continue
        videos.append(
            make_video(
                team,
                author,
                prompt=f"Running {i}",
                status="processing",
                percent=20,
                account=accounts[i % len(accounts)],
                started_at=timezone.now(),
            )
        )
    return videos


def _keys(client) -> dict[int, str]:
    import re

    from django.urls import reverse

    page = client.get(reverse("gallery")).content.decode()
    pattern = r'id="video-(\d+)"\s+data-status="\w+" data-live="(\w*)"'
    return {int(i): k for i, k in re.findall(pattern, page)}


def _time_polls(client, cards: dict[int, str], expect: int) -> tuple[float, float]:
    from django.urls import reverse

    query = {"cards": ",".join(f"{pk}-{key}" for pk, key in cards.items())}
    url = reverse("videos_poll")
    client.get(url, query)  # warm
    samples = []
    for _ in range(POLLS):
        started = time.perf_counter()
        response = client.get(url, query, HTTP_HX_REQUEST="true")
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expect, (response.status_code, response.content[:300])
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def _server_times(client, team, author) -> list[tuple[str, float, float]]:
    rows = []
    _cards(team, author)
    keys = _keys(client)
    assert len(keys) == CARDS, len(keys)
    rows.append(("24 running, nothing changed (204)", *_time_polls(client, keys, 204)))
    stale = dict(keys)
    for pk in list(stale)[:3]:
        stale[pk] = "0"
    rows.append(("24 running, 3 changed (200)", *_time_polls(client, stale, 200)))
    _cards(team, author, queued=8)
    keys = _keys(client)
    rows.append(("16 running + 8 queued, nothing changed", *_time_polls(client, keys, 204)))
    return rows


def _browser_rates(client, team, author) -> tuple[float, float]:
    """Requests per minute from one tab with CARDS running cards: (before, after)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    _cards(team, author)
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    url = f"http://127.0.0.1:{server.port}"
    session = client.cookies["sessionid"].value
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.add_cookies([{"name": "sessionid", "value": session, "url": url}])
            after = _count(context, url, old=False)
            before = _count(context, url, old=True)
            browser.close()
    finally:
        server.terminate()
    scale = 60 / BROWSER_SECONDS
    return before * scale, after * scale


# The gallery before issue 13: each running card carried hx-get=".../card" hx-trigger="every 2s"
# hx-swap="outerHTML", and so did the card each poll brought back. Emulated by putting those
# attributes back on every card in progress, on load and after each swap.
OLD_POLLING = """() => {
    document.getElementById('live-poller').remove();
    const perCard = card => {
        if (!card.matches || !card.matches('.card[data-live]')) return;
        if (card.hasAttribute('hx-get')) return;
        card.setAttribute('hx-get', `/videos/${card.id.slice('video-'.length)}/card`);
        card.setAttribute('hx-trigger', 'every 2s');
        card.setAttribute('hx-swap', 'outerHTML');
        htmx.process(card);
    };
    document.addEventListener('htmx:load', e => perCard(e.detail.elt));
    document.querySelectorAll('.card[data-live]').forEach(perCard);
}"""


def _count(context, url: str, *, old: bool) -> int:
    page = context.new_page()
    page.goto(f"{url}/")
    page.wait_for_selector(".card[data-live]")
    if old:
        page.evaluate(OLD_POLLING)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.wait_for_timeout(BROWSER_SECONDS * 1000)
    page.close()
    wanted = "/card" if old else "/videos/poll"
    return sum(1 for u in seen if wanted in u)


def main() -> None:
    alice, team = _setup()
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(alice)
    _fill(team, alice)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Database: {connection.vendor}; {HISTORY:,} finished videos; {CARDS} cards in progress")
    print(f"{'poll':<42} {'median ms':>10} {'p95 ms':>8}")
    for name, median, p95 in _server_times(client, team, alice):
        print(f"{name:<42} {median:>10.2f} {p95:>8.2f}")
    before, after = _browser_rates(client, team, alice)
    print(f"Requests per viewer per minute, {CARDS} running cards (Chromium, {BROWSER_SECONDS} s):")
    print(
        f"  before (a poll per card, every 2 s): {before:.0f}  (theory {CARDS * 30}; issue: ~580)"
    )
    print(f"  after (one poll per page):            {after:.0f}")
    connection.close()
    scratch_database(SQLITE, create=False)


if __name__ == "__main__":
    main()
