"""The README's "First five minutes", walked in real headless Chromium: sign in, make a video
with the local renderer, add a MiniMax account pointed at the emulator and test it, invite a
teammate, make an API token and call the API with it. Its screenshots are the README's: every
run of the suite takes them again into docs/first-five-minutes/, so they cannot go stale."""

from pathlib import Path

import pytest
import requests

from tests.factories import PASSWORD
from tests.test_browser import browser  # noqa: F401  (the fixture)
from videos.models import ProviderAccount, Video

pytestmark = [pytest.mark.slow, pytest.mark.pages_only]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "first-five-minutes"
README = ROOT / "README.md"
# The README's picture of the gallery, taken at the end of the walk so it shows today's page.
GALLERY_SHOT = ROOT / "docs" / "screenshot.png"
MORE_PROMPTS = (
    "A lighthouse on a cliff at dusk, waves breaking below [Push in]",
    "Steam rising from a cup of coffee on a wooden table, morning light [Static shot]",
    "A red kite over a wheat field in the wind [Pan right]",
)
STEPS = ("1-sign-in", "2-first-video", "3-account", "4-invite", "5-api-token")


def _shot(page, step: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(DOCS / f"{step}.png"))


def test_the_first_five_minutes_as_the_readme_tells_them(
    cast,
    live_server,
    worker_factory,
    emulator,
    browser,  # noqa: F811
):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="dark")
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    _shot(page, STEPS[0])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    worker_factory()
    page.fill("#id_prompt", "A paper boat drifts across a rain puddle, low angle [Tracking shot]")
    page.click("#new-video button[type=submit]")
    page.wait_for_selector("#gallery-grid .card.status-completed", timeout=120_000)
    assert Video.objects.get().account.kind == ProviderAccount.Kind.LOCAL
    _shot(page, STEPS[1])
    for prompt in MORE_PROMPTS:  # rendered while the walk goes on, for the gallery picture
        page.fill("#id_prompt", prompt)
        page.click("#new-video button[type=submit]")
        page.wait_for_selector(f"#gallery-grid .card:has-text('{prompt[:20]}')")

    page.click("nav >> text=Accounts")
    page.click("text=Add account")
    page.check("input[name=kind][value=minimax]")
    page.fill("#id_name", "Emulated MiniMax")
    page.fill("#id_secret", "key-good")
    page.click("summary:has-text('Advanced')")
    page.fill("#id_base_url", emulator.url)
    page.click("button:text('Add account')")
    account = ProviderAccount.objects.get(name="Emulated MiniMax")
    page.click(f"form[action='/team/accounts/{account.pk}/test'] button")
    page.wait_for_selector(f"#test-{account.pk} .test-ok")
    _shot(page, STEPS[2])

    page.click("nav >> text=Team")
    page.fill("#id_label", "Dana")
    page.click("text=Create invite link")
    assert "/join/" in page.input_value("#invite-link")
    _shot(page, STEPS[3])

    page.click("nav >> text=API")
    page.fill("#id_name", "My first script")
    page.click("button:text('Create token')")
    token = page.input_value("#new-token")
    _shot(page, STEPS[4])
    answer = requests.get(
        f"{live_server.url}/v1/minimax/accounts/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200 and "Emulated MiniMax" in answer.text

    gallery = browser.new_page(viewport={"width": 1440, "height": 900}, color_scheme="dark")
    gallery.context.add_cookies(page.context.cookies())
    gallery.goto(f"{live_server.url}/")
    gallery.wait_for_function(
        "() => document.querySelectorAll('#gallery-grid .card.status-completed').length === 4",
        timeout=120_000,
    )
    gallery.screenshot(path=str(GALLERY_SHOT))

    readme = README.read_text()
    for step in STEPS:
        assert f"docs/first-five-minutes/{step}.png" in readme, step
    assert "docs/screenshot.png" in readme
