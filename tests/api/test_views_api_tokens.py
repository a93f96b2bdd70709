from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.api import services as api_services
from studio.api.models import ApiToken
from studio.lib.tokens import token_hash
from tests.conftest import client_for
from tests.test_browser import _shot, _sign_in
from tests.test_browser import browser as browser_fixture

browser = browser_fixture  # the screenshot test below drives real Chromium, as test_browser does


def _create(client, name="Render box") -> str:
    response = client.post(reverse("api_token_create"), {"name": name})
    assert response.status_code == 200
    return response.context["raw_token"]


def test_the_tokens_page_lists_only_my_tokens(cast):
    api_services.api_token_create(user=cast.alice, team=cast.acme, name="Alice's script")
    api_services.api_token_create(user=cast.bob, team=cast.acme, name="Bob's laptop")
    api_services.api_token_create(user=cast.charlie, team=cast.other, name="Charlie's cron")
    response = client_for(cast.bob).get(reverse("api_tokens"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Bob&#x27;s laptop" in body
    assert "Alice" not in body and "Charlie" not in body
    assert "never" in body, "an unused token says so"


def test_the_tokens_page_states_the_read_and_write_budgets_in_force(cast, conf):
    conf.API_READ_RATE_LIMIT, conf.API_WRITE_RATE_LIMIT = 4500, 700
    page = client_for(cast.bob).get(reverse("api_tokens")).content.decode()
    assert "every 60 s: 4,500 reads (GET) and 700 writes" in page


def test_every_member_gets_the_api_link_and_only_admins_the_webhooks_link(cast):
    bob = client_for(cast.bob).get(reverse("gallery")).content.decode()
    alice = client_for(cast.alice).get(reverse("gallery")).content.decode()
    assert reverse("api_tokens") in bob and reverse("webhooks") not in bob
    assert reverse("api_tokens") in alice and reverse("webhooks") in alice


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(cast):
    client = client_for(cast.bob)
    response = client.post(reverse("api_token_create"), {"name": "Render box"})
    raw = response.context["raw_token"]
    body = response.content.decode()
    assert raw.startswith("st_") and raw in body
    assert "will not be shown again" in body
    assert f"Bearer {raw}" in body and "/v1/minimax/videos/create" in body
    assert "no-store" in response["Cache-Control"], "no cache keeps the page with the token"
    token = ApiToken.objects.get()
    assert token.user == cast.bob and token.team == cast.acme and token.name == "Render box"
    assert token.token_hash == token_hash(raw)
    for row in ApiToken.objects.values_list():
        assert raw not in [str(value) for value in row], "the raw token is nowhere in the DB"
    assert raw not in client.get(reverse("api_tokens")).content.decode(), "shown once"


def test_a_token_needs_a_name(cast):
    response = client_for(cast.bob).post(reverse("api_token_create"), {"name": ""})
    assert response.status_code == 400 and b"This field is required" in response.content
    assert not ApiToken.objects.exists()


def test_the_page_explains_the_base_url_and_links_the_openapi_description(cast):
    body = client_for(cast.bob).get(reverse("api_tokens")).content.decode()
    assert "http://testserver/v1/minimax/" in body
    assert "http://testserver/v1/openapi.json" in body
    assert "useapi.net" in body


def test_revoking_my_token_greys_it_out_with_the_date(cast):
    token, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="Old script")
    client = client_for(cast.bob)
    response = client.post(reverse("api_token_revoke", args=[token.pk]), follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    body = response.content.decode()
    assert "no longer works" in body and "is-revoked" in body and "Revoked " in body


def test_revoking_someone_elses_token_is_404(cast):
    token, _ = api_services.api_token_create(user=cast.alice, team=cast.acme, name="Alice's")
    for user in (cast.bob, cast.charlie):
        response = client_for(user).post(reverse("api_token_revoke", args=[token.pk]))
        assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_revoked_token_no_longer_authenticates(cast):
    raw = _create(client_for(cast.bob))
    headers = {"Authorization": f"Bearer {raw}"}
    assert Client().get("/v1/minimax/videos/", headers=headers).status_code == 200
    client_for(cast.bob).post(reverse("api_token_revoke", args=[ApiToken.objects.get().pk]))
    assert Client().get("/v1/minimax/videos/", headers=headers).status_code == 401


def test_creating_a_token_without_the_csrf_token_is_refused(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bob)
    response = client.post(reverse("api_token_create"), {"name": "Forged"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_the_tokens_page_needs_a_sign_in(cast):
    response = Client().get(reverse("api_tokens"))
    assert response.status_code == 302 and reverse("login") in response.url


@pytest.mark.slow
def test_the_tokens_page_right_after_creating_a_token(cast, live_server, browser):
    old, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="Laptop (old)")
    api_services.api_token_revoke(token=old)
    used, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="Nightly batch")
    ApiToken.objects.filter(pk=used.pk).update(last_used_at=timezone.now() - timedelta(hours=3))
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    _sign_in(page, live_server, "bob")
    page.click(".nav >> text=API")
    page.fill("#id_name", "Render box script")
    page.click("text=Create token")
    raw = page.input_value("#new-token")
    assert raw.startswith("st_") and ApiToken.objects.get(name="Render box script")
    assert f"Bearer {raw}" in page.input_value("#curl-example")
    page.click("[data-copy='#new-token']")
    assert page.text_content("[data-copy='#new-token']") == "Copied"
    _shot(page, "api-tokens-created")
