"""The gallery's one poll per page and "finished while you were away", in headless Chromium.

No worker runs: the running cards are videos left in PROCESSING, and a test finishes one by
writing its row, as a worker would."""

from itertools import pairwise

import pytest
from django.utils import timezone

from tests.factories import make_video
from tests.test_browser import _sign_in, browser  # noqa: F401  (the fixture)
from videos.models import ProviderAccount, Video

pytestmark = pytest.mark.slow
POLL = "/videos/poll"


def _running(cast, author, n: int, prompt: str = "Running shot") -> list[Video]:
    local = ProviderAccount.objects.get(team=cast.acme, kind="local")
    return [
        make_video(
            cast.acme,
            author,
            prompt=f"{prompt} {i}",
            status=Video.Status.PROCESSING,
            percent=10,
            account=local,
            started_at=timezone.now(),
        )
        for i in range(n)
    ]


def _finish(video: Video, status: str = Video.Status.COMPLETED) -> None:
    Video.objects.filter(pk=video.pk).update(status=status, percent=100, finished_at=timezone.now())


def _gallery(browser, live_server, username: str):  # noqa: F811
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    _sign_in(page, live_server, username)
    return page, requests


def _set_visibility(page, *, hidden: bool) -> None:
    """What switching to another tab and back does to the page, as far as live.js can tell."""
    page.evaluate(
        """hidden => {
            const state = hidden ? 'hidden' : 'visible';
            Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
            Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


def _next_poll(page, timeout: float = 10_000):
    with page.expect_request(lambda r: POLL in r.url, timeout=timeout) as poll:
        pass
    return poll.value


def test_a_page_of_running_cards_sends_one_poll_per_interval_and_none_per_card(
    cast,
    live_server,
    browser,  # noqa: F811
):
    videos = _running(cast, cast.bob, 6)
    page, requests = _gallery(browser, live_server, "bob")
    polls = [_next_poll(page) for _ in range(3)]
    for poll in polls:
        asked = poll.url.split("cards=")[1]
        assert sorted(int(item.split("-")[0]) for item in asked.split("%2C")) == sorted(
            v.pk for v in videos
        ), "every running card, in one request"
    # When each poll left, by the page's own clock (an entry appears once it is answered).
    entries = f"performance.getEntriesByType('resource').filter(e => e.name.includes('{POLL}'))"
    page.wait_for_function(f"() => {entries}.length >= 3")
    started = page.evaluate(f"{entries}.map(e => e.startTime)")
    gaps = [b - a for a, b in pairwise(started)]
    assert len(started) >= 3 and all(gap >= 1950 for gap in gaps), f"one per 2 s: {gaps}"
    assert not [url for url in requests if "/card" in url], "no card polls on its own"


def test_a_card_that_finishes_updates_in_place_and_the_polling_stops(
    cast,
    live_server,
    browser,  # noqa: F811
):
    (video,) = _running(cast, cast.bob, 1)
    page, _ = _gallery(browser, live_server, "bob")
    _next_poll(page)
    _finish(video)
    page.wait_for_selector(f"#video-{video.pk}.status-completed")
    assert page.locator(".card").count() == 1, "replaced, not added"
    assert page.get_attribute(f"#video-{video.pk}", "data-live") is None
    with pytest.raises(Exception, match="Timeout"):
        _next_poll(page, timeout=4_500)  # nothing runs: no more polls


def test_the_title_counts_own_videos_that_finished_while_the_tab_was_hidden(
    cast,
    live_server,
    browser,  # noqa: F811
):
    mine = _running(cast, cast.bob, 2, prompt="Paper boat in the rain")
    (theirs,) = _running(cast, cast.alice, 1, prompt="Alice's shot")
    page, _ = _gallery(browser, live_server, "bob")
    title = page.title()
    _set_visibility(page, hidden=True)
    _finish(theirs)
    _finish(mine[0])
    page.wait_for_selector(f"#video-{mine[0].pk}.status-completed")
    page.wait_for_selector(f"#video-{theirs.pk}.status-completed")
    assert page.title() == f"(1) {title}", "only bob's own video counts"
    announced = page.text_content("#live-announcer")
    assert "Your video \u201cPaper boat in the rain 0\u201d finished" in announced
    _finish(mine[1], Video.Status.FAILED)
    page.wait_for_function("() => document.title.startsWith('(2) ')")
    assert "\u201cPaper boat in the rain 1\u201d failed" in page.text_content("#live-announcer")
    _set_visibility(page, hidden=False)
    assert page.title() == title


def test_ctrl_enter_submits_the_composer_and_the_new_card_joins_the_poll(
    cast,
    live_server,
    browser,  # noqa: F811
):
    page, _ = _gallery(browser, live_server, "bob")
    page.fill("#id_prompt", "A kite over the dunes at noon")
    page.press("#id_prompt", "Control+Enter")
    card = page.locator("#gallery-grid .card").first
    card.wait_for()
    video = Video.objects.get()
    assert card.get_attribute("id") == f"video-{video.pk}"
    # Drawn by the composer's view, without its queue state: the page asks about it at once.
    poll = _next_poll(page)
    assert f"cards={video.pk}-" in poll.url
    page.wait_for_selector(f"#video-{video.pk} .wait-starting")


def test_the_notification_switch_asks_only_when_pressed(
    cast,
    live_server,
    browser,  # noqa: F811
):
    _running(cast, cast.bob, 1)
    page, _ = _gallery(browser, live_server, "bob")
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    button = page.locator("[data-live-notify]")
    assert button.is_visible() and button.get_attribute("aria-pressed") == "false"
    button.click()
    page.wait_for_selector("[data-live-notify][aria-pressed=true]")
    assert page.evaluate("localStorage.getItem('studio.live.notify')") == "on"


def test_submitting_over_an_empty_or_a_full_gallery_raises_no_htmx_error(
    cast,
    live_server,
    browser,  # noqa: F811
):
    page, _ = _gallery(browser, live_server, "bob")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    page.evaluate(
        "document.body.addEventListener('htmx:oobErrorNoTarget',"
        " e => console.error('oobErrorNoTarget ' + e.detail.content.id))"
    )
    assert page.is_visible("#gallery-empty.empty-state")
    for n, prompt in enumerate(["The first video", "The second video"], 1):
        page.fill("#id_prompt", prompt)
        page.click("#new-video button[type=submit]")
        page.wait_for_function(
            "n => document.querySelectorAll('#gallery-grid .card').length === n", arg=n
        )
        # The empty state goes in the same response, swapped out of band a moment later.
        page.wait_for_function(
            "() => !document.querySelector('#gallery-empty.empty-state')", timeout=5000
        )
    assert not [e for e in errors if "oobErrorNoTarget" in e], errors
