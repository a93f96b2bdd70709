"""Favourites, collections and density in real headless Chromium."""

import pytest

from studio.teams.models import Membership
from tests.factories import make_video
from tests.test_browser import _sign_in, browser  # noqa: F401  (the fixture)
from videos import services
from videos.models import Collection, GalleryPrefs

pytestmark = pytest.mark.slow


def _videos(cast, *prompts):
    return [make_video(cast.acme, cast.bob, prompt=p, status="failed") for p in prompts]


def test_a_star_stays_after_a_reload_and_only_for_its_member(cast, live_server, browser):  # noqa: F811
    _videos(cast, "A fox in the snow", "A lighthouse at dusk")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")
    card = page.locator(".card", has_text="A lighthouse at dusk")
    star = card.locator("[data-star]")
    assert star.get_attribute("aria-pressed") == "false"
    star.click()
    page.wait_for_selector(".card:has-text('A lighthouse at dusk') [data-star][aria-pressed=true]")
    assert card.locator("[data-star]").get_attribute("aria-label") == "Remove from favourites"
    page.reload()
    assert card.locator("[data-star]").get_attribute("aria-pressed") == "true"
    other = page.locator(".card", has_text="A fox in the snow").locator("[data-star]")
    assert other.get_attribute("aria-pressed") == "false"

    alice = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(alice, live_server, "alice")
    assert alice.locator("[data-star][aria-pressed=true]").count() == 0


def test_a_collection_is_made_filled_and_opened_as_a_gallery(cast, live_server, browser):  # noqa: F811
    kept, _other = _videos(cast, "Kept in the reel", "Left out of the reel")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")
    page.click("nav >> text=Collections")
    page.wait_for_url(f"{live_server.url}/collections/")
    page.fill("#id_name", "Showreel")
    page.click(".collection-create button[type=submit]")
    page.wait_for_selector(".collection-card:has-text('Showreel')")
    assert "Created the collection “Showreel”." in page.text_content(".flash")

    collection = Collection.objects.get(name="Showreel")
    bob = Membership.objects.get(user=cast.bob, team=cast.acme)
    services.collection_add(collection=collection, membership=bob, videos=[kept])
    page.reload()
    assert "1 video" in page.text_content(f"#collection-{collection.pk} .collection-count")

    page.click(f"#collection-{collection.pk} .collection-name a")
    page.wait_for_url(f"{live_server.url}/?collection={collection.pk}")
    page.wait_for_selector("#gallery-grid .card")
    prompts = page.locator("#gallery-grid .card .card-prompt").all_text_contents()
    assert [p.strip() for p in prompts] == ["Kept in the reel"]


def test_compact_density_applies_at_once_and_is_remembered(cast, live_server, browser):  # noqa: F811
    _videos(cast, *[f"Clip number {n}" for n in range(8)])
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")
    grid = page.locator("#gallery-grid")
    assert "grid-comfortable" in grid.get_attribute("class")
    comfortable_width = page.locator("#gallery-grid .card").first.bounding_box()["width"]
    with page.expect_response(lambda r: r.url.endswith("/gallery/density")) as answer:
        page.click("[data-density-choice=compact]")
    assert answer.value.status == 200
    assert "grid-compact" in grid.get_attribute("class"), "no reload needed"
    assert page.url == f"{live_server.url}/"
    assert page.get_attribute("[data-density-choice=compact]", "aria-pressed") == "true"
    compact_width = page.locator("#gallery-grid .card").first.bounding_box()["width"]
    assert compact_width < comfortable_width * 0.75
    page.reload()
    assert "grid-compact" in page.get_attribute("#gallery-grid", "class")
    assert GalleryPrefs.objects.get(user=cast.bob).density == "compact"


def test_density_without_javascript_comes_back_to_the_same_view(cast, live_server, browser):  # noqa: F811
    GalleryPrefs.objects.create(user=cast.bob, density="compact")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    _sign_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/?fav=1")
    page.click("[data-density-choice=comfortable]")
    page.wait_for_url(f"{live_server.url}/?fav=1")
    assert "grid-comfortable" in page.get_attribute("#gallery-grid", "class")
    context.close()
