"""Usage and quotas in real headless Chromium: the figures of the attempts made, the CSV, and a
quota set on the page refusing the next video in the composer and in the API."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from studio.api import services as api_services
from tests.factories import make_video
from tests.test_browser import _shot, _sign_in, browser  # noqa: F401  (the fixture)
from videos.models import Attempt, ProviderAccount, Video

pytestmark = pytest.mark.slow


def _priced(team) -> ProviderAccount:
    return ProviderAccount.objects.create(
        team=team,
        name="Studio key",
        kind="minimax",
        price_per_video=Decimal("0.30"),
        price_per_second=Decimal("0.05"),
    )


def _attempt(team, author, account, *, seconds: float, outcome: str, days_ago: int = 0):
    started = timezone.now() - timedelta(days=days_ago)
    return make_video(
        team,
        author,
        status="completed" if outcome == "completed" else "failed",
        prompt=f"A {outcome} shot",
        duration=seconds,
        account=account,
        outcome=outcome,
        started_at=started,
        price_per_video=account.price_per_video,
        price_per_second=account.price_per_second,
    )


def test_the_usage_page_shows_the_attempts_made_and_exports_them(cast, live_server, browser):  # noqa: F811
    key = _priced(cast.acme)
    _attempt(cast.acme, cast.bob, key, seconds=6.0, outcome="completed")  # 0.30 + 0.30
    _attempt(cast.acme, cast.bob, key, seconds=10.0, outcome="completed", days_ago=2)  # 0.80
    _attempt(cast.acme, cast.bob, key, seconds=6.0, outcome=Attempt.Outcome.FAILED)  # 0.30
    _attempt(cast.acme, cast.alice, key, seconds=6.0, outcome="completed")  # 0.60
    make_video(cast.acme, cast.bob, prompt="Never reached an account")
    page = browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    _sign_in(page, live_server, "alice")
    page.click("nav >> text=Usage")
    page.wait_for_url(f"{live_server.url}/team/usage/")
    stats = page.locator(".usage-summary .stat-value").all_inner_texts()
    assert stats == ["4", "22", "2.30"]
    by_member = page.locator("section:has(h2:text('By member')) tbody tr").all_inner_texts()
    assert [row.split("\t") for row in by_member] == [
        ["bob", "3", "16", "1.70"],
        ["alice", "1", "6", "0.60"],
    ]
    assert page.locator("svg.bars rect").count() == 2 * 30, "a bar a day, twice"
    _shot(page, "usage-1440")

    with page.expect_download() as caught:
        page.click("text=Download CSV")
    lines = Path(caught.value.path()).read_text().splitlines()
    assert lines[0] == "period,member,account,videos,seconds,cost,currency"
    assert sorted(line.split(",")[1:] for line in lines[1:]) == [
        ["alice", "Studio key", "1", "6.0", "0.60", "USD"],
        ["bob", "Studio key", "1", "10.0", "0.80", "USD"],
        ["bob", "Studio key", "2", "6.0", "0.90", "USD"],
    ]

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    _shot(page, "usage-390")


def test_a_quota_set_on_the_page_refuses_the_next_video_in_the_composer_and_the_api(
    cast,
    live_server,
    browser,  # noqa: F811
):
    admin = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(admin, live_server, "alice")
    admin.goto(f"{live_server.url}/team/usage/")
    admin.fill("input[aria-label='Videos a day for bob']", "1")
    admin.locator("tr:has-text('bob') button:text('Save')").click()
    admin.wait_for_selector("text=Saved the quota of bob.")

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")
    assert "1 of 1 video left today" in page.text_content("#quota-left")
    page.fill("#id_prompt", "The one video bob may make today")
    page.click("#new-video button[type=submit]")
    page.wait_for_selector("#gallery-grid .card")
    page.wait_for_function(
        "() => document.querySelector('#quota-left').textContent.includes('0 of 1 video')"
    )
    page.fill("#id_prompt", "One too many")
    page.click("#new-video button[type=submit]")
    error = page.locator("#new-video [role=alert], #new-video .error").first
    error.wait_for()
    assert "Your quota is 1 video a day, and you have made 1 today." in error.text_content()
    assert Video.objects.filter(author=cast.bob).count() == 1
    _shot(page, "quota-refused-1440")

    _, token = api_services.api_token_create(user=cast.bob, team=cast.acme, name="batch")
    answer = requests.post(
        f"{live_server.url}/v1/minimax/videos/create",
        json={"prompt": "From a script"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error"].startswith("Your quota is 1 video a day")
