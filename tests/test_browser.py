"""The studio in real headless Chromium (Debian's), driven by Playwright, with a real worker."""

import os
import shutil
from pathlib import Path

import pytest

from tests.factories import PASSWORD, image_bytes

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Screenshots land here for people to look at (the CI run keeps them as artifacts).
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parent.parent / "test-artifacts"))


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls in these tests are
    # plain synchronous queries on the test database, which is safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; `apt-get install chromium`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_member_signs_in_submits_with_an_image_and_plays_the_result(
    cast, live_server, worker_factory, browser, tmp_path
):
    frame = tmp_path / "frame.png"
    frame.write_bytes(image_bytes(900, 600, color=(30, 120, 200)))
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.goto(f"{live_server.url}/login/")
    _shot(page, "sign-in")
    _sign_in(page, live_server, "bob")

    page.fill("#id_prompt", "A paper boat drifts across a rain puddle, low angle")
    assert page.text_content("#prompt-count") == "51 / 2,000"
    page.set_input_files("#id_image", str(frame))
    page.wait_for_selector(".dropzone-preview:not([hidden]) img")
    page.click("#new-video button[type=submit]")

    # No worker yet: the card appears at once, queued, at the top of the gallery.
    card = page.locator("#gallery-grid .card").first
    card.wait_for()
    assert "status-queued" in card.get_attribute("class")
    assert "#1 in queue" in card.text_content()
    assert page.input_value("#id_prompt") == "", "the form is fresh for the next prompt"
    _shot(page, "gallery-queued")

    worker_factory()
    page.wait_for_selector("#gallery-grid .card.status-completed", timeout=120_000)
    _shot(page, "gallery-completed")
    assert page.locator(".card.status-completed video").count() == 0, "poster first"
    page.click(".card.status-completed [data-play]")
    page.wait_for_function(
        "() => { const v = document.querySelector('.card.status-completed video');"
        " return v && v.currentTime > 0.5; }",
        timeout=15_000,
    )
    playing = page.evaluate(
        """() => {
            const video = document.querySelector('.card.status-completed video');
            return {time: video.currentTime, width: video.videoWidth, error: video.error};
        }"""
    )
    assert playing["error"] is None
    assert playing["time"] > 0.5 and playing["width"] == 1280


def test_an_image_can_be_dropped_onto_the_form(cast, live_server, browser):
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    _sign_in(page, live_server, "bob")
    # What a drag from the desktop delivers: a drop event whose DataTransfer carries the file.
    page.evaluate(
        """async () => {
            const canvas = new OffscreenCanvas(640, 480);
            const context = canvas.getContext('2d');
            context.fillStyle = '#3366cc';
            context.fillRect(0, 0, 640, 480);
            const blob = await canvas.convertToBlob({type: 'image/png'});
            const transfer = new DataTransfer();
            transfer.items.add(new File([blob], 'dropped.png', {type: 'image/png'}));
            const zone = document.querySelector('[data-dropzone]');
            const init = {dataTransfer: transfer, bubbles: true, cancelable: true};
            zone.dispatchEvent(new DragEvent('drop', init));
        }"""
    )
    page.wait_for_selector(".dropzone-preview:not([hidden]) img")
    assert "dropped.png" in page.text_content(".dropzone-name")
    page.fill("#id_prompt", "Dropped, not picked")
    page.click("#new-video button[type=submit]")
    page.locator("#gallery-grid .card").first.wait_for()
    from videos.models import Video

    assert Video.objects.get().image.original_name == "dropped.png"


def test_the_form_shows_an_error_next_to_the_field(cast, live_server, browser, tmp_path):
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(image_bytes(200, 200))
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    _sign_in(page, live_server, "bob")
    page.fill("#id_prompt", "Something")
    page.set_input_files("#id_image", str(tiny))
    page.click("#new-video button[type=submit]")
    error = page.wait_for_selector("#id_image_error")
    assert "300" in error.text_content()
    _shot(page, "form-error")


def test_submitting_and_viewing_work_without_javascript(cast, live_server, browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1360, "height": 900}
    )
    page = context.new_page()
    _sign_in(page, live_server, "bob")
    page.fill("#id_prompt", "A lantern floating over a lake")
    page.click("#new-video button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    card = page.locator("#gallery-grid .card").first
    assert "A lantern floating over a lake" in card.text_content()
    assert "Queued" in page.text_content(".flash")
    context.close()


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_the_gallery_shows_every_state_of_a_card(cast, live_server, browser):
    from tests.factories import make_video
    from videos import scheduler

    done = make_video(
        cast.acme, cast.alice, prompt="Aerial shot over a foggy pine forest at sunrise"
    )
    scheduler.videos_dispatch()
    done.refresh_from_db()
    scheduler.video_run(video_id=done.pk, attempt=done.attempt_id)
    make_video(
        cast.acme,
        cast.bob,
        prompt="A chef flips a pancake in slow motion, warm kitchen light",
        status="failed",
        error="The renderer failed: out of disk space on the worker.",
    )
    make_video(
        cast.acme,
        cast.alice,
        prompt="Street fight in the rain",
        status="moderated",
        error="MiniMax refused the prompt as sensitive (1026). Rephrase it and try again.",
    )
    make_video(
        cast.acme,
        cast.bob,
        prompt="Slow dolly along a row of vintage arcade machines, neon glow",
        status="processing",
        percent=45,
        message="Rendering frame 54 of 120",
        account=done.account,
    )
    for prompt in ["A hummingbird hovering at a red flower", "Timelapse of clouds over a desert"]:
        make_video(cast.acme, cast.alice, prompt=prompt)
    # Its worker was killed: back in the queue, and the card says so rather than an error.
    make_video(
        cast.acme,
        cast.bob,
        prompt="Lanterns drifting over a night lake",
        message=scheduler.WORKER_RESTART,
        worker_losses=1,
    )
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    _sign_in(page, live_server, "bob")
    for status in ["queued", "processing", "completed", "failed", "moderated"]:
        assert page.locator(f"#gallery-grid .card.status-{status}").count() >= 1, status
    assert "#2 in queue" in page.text_content("#gallery-grid")
    assert "out of disk space" in page.text_content(".card.status-failed")
    restarted = page.locator(".card", has_text="Lanterns drifting")
    assert "Retrying after a worker restart" in restarted.text_content()
    _shot(page, "gallery-states")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "gallery-states-phone")


def test_an_admin_invites_a_teammate_who_sets_a_password_and_joins(cast, live_server, browser):
    admin = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    _sign_in(admin, live_server, "alice")
    admin.click("text=Team")
    admin.fill("#id_label", "Dana (dana@example.com)")
    admin.click("text=Create invite link")
    link = admin.input_value("#invite-link")
    assert link.startswith(f"{live_server.url}/join/")
    _shot(admin, "team")

    newcomer = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
    newcomer.goto(link)
    assert "Join Acme" in newcomer.text_content("h1")
    newcomer.fill("#id_username", "dana")
    newcomer.fill("#id_password1", "plum-velvet-93")
    newcomer.fill("#id_password2", "plum-velvet-93")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url(f"{live_server.url}/")
    assert "Welcome to Acme" in newcomer.text_content(".flash")
    newcomer.goto(link)
    assert "does not work" in newcomer.text_content("h1"), "the link is single-use"


def test_on_a_phone_the_menu_and_the_composer_fold_and_on_a_desktop_they_do_not(
    cast, live_server, browser
):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _sign_in(page, live_server, "bob")
    assert not page.is_visible(".menu-toggle") and not page.is_visible(".composer-toggle")
    assert page.is_visible("nav >> text=Collections") and page.is_visible("#id_prompt")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.is_visible(".menu-toggle") and not page.is_visible("nav >> text=Collections")
    page.click(".menu-toggle")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    assert page.is_visible("nav >> text=Collections") and page.is_visible(".userbox button")
    page.click(".menu-toggle")
    assert not page.is_visible("nav >> text=Collections")

    assert not page.is_visible("#id_prompt"), "the gallery first, the composer folded"
    page.click(".composer-toggle")
    assert page.evaluate("document.activeElement.id") == "id_prompt"
    assert not page.is_visible(".composer-toggle")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    _shot(page, "phone-composer-open")

    # Without JavaScript both show in full, wrapped.
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    plain = context.new_page()
    plain.goto(f"{live_server.url}/login/")
    plain.fill("#id_username", "bob")
    plain.fill("#id_password", PASSWORD)
    plain.click("button[type=submit]")
    plain.wait_for_url(f"{live_server.url}/")
    assert not plain.is_visible(".menu-toggle") and plain.is_visible("nav >> text=Collections")
    assert plain.is_visible("#id_prompt") and not plain.is_visible(".composer-toggle")
    context.close()
