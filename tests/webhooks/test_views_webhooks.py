from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.teams.models import Team
from studio.webhooks import services as webhook_services
from studio.webhooks.models import SigningSecret, WebhookDelivery
from tests.conftest import client_for
from tests.factories import make_video
from tests.test_browser import _shot, _sign_in
from tests.test_browser import browser as browser_fixture

browser = browser_fixture  # the screenshot test below drives real Chromium, as test_browser does


def _delivery(team, *, video=None, **fields) -> WebhookDelivery:
    fields.setdefault("event", WebhookDelivery.Event.FINAL)
    fields.setdefault("url", "https://hooks.example.com/studio/callback")
    fields.setdefault("msg_id", "msg_test_0001")
    fields.setdefault("payload", '{"event":"video.final"}')
    return WebhookDelivery.objects.create(team=team, video=video, **fields)


def _settings(**overrides) -> dict:
    data = {"api_strict": "on", "webhook_progress": "", "user_queue_limit": "5"}
    return {**data, "team_queue_limit": "", **overrides}


def test_the_webhooks_page_is_for_admins_only(cast):
    assert client_for(cast.bob).get(reverse("webhooks")).status_code == 403


def test_the_webhooks_page_shows_the_teams_signing_secret(cast):
    response = client_for(cast.alice).get(reverse("webhooks"))
    assert response.status_code == 200
    secret = SigningSecret.objects.get(team=cast.acme).secret
    assert secret.startswith("whsec_"), "made on first view"
    body = response.content.decode()
    assert secret in body
    assert "webhook-signature" in body and "Rotate secret" in body
    assert "no-store" in response["Cache-Control"]


def test_an_admin_sees_only_her_teams_deliveries(cast):
    video = make_video(cast.acme, cast.bob)
    _delivery(cast.acme, video=video, url="https://acme.example/hook", state="delivered")
    _delivery(cast.other, url="https://other.example/hook")
    body = client_for(cast.alice).get(reverse("webhooks")).content.decode()
    assert "https://acme.example/hook" in body and f"#{video.pk}" in body
    assert "badge-delivered" in body
    assert "other.example" not in body


def test_the_settings_form_saves(cast):
    response = client_for(cast.alice).post(reverse("team_api_settings"), _settings())
    assert response.status_code == 302 and response.url == reverse("webhooks")
    acme = Team.objects.get(pk=cast.acme.pk)
    assert acme.api_strict and not acme.webhook_progress
    assert acme.user_queue_limit == 5 and acme.team_queue_limit is None


def test_the_settings_form_rejects_a_queue_limit_of_zero_with_a_message(cast):
    data = _settings(team_queue_limit="0")
    response = client_for(cast.alice).post(reverse("team_api_settings"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "were not saved" in body
    assert "greater than or equal to 1" in body
    acme = Team.objects.get(pk=cast.acme.pk)
    assert not acme.api_strict and acme.team_queue_limit is None


def test_an_internal_default_reply_url_is_refused_on_its_own_field(cast):
    data = _settings(default_reply_url="http://169.254.169.254/hook")
    response = client_for(cast.alice).post(reverse("team_api_settings"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["default_reply_url"]
    assert "does not connect to" in errors["default_reply_url"][0]
    assert Team.objects.get(pk=cast.acme.pk).default_reply_url == ""


def test_a_member_cannot_change_the_settings(cast):
    response = client_for(cast.bob).post(reverse("team_api_settings"), _settings())
    assert response.status_code == 403
    assert not Team.objects.get(pk=cast.acme.pk).api_strict


def test_rotating_changes_the_secret_and_keeps_the_old_one_for_a_day(cast):
    old = webhook_services.team_webhook_secret(team=cast.acme)
    client = client_for(cast.alice)
    response = client.post(reverse("webhook_rotate"), follow=True)
    signing = SigningSecret.objects.get(team=cast.acme)
    assert signing.secret != old and signing.previous == old
    body = response.content.decode()
    assert "24 hours" in body and signing.secret in body


def test_a_member_cannot_rotate_the_secret(cast):
    old = webhook_services.team_webhook_secret(team=cast.acme)
    assert client_for(cast.bob).post(reverse("webhook_rotate")).status_code == 403
    assert SigningSecret.objects.get(team=cast.acme).secret == old


def test_redeliver_makes_a_new_pending_delivery_with_the_same_msg_id(cast):
    video = make_video(cast.acme, cast.bob)
    failed = _delivery(
        cast.acme, video=video, state="failed", attempts=9, last_status=500, last_error="HTTP 500"
    )
    response = client_for(cast.alice).post(
        reverse("webhook_redeliver", args=[failed.pk]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("webhooks") + "#deliveries"
    again = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert again.msg_id == failed.msg_id and again.state == "pending"
    assert again.video_id == video.pk and again.url == failed.url and again.attempts == 0
    failed.refresh_from_db()
    assert failed.state == "failed" and failed.attempts == 9, "the original keeps its history"
    assert "being sent again" in response.content.decode()


def test_an_outsider_cannot_redeliver_another_teams_delivery(cast):
    delivery = _delivery(cast.acme)
    response = client_for(cast.charlie).post(reverse("webhook_redeliver", args=[delivery.pk]))
    assert response.status_code == 404
    member = client_for(cast.bob).post(reverse("webhook_redeliver", args=[delivery.pk]))
    assert member.status_code == 403
    assert WebhookDelivery.objects.count() == 1


def test_the_htmx_poll_renders_only_the_deliveries_table_without_side_effects(cast):
    _delivery(
        cast.acme,
        state="pending",
        attempts=2,
        next_attempt_at=timezone.now() + timedelta(minutes=5),
        last_error="Connection refused",
    )
    response = client_for(cast.alice).get(reverse("webhooks"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="panel" id="deliveries"')
    assert "badge-pending" in body and "Connection refused" in body
    assert "<html" not in body and "Signing secret" not in body
    assert not SigningSecret.objects.exists(), "polling writes nothing"


def test_a_redeliver_without_the_csrf_token_is_refused(cast):
    delivery = _delivery(cast.acme)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.alice)
    response = client.post(reverse("webhook_redeliver", args=[delivery.pk]))
    assert response.status_code == 403
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.slow
def test_the_webhooks_page_with_deliveries_in_every_state(cast, live_server, browser):
    webhook_services.team_webhook_secret(team=cast.acme)
    webhook_services.team_webhook_rotate(team=cast.acme)
    video = make_video(cast.acme, cast.bob, status="completed")
    now = timezone.now()
    _delivery(cast.acme, video=video, state="delivered", attempts=1, last_status=200)
    _delivery(
        cast.acme,
        video=video,
        event=WebhookDelivery.Event.PROGRESS,
        url="https://render-farm.internal.example.com/api/v2/callbacks/minimax/studio"
        "?team=acme&signature-check=strict&source=hailuo-video-pipeline",
        state="failed",
        attempts=3,
        last_status=503,
        last_error="Gave up after 3 attempts. Last: HTTP 503: <html><head><title>503 Service "
        "Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily "
        "Unavailable</h1></center><hr><center>nginx/1.25.3</center></body></html>",
    )
    _delivery(
        cast.acme,
        video=video,
        state="pending",
        attempts=2,
        next_attempt_at=now + timedelta(minutes=4),
        last_error="Connection refused",
    )
    _delivery(
        cast.acme,
        video=make_video(cast.acme, cast.alice, status="failed"),
        url="http://10.0.0.12:8080/hook",
        state="blocked",
        attempts=1,
        last_error="10.0.0.12 is a private address; callbacks may not go there.",
    )
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    _sign_in(page, live_server, "alice")
    page.click(".nav >> text=Webhooks")
    for state in ["pending", "delivered", "failed", "blocked"]:
        assert page.locator(f"#deliveries .badge-{state}").count() == 1, state
    assert page.input_value("#webhook-secret").startswith("whsec_")
    # A delivery made after the page loaded shows up with the next poll.
    _delivery(cast.acme, url="https://late.example.com/hook", state="delivered", last_status=204)
    page.wait_for_selector("#deliveries >> text=late.example.com", timeout=8_000)
    _shot(page, "webhooks-deliveries")
