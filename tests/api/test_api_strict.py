"""Strict mode: a team that wants useapi.net's own behaviour. A create goes upstream inside the
request (here, to the MiniMax emulator over real HTTP) and is answered with what happened:
200 with the upstream's task id, 429 when the slots are full or the upstream says "too many",
422 when MiniMax moderates the prompt. A refused create leaves nothing behind."""

import pytest

from studio.api import links as records
from tests.api.test_api import api_for, error_of
from tests.videos.test_scheduler_remote import add_account, creates_for, drive
from videos.models import ProviderAccount, Video

S = Video.Status


@pytest.fixture(autouse=True)
def fast(conf):
    conf.POLL_SECONDS = 0.05
    conf.RETRY_BASE_SECONDS = 0.05
    conf.EXPECTED_UPSTREAM_SECONDS = 1
    conf.PUBLIC_URL = ""


@pytest.fixture
def emu(emulator):
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.2, rpm=100)
    return emulator


@pytest.fixture
def strict(cast):
    cast.acme.api_strict = True
    cast.acme.save()
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    return api_for(cast.bob, cast.acme)


def test_a_strict_create_is_sent_upstream_before_it_is_answered(cast, strict, emu):
    add_account(cast.acme, emu, max_jobs=1)
    response = strict.create(prompt="A kite over dunes")
    assert response.status_code == 200
    body = response.json()
    video = Video.objects.get()
    assert video.status == S.PENDING and video.upstream_id
    assert body["data"]["id"] == video.upstream_id, "the upstream's own task id, as useapi.net"
    assert creates_for(emu, "A kite over dunes") == 1
    (video,) = drive(video)
    assert strict.get(f"videos/{body['videoId']}").json()["status"] == 2


def test_a_strict_create_with_every_slot_busy_is_a_429_listing_the_running_videos(
    cast, strict, emu
):
    account = add_account(cast.acme, emu, max_jobs=1)
    first = strict.create(prompt="First", replyRef="mine").json()
    response = strict.create(prompt="Second")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == 429 and body["error"].startswith("Every account of Acme is busy")
    (running,) = body["runningVideos"][str(account.pk)]
    assert running["videoId"] == first["videoId"] and running["replyRef"] == "mine"
    assert running["account"] == str(account.pk) and running["started"].endswith("Z")
    assert Video.objects.count() == 1 and creates_for(emu, "Second") == 0


def test_a_strict_create_naming_a_busy_account_is_a_429_even_if_another_is_free(cast, strict, emu):
    busy = add_account(cast.acme, emu, name="Busy", max_jobs=1)
    add_account(cast.acme, emu, name="Free", max_jobs=3)
    strict.create(prompt="Takes the slot", account=str(busy.pk))
    response = strict.create(prompt="Wants the same", account=str(busy.pk))
    assert response.status_code == 429
    assert response.json()["error"] == (
        f"Account {busy.pk} (Busy) is busy executing its maxJobs videos. Try again in 10 s."
    )
    assert strict.create(prompt="Anywhere").status_code == 200


def test_max_jobs_in_strict_mode_is_the_limit_for_that_call(cast, strict, emu):
    add_account(cast.acme, emu, max_jobs=3)
    strict.create(prompt="One")
    response = strict.create(prompt="Two", maxJobs=1)
    assert response.status_code == 429 and "maxJobs 1" in response.json()["error"]
    assert strict.create(prompt="Three", maxJobs=2).status_code == 200


def test_a_moderated_prompt_is_a_422_and_nothing_is_kept(cast, strict, emu):
    add_account(cast.acme, emu)
    response = strict.create(prompt="Something forbidden here")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] and set(body["statusInfo"]) >= {"code", "httpCode", "message"}
    assert not Video.objects.exists()
    assert creates_for(emu, "Something forbidden here") == 0, "MiniMax refused it at create"


def test_an_upstream_rate_limit_is_a_429_in_useapis_second_form(cast, strict, emu):
    account = add_account(cast.acme, emu)
    emu.fault("create", "code_1002")
    response = strict.create(prompt="Too soon")
    assert response.status_code == 429
    body = response.json()
    assert body["statusInfo"]["code"] == 1500006 and "slow down" in body["statusInfo"]["message"]
    assert not Video.objects.exists()
    account.refresh_from_db()
    assert account.is_paused, "the account backs off as it would for a queued video"


def test_an_invalid_request_upstream_is_a_400_and_nothing_is_kept(cast, strict, emu):
    add_account(cast.acme, emu)
    emu.fault("create", "code_2013")
    assert "invalid params" in error_of(strict.create(prompt="Bad params"), 400)
    assert not Video.objects.exists()


def test_a_transient_upstream_error_keeps_the_video_and_retries_it(cast, strict, emu):
    add_account(cast.acme, emu)
    emu.fault("create", "http_500")
    response = strict.create(prompt="Flaky upstream")
    assert response.status_code == 200
    video = Video.objects.get()
    assert video.status == S.QUEUED and "Retrying" in video.message
    (video,) = drive(video)
    assert video.status == S.COMPLETED


def test_strict_mode_on_the_local_renderer_claims_a_slot_at_once(cast, strict):
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=True, max_jobs=1)
    first = strict.create(prompt="Local one")
    assert first.status_code == 200
    video = Video.objects.get()
    assert video.status == S.SUBMITTING and video.account.kind == "local"
    second = strict.create(prompt="Local two")
    assert second.status_code == 429
    assert records.video_id(video) in str(second.json()["runningVideos"])


def test_a_refused_strict_create_owes_no_callback(cast, strict, emu, conf):
    from studio.webhooks import deliveries as callbacks
    from studio.webhooks.models import WebhookDelivery

    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    add_account(cast.acme, emu)
    response = strict.create(prompt="A forbidden kite", replyUrl="http://127.0.0.1:9/hook")
    assert response.status_code == 422
    callbacks.callbacks_collect()
    assert not WebhookDelivery.objects.exists()
    kept = strict.create(prompt="A kite", replyUrl="http://127.0.0.1:9/hook").json()
    assert Video.objects.get().reply_state == "waiting", kept


def test_strict_mode_without_an_enabled_account_says_so(cast, strict):
    message = error_of(strict.create(prompt="Nowhere to go"), 400)
    assert "no enabled account" in message


def test_strict_mode_with_every_account_paused_says_until_when(cast, strict, emu):
    from datetime import timedelta

    from django.utils import timezone

    account = add_account(cast.acme, emu)
    ProviderAccount.objects.filter(pk=account.pk).update(
        paused_until=timezone.now() + timedelta(minutes=5), pause_reason="Out of balance"
    )
    response = strict.create(prompt="Later")
    assert response.status_code == 429
    assert (
        "is paused until" in response.json()["error"]
        and "Out of balance" in response.json()["error"]
    )
