"""Ownership and the Trash in real headless Chromium: who sees Delete, the toast's Undo, and
the Trash page's Restore. Screenshots at 1440 and 390 px land in SCREENSHOT_DIR."""

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from studio.teams.models import Membership
from tests.factories import make_video
from tests.test_browser import SHOTS, _sign_in, browser  # noqa: F401  (the fixture)
from videos import services
from videos.models import Video

pytestmark = pytest.mark.slow

COLOURS = [(58, 92, 180), (200, 96, 60), (40, 140, 120), (150, 70, 170), (190, 150, 50)]


def _poster(colour) -> bytes:
    """A 16:9 gradient, so the cards and the Trash's thumbnails look like videos."""
    image = Image.new("RGB", (640, 360), colour)
    draw = ImageDraw.Draw(image)
    for y in range(360):
        shade = tuple(int(c * (1 - y / 540)) for c in colour)
        draw.line([(0, y), (640, y)], fill=shade)
    draw.ellipse([420, 60, 560, 200], fill=tuple(min(255, c + 70) for c in colour))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _finished(cast, author, prompt: str, n: int) -> Video:
    video = make_video(
        cast.acme, author, prompt=prompt, status="completed", width=1280, height=720, duration=6
    )
    video.poster.save(f"p{video.pk}.jpg", ContentFile(_poster(COLOURS[n % 5])), save=False)
    video.file.save(f"v{video.pk}.mp4", ContentFile(b"\0\0\0\x18ftypmp42"), save=False)
    video.save(update_fields=["poster", "file"])
    return video


def _shot(page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")  # every poster in
    page.screenshot(path=str(SHOTS / f"trash-{name}.png"), full_page=full_page)


def _prompts(page) -> list[str]:
    return [p.strip() for p in page.locator("#gallery-grid .card .card-prompt").all_text_contents()]


@pytest.mark.parametrize("width", [1440, 390])
def test_delete_undo_and_restore_from_the_trash(cast, live_server, browser, width):  # noqa: F811
    theirs = _finished(cast, cast.alice, "Alice's timelapse of a city at night", 0)
    _finished(cast, cast.bob, "A paper boat drifts across a rain puddle", 1)
    mine = _finished(cast, cast.bob, "Slow dolly through a misty pine forest", 2)
    _finished(cast, cast.bob, "A hummingbird hovers at a red flower", 3)
    page = browser.new_page(viewport={"width": width, "height": 900})
    _sign_in(page, live_server, "bob")
    before = _prompts(page)

    # bob may not delete alice's video: her card has no Delete; his have.
    assert page.locator(f"#video-{theirs.pk}").get_by_role("button", name="Delete").count() == 0
    assert page.locator(f"#video-{mine.pk}").get_by_role("button", name="Delete").count() == 1

    # He deletes his own: the card goes, the toast offers Undo.
    page.locator(f"#video-{mine.pk}").get_by_role("button", name="Delete").click()
    toast = page.locator("#trash-toast .toast")
    toast.wait_for()
    assert "Moved to trash" in toast.text_content()
    assert page.get_attribute("#trash-toast", "role") == "status"
    page.wait_for_selector(f"#video-{mine.pk}", state="hidden")
    assert "Slow dolly through a misty pine forest" not in _prompts(page)
    toast.hover()  # a hovered toast stays; the screenshot needs it
    _shot(page, f"gallery-toast-{width}")

    # Undo puts the card back where it was.
    toast.get_by_role("button", name="Undo").click()
    page.wait_for_selector(f"article#video-{mine.pk}")
    assert _prompts(page) == before
    assert Video.objects.get(pk=mine.pk).deleted_at is None
    assert "Restored" in page.locator("#trash-toast .toast").text_content()
    page.mouse.move(0, 0)
    # The note leaves on its own (~6 s), once the pointer is off it.
    page.wait_for_selector("#trash-toast .toast", state="detached", timeout=15_000)

    # Deleted again, then restored from the Trash page.
    page.locator(f"#video-{mine.pk}").get_by_role("button", name="Delete").click()
    page.wait_for_selector(f"#video-{mine.pk}", state="hidden")
    services.video_trash(video=theirs, by=Membership.objects.get(user=cast.alice))
    page.click(".section-head .trash-link")
    page.wait_for_url(f"{live_server.url}/trash/")
    row = page.locator(f"#trash-{mine.pk}")
    assert "deleted by bob" in row.text_content() and "purged in 30 days" in row.text_content()
    # alice's video is listed, but only she (or an admin) may restore it.
    assert page.locator(f"#trash-{theirs.pk}").get_by_role("button").count() == 0
    _shot(page, f"page-{width}", full_page=True)
    row.get_by_role("button", name="Restore").click()
    page.wait_for_selector(f"#trash-{mine.pk}", state="detached")
    assert "Restored to the gallery." in page.text_content("#trash-toast")
    page.goto(f"{live_server.url}/")
    assert "Slow dolly through a misty pine forest" in _prompts(page)


def test_an_admin_deletes_forever_and_empties_the_trash(cast, live_server, browser):  # noqa: F811
    videos = [_finished(cast, cast.bob, f"Shot {i} of the reel", i) for i in range(3)]
    admin = Membership.objects.get(user=cast.alice)
    for video in videos:
        services.video_trash(video=video, by=admin)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/trash/")
    _shot(page, "page-admin-1440", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#trash-{videos[0].pk}").get_by_role("button", name="Delete forever").click()
    page.wait_for_selector(f"#trash-{videos[0].pk}", state="detached")
    assert not Video.objects.filter(pk=videos[0].pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Empty trash").click()
    page.wait_for_selector("text=Emptied the Trash: 2 videos deleted.")
    assert page.locator(".trash-none").is_visible()
    assert not Video.objects.exists()
