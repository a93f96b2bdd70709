"""replyUrl callbacks to a real receiver on loopback: one signed final callback per video, retried
while the receiver is down, never sent to an address callbacks may not reach."""

import pytest
from django.db.models import F
from django.utils import timezone

from studio.webhooks import deliveries as callbacks
from studio.webhooks import services as webhook_services
from studio.webhooks import signing as webhook_signing
from studio.webhooks.models import WebhookDelivery
from tests.api.test_api import api_for
from tests.receiver import Receiver
from tests.videos.test_scheduler_remote import add_account, drive
from videos import services
from videos.models import ProviderAccount, Video

D = WebhookDelivery.State


@pytest.fixture(autouse=True)
def loopback_allowed(conf):
    # The receivers run on this machine; production refuses loopback (tested below).
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    conf.WEBHOOK_RETRY_SECONDS = [0, 0, 0]
    conf.POLL_SECONDS = 0.05
    conf.EXPECTED_UPSTREAM_SECONDS = 1
    conf.PUBLIC_URL = ""


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def bob(cast):
    return api_for(cast.bob, cast.acme)


def send_due() -> list[str | None]:
    """What a worker does with the queued send tasks, inline."""
    pending = WebhookDelivery.objects.filter(state=D.PENDING).values_list("pk", flat=True)
    return [callbacks.callback_send(delivery_id=pk) for pk in pending]


def cancelled_video_with_callback(api, url: str, **body) -> str:
    """A video that has ended (cancelled), owing its callback: the quickest final state."""
    video_id = api.create(prompt="Owes a callback", replyUrl=url, **body).json()["videoId"]
    api.post("videos/cancel", {"videoId": video_id})
    return video_id


def test_a_finished_video_sends_exactly_one_signed_final_callback(cast, bob, receiver, emulator):
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.2, rpm=100)
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    add_account(cast.acme, emulator)
    created = bob.create(prompt="Signed", replyUrl=receiver.url(), replyRef="order-9").json()
    drive(Video.objects.get())
    callbacks.callbacks_collect()  # a second sweep (another worker) finds nothing more owed
    assert send_due() == [D.DELIVERED]
    assert send_due() == [], "a delivered callback is not sent again"
    (received,) = receiver.wait_for(1)
    body = received.json()
    assert (body["videoId"], body["replyRef"], body["status"]) == (created["videoId"], "order-9", 2)
    assert body["statusFinal"] is True and body["event"] == "video.final"
    # The same record as the API's, but for the signed links: their timestamps may be a second
    # apart, so those are compared up to the signature.
    record = {**bob.get(f"videos/{created['videoId']}").json(), "event": "video.final"}
    assert body.keys() == record.keys()
    for key, value in record.items():
        if key.endswith("URL") and value:
            assert body[key].split(":")[:2] == value.split(":")[:2], key
        else:
            assert body[key] == value, key
    secret = webhook_services.team_webhook_secret(team=cast.acme)
    assert secret.startswith("whsec_")
    assert webhook_signing.verify(secret, headers=received.headers, body=received.body)
    assert received.headers["webhook-id"] == WebhookDelivery.objects.get().msg_id
    assert not webhook_signing.verify(secret, headers=received.headers, body=received.body + b" ")


def test_a_receiver_that_is_down_gets_the_callback_when_it_is_back(cast, bob):
    port = Receiver.free_port()
    cancelled_video_with_callback(bob, f"http://127.0.0.1:{port}/hook")
    callbacks.callbacks_collect()
    assert send_due() == [D.PENDING]
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and "refused" in delivery.last_error.lower()
    back = Receiver().start(port)
    try:
        callbacks.callbacks_due()
        assert send_due() == [D.DELIVERED]
        (received,) = back.wait_for(1)
    finally:
        back.stop()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.delivered_at
    assert received.headers["webhook-id"] == delivery.msg_id, "same id on every attempt"


def test_a_callback_that_keeps_failing_is_given_up_after_the_schedule(cast, bob, conf):
    conf.WEBHOOK_RETRY_SECONDS = [0]
    failing = Receiver(status=500).start()
    try:
        cancelled_video_with_callback(bob, failing.url())
        callbacks.callbacks_collect()
        assert send_due() == [D.PENDING]
        assert send_due() == [D.FAILED]
        failing.wait_for(2)
    finally:
        failing.stop()
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status == 500 and "Gave up after 2 attempts" in delivery.last_error


def test_a_redirect_is_not_followed(cast, bob):
    redirecting = Receiver(status=302).start()
    try:
        cancelled_video_with_callback(bob, redirecting.url())
        callbacks.callbacks_collect()
        assert send_due() == [D.PENDING]
    finally:
        redirecting.stop()
    assert WebhookDelivery.objects.get().last_status == 302


def test_a_receiver_on_a_private_address_never_gets_a_request(cast, bob, receiver, conf):
    cancelled_video_with_callback(bob, receiver.url())
    conf.OUTBOUND_ALLOWED_NETWORKS = []  # as in production: loopback is not for callbacks
    callbacks.callbacks_collect()
    assert send_due() == [D.BLOCKED]
    delivery = WebhookDelivery.objects.get()
    refused = "replyUrl points at an address the studio does not connect to"
    assert refused in delivery.last_error and delivery.next_attempt_at is None
    assert receiver.received == []
    response = bob.create(prompt="x", replyUrl=receiver.url())
    assert response.status_code == 400 and refused in response.json()["error"]


def test_after_a_rotation_both_secrets_sign_for_a_day(cast, bob, receiver):
    old = webhook_services.team_webhook_secret(team=cast.acme)
    new = webhook_services.team_webhook_rotate(team=cast.acme)
    cancelled_video_with_callback(bob, receiver.url())
    callbacks.callbacks_collect()
    send_due()
    (received,) = receiver.wait_for(1)
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert webhook_signing.verify(secret, headers=received.headers, body=received.body)


def test_progress_callbacks_follow_status_changes_when_the_team_wants_them(cast, bob, receiver):
    cast.acme.webhook_progress = True
    cast.acme.save()
    bob.create(prompt="Progress", replyUrl=receiver.url())
    for status, percent in [("queued", 0), ("queued", 0), ("processing", 40), ("completed", 100)]:
        Video.objects.update(status=status, percent=percent)
        callbacks.callbacks_collect()  # an unchanged state queues nothing new
        send_due()
    events = list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))
    assert events == ["video.progress", "video.progress", "video.final"]
    labels = [r.json()["statusLabel"] for r in receiver.wait_for(3)]
    assert labels == ["queued", "processing", "completed"]


def test_a_progress_callback_still_pending_when_the_video_ends_is_not_sent(cast, bob, receiver):
    cast.acme.webhook_progress = True
    cast.acme.save()
    bob.create(prompt="Progress", replyUrl=receiver.url())
    callbacks.callbacks_collect()
    Video.objects.update(status=Video.Status.COMPLETED, percent=100)
    callbacks.callbacks_collect()
    send_due()
    (received,) = receiver.wait_for(1)
    assert received.json()["event"] == "video.final"
    progress = WebhookDelivery.objects.get(event="video.progress")
    assert progress.state == D.FAILED and "has ended" in progress.last_error


def test_a_send_that_kills_its_worker_every_time_is_given_up(cast, bob, conf):
    conf.WEBHOOK_RETRY_SECONDS = [0]
    cancelled_video_with_callback(bob, "http://127.0.0.1:9/hook")
    callbacks.callbacks_collect()
    delivery = WebhookDelivery.objects.get()
    for _ in range(2):  # each attempt claimed, then its worker "dies": the claim runs out
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1, next_attempt_at=timezone.now()
        )
    assert send_due() == [D.FAILED]
    assert "stopped on each of 2 attempts" in WebhookDelivery.objects.get().last_error


def test_a_video_without_a_reply_url_owes_nothing(cast, bob):
    video_id = bob.create(prompt="Quiet").json()["videoId"]
    bob.post("videos/cancel", {"videoId": video_id})
    assert callbacks.callbacks_collect() == 0
    assert not WebhookDelivery.objects.exists()


def test_a_redelivery_sends_the_same_message_again(cast, bob, receiver):
    cancelled_video_with_callback(bob, receiver.url())
    callbacks.callbacks_collect()
    send_due()
    again = callbacks.callback_redeliver(delivery=WebhookDelivery.objects.get())
    assert send_due() == [D.DELIVERED]
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == again.msg_id


def set_default_reply_url(team, url: str) -> None:
    webhook_services.team_api_settings(
        team=team,
        api_strict=False,
        webhook_progress=False,
        user_queue_limit=None,
        team_queue_limit=None,
        default_reply_url=url,
    )


def test_a_create_without_a_reply_url_uses_the_teams_default(cast, bob, receiver):
    set_default_reply_url(cast.acme, receiver.url("/default"))
    cast.acme.refresh_from_db()
    video_id = bob.create(prompt="Default hook").json()["videoId"]
    assert bob.get(f"videos/{video_id}").json()["replyUrl"] == receiver.url("/default")
    bob.post("videos/cancel", {"videoId": video_id})
    callbacks.callbacks_collect()
    assert send_due() == [D.DELIVERED]
    assert receiver.wait_for(1)[0].path == "/default"


def test_the_default_reply_url_must_be_public_too(cast, conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(services.ServiceError, match=r"default replyUrl points at an address"):
        set_default_reply_url(cast.acme, "http://10.1.2.3/hook")


def test_a_host_that_does_not_resolve_at_send_time_is_tried_again(cast):
    # A name longer than DNS allows: the resolver refuses it without asking any server, as it
    # would answer while DNS is down.
    host = ".".join(["a" * 63] * 5)
    delivery = WebhookDelivery.objects.create(
        team=cast.acme,
        event=WebhookDelivery.Event.FINAL,
        url=f"https://{host}/hook",
        msg_id="msg_unresolvable",
        payload="{}",
        next_attempt_at=timezone.now(),
    )
    assert send_due() == [D.PENDING]
    delivery.refresh_from_db()
    assert "cannot be resolved" in delivery.last_error and delivery.next_attempt_at
