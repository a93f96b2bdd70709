"""Bulk actions in real Chromium: select with Shift-click, download the zip, join three clips."""

import io
import os
import zipfile
from pathlib import Path

import av
import pytest

from tests.conftest import wait_for
from tests.test_browser import _sign_in, browser  # noqa: F401
from tests.videos.test_bulk import finished_video
from videos.models import Video

pytestmark = pytest.mark.slow

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parents[2] / "test-artifacts"))


def _shot(page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _clips(cast, tmp_path, n: int = 4) -> list[Video]:
    prompts = [
        "A lighthouse on a stormy coast at dusk",
        "Neon city rain, a taxi passes slowly",
        "A fox trots through fresh snow at dawn",
        "Sunrise over lavender fields, drone shot",
    ]
    colors = [(40, 90, 200), (200, 60, 120), (230, 140, 40), (120, 70, 200)]
    return [
        finished_video(
            cast.acme,
            cast.bob,
            tmp_path,
            prompt=prompts[i],
            size=(320, 180),
            seconds=1.0,
            color=colors[i],
        )
        for i in range(n)
    ]


def _select_three(page) -> None:
    """The first card, then Shift+click on the third: a range of three."""
    boxes = page.locator("#gallery-grid input[data-select]")
    boxes.nth(0).click()
    page.wait_for_selector("[data-bulkbar].is-active")
    boxes.nth(2).click(modifiers=["Shift"])
    page.wait_for_function("() => document.querySelector('[data-bulk-count]').textContent === '3'")


def test_a_member_selects_a_range_downloads_a_zip_and_joins_three_clips(
    cast,
    live_server,
    worker_factory,
    browser,  # noqa: F811
    tmp_path,
):
    _clips(cast, tmp_path)
    page = browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    _sign_in(page, live_server, "bob")
    assert not page.is_visible("[data-bulkbar]"), "the bar waits for a selection"
    _select_three(page)
    numbers = page.locator("#gallery-grid [data-select-order]").all_text_contents()
    assert numbers == ["1", "2", "3", ""], "the order of selection, shown on the cards"
    assert page.locator(".card.is-selected").count() == 3
    assert not page.is_visible("[data-bulk-remove]"), "Remove is for a collection's own gallery"
    _shot(page, "bulk-selected-1440")

    with page.expect_download() as caught:
        page.click("[data-bulk-zip]")
    download = caught.value
    assert download.suggested_filename.endswith("-3-videos.zip")
    archive = zipfile.ZipFile(download.path())
    names = archive.namelist()
    assert len(names) == 3 and all(n.endswith(".mp4") for n in names)
    for name in names:
        with av.open(io.BytesIO(archive.read(name))) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == 24

    page.click("[data-bulk-join]")
    page.wait_for_selector("#bulk-status .bulk-ok")
    assert "Joining 3 clips" in page.text_content("#bulk-status")
    joined = Video.objects.get(kind=Video.Kind.JOIN)
    first = page.locator("#gallery-grid .card").first
    assert first.get_attribute("id") == f"video-{joined.pk}"
    assert page.locator("#gallery-grid input[data-select]:checked").count() == 0, (
        "a join clears the selection"
    )

    worker_factory()
    wait_for(
        lambda: Video.objects.filter(pk=joined.pk, status="completed").exists(),
        timeout=120,
        what="the join to complete",
    )
    page.reload()
    card = page.locator(f"#video-{joined.pk}")
    assert "status-completed" in card.get_attribute("class")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(SHOTS / "bulk-joined-card.png"))
    joined.refresh_from_db()
    assert joined.duration == pytest.approx(3.0, abs=0.2)


def test_on_a_phone_the_bar_floats_over_the_gallery_and_esc_clears_it(
    cast,
    live_server,
    browser,  # noqa: F811
    tmp_path,
):
    _clips(cast, tmp_path)
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _sign_in(page, live_server, "bob")
    _select_three(page)
    _shot(page, "bulk-selected-390")
    page.click("[data-bulk-all]")
    assert page.text_content("[data-bulk-count]") == "4"
    numbers = page.locator("#gallery-grid [data-select-order]").all_text_contents()
    assert numbers == ["1", "2", "3", "4"], "the ones picked first keep their place"
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-bulkbar]", state="hidden")
    assert page.locator("#gallery-grid input[data-select]:checked").count() == 0


def test_without_javascript_ticked_cards_go_to_the_trash(
    cast,
    live_server,
    browser,  # noqa: F811
    tmp_path,
):
    videos = _clips(cast, tmp_path, 2)
    viewport = {"width": 1440, "height": 900}
    context = browser.new_context(java_script_enabled=False, viewport=viewport)
    page = context.new_page()
    _sign_in(page, live_server, "bob")
    for video in videos:
        page.check(f"#video-{video.pk} input[data-select]")
    page.click("#bulk-form button[value=delete]")
    page.wait_for_selector(".flash-success")
    assert "2 moved to trash." in page.text_content(".flash")
    assert Video.objects.filter(deleted_at__isnull=False).count() == 2
