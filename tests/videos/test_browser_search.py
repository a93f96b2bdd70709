"""Search and filters in real headless Chromium: the grid swaps, the URL follows, back works."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_video
from tests.test_browser import _shot, _sign_in, browser  # noqa: F401  (the fixture)
from videos.models import Collection, CollectionItem, Favourite, ProviderAccount, Video

pytestmark = pytest.mark.slow

CARDS = "#gallery-grid .card"


def _prompts(page) -> list[str]:
    return [text.strip() for text in page.locator(f"{CARDS} .card-prompt").all_inner_texts()]


def _wait_for_cards(page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#gallery-grid .card').length === n", arg=count
    )


def test_typing_a_search_swaps_results_and_back_undoes_it(cast, live_server, browser):  # noqa: F811
    make_video(cast.acme, cast.bob, prompt="A red fox crosses the snow")
    make_video(cast.acme, cast.alice, prompt="A whale breaches at dawn")
    make_video(cast.acme, cast.bob, prompt="The fox sleeps")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")
    _wait_for_cards(page, 3)
    marker = page.evaluate("() => (window.sameDocument = 'yes')")

    page.locator("#filter-q").press_sequentially("fox")
    page.wait_for_url(re.compile(r"/\?q=fox$"))
    _wait_for_cards(page, 2)
    assert _prompts(page) == ["The fox sleeps", "A red fox crosses the snow"]
    assert page.evaluate("() => window.sameDocument") == marker, "swapped, not reloaded"
    assert page.locator(".chip").count() == 1 and "“fox”" in page.locator(".chip").inner_text()

    page.select_option("select[name=author]", "alice")
    page.wait_for_url(re.compile(r"/\?q=fox&author=alice$"))
    assert page.locator("text=No videos match these filters.").is_visible()

    page.go_back()
    page.wait_for_url(re.compile(r"/\?q=fox$"))
    _wait_for_cards(page, 2)
    assert page.input_value("#filter-q") == "fox"
    assert page.input_value("select[name=author]") == ""
    page.go_back()
    page.wait_for_url(f"{live_server.url}/")
    _wait_for_cards(page, 3)
    assert page.input_value("#filter-q") == ""
    page.go_forward()
    page.wait_for_url(re.compile(r"/\?q=fox$"))
    _wait_for_cards(page, 2)
    assert page.input_value("#filter-q") == "fox"


def test_a_bookmarked_filter_url_opens_filtered(cast, live_server, browser):  # noqa: F811
    reel = Collection.objects.create(team=cast.acme, name="Showreel", created_by=cast.alice)
    in_reel = make_video(cast.acme, cast.bob, prompt="Reel: a heron takes off", status="failed")
    starred = make_video(cast.acme, cast.bob, prompt="Starred: neon rain", status="failed")
    make_video(cast.acme, cast.bob, prompt="Plain: a lighthouse", status="completed")
    make_video(cast.acme, cast.alice, prompt="Alice's: a failed kite", status="failed")
    CollectionItem.objects.create(collection=reel, video=in_reel)
    Favourite.objects.create(user=cast.bob, video=starred)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")

    page.goto(f"{live_server.url}/?author=mine&status=failed")
    assert _prompts(page) == ["Starred: neon rain", "Reel: a heron takes off"]
    assert page.input_value("select[name=author]") == "mine"
    assert page.input_value("select[name=status]") == "failed"
    page.goto(f"{live_server.url}/?collection={reel.pk}")
    assert _prompts(page) == ["Reel: a heron takes off"]
    page.goto(f"{live_server.url}/?fav=1")
    assert _prompts(page) == ["Starred: neon rain"]
    assert page.is_checked("input[name=fav]")

    # account=, model=, from=/to=: each opens filtered, its control showing the value.
    minimax = ProviderAccount.objects.create(team=cast.acme, name="Studio key", kind="minimax")
    old = make_video(
        cast.acme,
        cast.bob,
        prompt="Old: a tram in snow",
        model="MiniMax-Hailuo-02",
        account=minimax,
    )
    Video.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    day = (timezone.localdate() - timedelta(days=40)).isoformat()
    for query, control in (
        (f"account={minimax.pk}", ".filters-fields select[name=account]"),
        ("model=MiniMax-Hailuo-02", ".filters-fields select[name=model]"),
        (f"from={day}&to={day}", ".filters-fields input[name=from]"),
    ):
        page.goto(f"{live_server.url}/?{query}")
        assert _prompts(page) == ["Old: a tram in snow"], query
        assert page.input_value(control) == query.split("=")[1].split("&")[0], query
    page.goto(f"{live_server.url}/?to={day}")
    assert _prompts(page) == ["Old: a tram in snow"]
    page.goto(f"{live_server.url}/?from={timezone.localdate().isoformat()}")
    assert "Old: a tram in snow" not in _prompts(page) and len(_prompts(page)) == 4

    page.goto(f"{live_server.url}/?status=failed&author=mine&q=neon")
    page.click(".chip:has-text('Mine')")  # removes that filter only
    page.wait_for_url(re.compile(r"/\?q=neon&status=failed$"))
    assert _prompts(page) == ["Starred: neon rain"]
    page.click("text=Clear all")
    page.wait_for_url(f"{live_server.url}/")
    _wait_for_cards(page, 5)


def test_slash_focuses_the_search_and_escape_clears_it(cast, live_server, browser):  # noqa: F811
    make_video(cast.acme, cast.bob, prompt="A red fox")
    make_video(cast.acme, cast.bob, prompt="A whale")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "filter-q"
    assert page.input_value("#filter-q") == "", "the slash is not typed"
    page.keyboard.type("whale")
    page.wait_for_url(re.compile(r"/\?q=whale$"))
    _wait_for_cards(page, 1)
    page.keyboard.press("Escape")
    page.wait_for_url(f"{live_server.url}/")
    _wait_for_cards(page, 2)
    assert page.input_value("#filter-q") == ""
    # In a text field, "/" is just a character.
    page.fill("#id_prompt", "")
    page.focus("#id_prompt")
    page.keyboard.press("/")
    assert page.input_value("#id_prompt") == "/"


def test_the_filters_fold_behind_a_button_on_a_phone(cast, live_server, browser):  # noqa: F811
    Collection.objects.create(team=cast.acme, name="Showreel", created_by=cast.alice)
    for i, status in enumerate(["completed", "failed", "completed", "completed"]):
        make_video(cast.acme, cast.bob, prompt=f"Neon street, take {i}", status=status)
    make_video(cast.acme, cast.alice, prompt="A heron over the marsh", status="completed")
    query = "/?q=neon&author=mine&status=completed"
    desk = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(desk, live_server, "bob")
    desk.goto(f"{live_server.url}{query}")
    assert desk.locator("select[name=status]").is_visible(), "open beside the grid"
    assert not desk.locator(".filters-toggle").is_visible()
    _shot(desk, "filters-1440")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _sign_in(phone, live_server, "bob")
    phone.goto(f"{live_server.url}{query}")
    assert not phone.locator("select[name=status]").is_visible(), "folded away"
    assert phone.locator(".filters-count").inner_text() == "2"
    phone.click(".filters-toggle")
    assert phone.locator("select[name=status]").is_visible()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    _shot(phone, "filters-390")
