"""The sign-in pause, password and profile pages in real headless Chromium, at desktop and phone
widths; the screenshots land in test-artifacts/ for people to look at."""

from datetime import timedelta

import pytest

from tests.factories import PASSWORD, add_member
from tests.test_browser import SHOTS, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

WIDTHS = (1440, 390)


def _shots(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _sign_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_a_paused_sign_in_says_so_on_the_sign_in_page(cast, live_server, browser, settings):  # noqa: F811
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    page = browser.new_page()
    for _ in range(3):
        _sign_in(page, live_server, "bob", "not it")
    notice = page.locator(".notice")
    assert "Too many wrong passwords for bob" in notice.text_content()
    assert "15 more minutes" in notice.text_content()
    assert page.input_value("#id_username") == "bob"
    _shots(page, "signin-paused")
    page.click(".notice a")
    page.wait_for_url(f"{live_server.url}/password-reset/")
    _shots(page, "password-reset-request")


def test_the_profile_and_password_pages(cast, live_server, browser):  # noqa: F811
    add_member(cast.other, cast.alice)
    page = browser.new_page()
    _sign_in(page, live_server, "alice")
    page.wait_for_url(f"{live_server.url}/")
    page.click(".profile-link")
    page.wait_for_url(f"{live_server.url}/settings/profile/")
    page.fill("#id_email", "alice@")
    page.click("form[action='/settings/profile/'] button[type=submit]")
    assert "Enter a valid email address." in page.text_content(".has-error")
    _shots(page, "profile")

    page.click("text=Change password")
    page.wait_for_url(f"{live_server.url}/settings/password/")
    page.fill("#id_old_password", "not it")
    page.fill("#id_new_password1", "short")
    page.fill("#id_new_password2", "short")
    page.click("button[type=submit]")
    assert "incorrectly" in page.text_content(".has-error")
    _shots(page, "password-change")

    page.goto(f"{live_server.url}/settings/profile/")
    page.click(f"a[href='/settings/teams/{cast.acme.pk}/leave']")
    assert "only admin of Acme" in page.text_content(".form-error")
    page.goto(f"{live_server.url}/settings/teams/{cast.other.pk}/leave")
    _shots(page, "team-leave")
    page.click("button.btn-danger")
    page.wait_for_url(f"{live_server.url}/")
    assert "You left Other." in page.text_content(".flash")
