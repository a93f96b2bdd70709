"""The detail dialog over the gallery, and Reuse, Retry and Continue, in headless Chromium."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.factories import image_bytes, make_video
from tests.test_browser import SHOTS, _sign_in, browser  # noqa: F401 (the fixture)
from videos.models import PromptImage, Video
from videos.providers.base import Job
from videos.providers.local import LocalRenderer

pytestmark = pytest.mark.slow
S = Video.Status


def _finished(cast, tmp_path, prompt: str) -> Video:
    job = Job(video_id=1, prompt=prompt, resolution="512P", duration=6)
    result = LocalRenderer().render(job, workdir=tmp_path, on_progress=lambda *_: None)
    video = make_video(
        cast.acme,
        cast.bob,
        status=S.COMPLETED,
        prompt=prompt,
        resolution="512P",
        requested_duration=6,
        width=result.width,
        height=result.height,
        duration=6.0,
        file_bytes=result.video_path.stat().st_size,
    )
    video.file.name = default_storage.save(
        "videos/c.mp4", ContentFile(result.video_path.read_bytes())
    )
    video.poster.name = default_storage.save(
        "videos/c.jpg", ContentFile(result.poster_path.read_bytes())
    )
    created = video.created_at
    video.submitted_at = created + timedelta(seconds=3)
    video.finished_at = created + timedelta(seconds=41)
    video.save(update_fields=["file", "poster", "submitted_at", "finished_at"])
    return video


def test_the_dialog_opens_browses_and_closes_with_the_url(cast, live_server, browser):  # noqa: F811
    older = make_video(cast.acme, cast.bob, status=S.FAILED, prompt="An older clip", error="Busy")
    newer = make_video(cast.acme, cast.bob, status=S.CANCELLED, prompt="A newer clip")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")

    page.click(f"#video-{newer.pk} a[data-detail]")
    page.wait_for_selector(f"dialog.detail-dialog[open] [data-video='{newer.pk}']")
    assert page.url == f"{live_server.url}/videos/{newer.pk}/"
    assert page.evaluate("document.activeElement.id") == "detail-title"

    page.keyboard.press("ArrowRight")
    page.wait_for_selector(f"dialog.detail-dialog[open] [data-video='{older.pk}']")
    assert page.url == f"{live_server.url}/videos/{older.pk}/"

    page.keyboard.press("Escape")
    page.wait_for_url(f"{live_server.url}/")
    assert not page.evaluate("document.querySelector('dialog.detail-dialog').open")

    # Back closes it too.
    page.click(f"#video-{older.pk} a[data-detail]")
    page.wait_for_selector("dialog.detail-dialog[open]")
    page.go_back()
    page.wait_for_function("() => !document.querySelector('dialog.detail-dialog').open")
    assert page.url == f"{live_server.url}/"

    # Retry inside the dialog: it closes, and the new card heads the gallery.
    page.click(f"#video-{older.pk} a[data-detail]")
    page.click("dialog.detail-dialog[open] button:has-text('Retry')")
    page.wait_for_function("() => !document.querySelector('dialog.detail-dialog').open")
    page.wait_for_url(f"{live_server.url}/")
    retry = Video.objects.latest("pk")
    page.wait_for_selector(f"#gallery-grid .card:first-child#video-{retry.pk}")
    assert retry.source_id == older.pk


def test_reuse_retry_and_continue_from_the_cards(cast, live_server, browser, tmp_path):  # noqa: F811
    finished = _finished(cast, tmp_path, "The keeper climbs the stairs")
    failed = make_video(cast.acme, cast.bob, status=S.FAILED, prompt="A storm", error="Busy")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")

    page.click(f"#video-{finished.pk} a[data-reuse]")
    page.wait_for_function(
        "() => document.querySelector('#id_prompt').value === 'The keeper climbs the stairs'"
    )
    # The caret goes in once htmx has settled the swap, a moment after the value is there.
    page.wait_for_function("() => document.activeElement.id === 'id_prompt'", timeout=5000)

    cards = page.locator("#gallery-grid .card")
    count = cards.count()
    page.click(f"#video-{failed.pk} button:has-text('Retry')")
    page.wait_for_function(
        f"() => document.querySelectorAll('#gallery-grid .card').length === {count + 1}"
    )
    retry = Video.objects.latest("pk")
    assert retry.source_id == failed.pk

    page.click(f"#video-{finished.pk} button:has-text('Continue')")
    page.wait_for_selector("#new-video input[name=image_stored]", state="attached")
    frame = PromptImage.objects.latest("pk")
    assert (frame.width, frame.height) == (finished.width, finished.height)
    assert page.get_attribute("#new-video input[name=source]", "value") == str(finished.pk)
    assert page.is_visible("#new-video .dropzone-preview img")


def test_screenshots_of_the_dialog_and_the_page(cast, live_server, browser, tmp_path):  # noqa: F811
    first = PromptImage(
        team=cast.acme,
        uploader=cast.bob,
        width=900,
        height=600,
        format="PNG",
        bytes=1000,
        original_name="harbour.png",
    )
    first.file.save("f.png", ContentFile(image_bytes(900, 600, color=(40, 110, 190))), save=False)
    first.save()
    make_video(cast.acme, cast.alice, status=S.FAILED, prompt="A storm over the pier", error="Busy")
    video = _finished(
        cast,
        tmp_path,
        "A lighthouse keeper climbs a spiral staircase at dusk, "
        "lantern swinging, slow tracking shot [Tracking shot]",
    )
    Video.objects.filter(pk=video.pk).update(image=first, model="MiniMax-Hailuo-02")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1440, 900), (390, 844)):
        page = browser.new_page(viewport={"width": width, "height": height})
        _sign_in(page, live_server, "bob")
        page.click(f"#video-{video.pk} a[data-detail]")
        page.wait_for_selector("dialog.detail-dialog[open] #video-detail")
        page.wait_for_function("() => document.querySelector('.detail-player').readyState >= 1")
        page.screenshot(path=f"{SHOTS}/detail-dialog-{width}.png")
        page.goto(f"{live_server.url}/videos/{video.pk}/")
        page.screenshot(path=f"{SHOTS}/detail-page-{width}.png", full_page=True)
        page.goto(f"{live_server.url}/")
        page.click(f"#video-{video.pk} a[data-reuse]")
        page.wait_for_selector("#new-video input[name=image_stored]", state="attached")
        page.screenshot(path=f"{SHOTS}/detail-reuse-{width}.png")
        page.close()
