"""/metrics: Prometheus's text format behind a bearer token; the states read from the database,
the events counted where they happen (in this process, and across processes through
PROMETHEUS_MULTIPROC_DIR)."""

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from studio.webhooks import deliveries as callbacks
from studio.webhooks.models import WebhookDelivery
from tests.api.test_api import api_for
from tests.conftest import wait_for
from tests.factories import make_video
from tests.receiver import Receiver
from tests.videos.test_scheduler_remote import add_account, drive
from tests.webhooks.test_api_callbacks import cancelled_video_with_callback, send_due
from videos import services
from videos.models import ProviderAccount, Video

TOKEN = "scrape-me-0123456789"
S = Video.Status


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, frozenset], float]:
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def labels(**pairs) -> frozenset:
    return frozenset(pairs.items())


def counted(name: str, **pairs) -> float:
    return REGISTRY.get_sample_value(name, pairs) or 0.0


@pytest.mark.django_db
def test_metrics_are_off_until_a_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_a_scrape_without_the_token_is_refused(client, metrics_on):
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        answer = client.get("/metrics", **header)
        assert answer.status_code == 401
        assert answer["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"studio_" not in answer.content


@pytest.mark.django_db
def test_the_queue_slots_and_callbacks_are_read_from_the_database(client, metrics_on, cast):
    key = ProviderAccount.objects.create(team=cast.acme, name="Key", kind="minimax", max_jobs=4)
    make_video(cast.acme, cast.bob, status=S.QUEUED)
    make_video(cast.acme, cast.bob, status=S.QUEUED)
    make_video(cast.acme, cast.bob, status=S.PROCESSING, account=key)
    make_video(cast.acme, cast.bob, status=S.COMPLETED, account=key, outcome="completed")
    WebhookDelivery.objects.create(
        team=cast.acme, event="video.final", url="https://hooks.example.com/", msg_id="m1",
        payload="{}", state=WebhookDelivery.State.DELIVERED, delivered_at=timezone.now(),
    )  # fmt: skip

    found = scrape(client)

    acme, other = str(cast.acme.pk), str(cast.other.pk)
    assert found[("studio_queue_depth", labels(team=acme))] == 2
    assert found[("studio_queue_depth", labels(team=other))] == 0
    key_labels = labels(team=acme, account=str(key.pk), kind="minimax")
    assert found[("studio_account_slots", key_labels)] == 4
    assert found[("studio_account_slots_busy", key_labels)] == 1, "the completed one holds none"
    assert found[("studio_callbacks", labels(state="delivered"))] == 1
    assert found[("studio_callbacks", labels(state="pending"))] == 0


@pytest.mark.django_db(transaction=True)
def test_upstream_calls_and_render_times_are_counted_where_they_happen(
    client, metrics_on, cast, emulator, conf
):
    conf.POLL_SECONDS = 0.05
    conf.EXPECTED_UPSTREAM_SECONDS = 1
    conf.PUBLIC_URL = ""
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.2, rpm=100)
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    add_account(cast.acme, emulator)
    create = {"provider": "minimax", "call": "create", "result": "2xx"}
    download = {"provider": "minimax", "call": "download", "result": "2xx"}
    ended = {"kind": "minimax", "outcome": "completed"}
    before = (
        counted("studio_upstream_calls_total", **create),
        counted("studio_upstream_calls_total", **download),
        counted("studio_video_render_seconds_count", **ended),
    )

    (video,) = drive(make_video(cast.acme, cast.bob, prompt="Counted"))

    assert video.status == S.COMPLETED, video.error
    assert counted("studio_upstream_calls_total", **create) == before[0] + 1
    assert counted("studio_upstream_calls_total", **download) == before[1] + 1
    assert counted("studio_video_render_seconds_count", **ended) == before[2] + 1
    found = scrape(client)
    assert found[("studio_upstream_calls_total", labels(**create))] == before[0] + 1
    assert (
        found[
            ("studio_upstream_calls_total", labels(provider="minimax", call="query", result="2xx"))
        ]
        >= 1
    )


@pytest.mark.django_db(transaction=True)
def test_each_callback_try_is_counted_by_what_came_of_it(cast, conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    conf.WEBHOOK_RETRY_SECONDS = [0, 0, 0]
    port = Receiver.free_port()
    before = counted("studio_callback_deliveries_total", result="retrying")
    delivered = counted("studio_callback_deliveries_total", result="delivered")
    cancelled_video_with_callback(api_for(cast.bob, cast.acme), f"http://127.0.0.1:{port}/hook")
    callbacks.callbacks_collect()
    assert send_due() == [WebhookDelivery.State.PENDING]  # nobody listening yet
    back = Receiver().start(port)
    try:
        callbacks.callbacks_due()
        assert send_due() == [WebhookDelivery.State.DELIVERED]
    finally:
        back.stop()
    assert counted("studio_callback_deliveries_total", result="retrying") == before + 1
    assert counted("studio_callback_deliveries_total", result="delivered") == delivered + 1


@pytest.mark.slow
def test_a_workers_counts_reach_the_web_page_through_the_multiprocess_dir(
    client, metrics_on, cast, emulator, worker_factory, tmp_path, monkeypatch
):
    """The upstream calls happen in a qcluster process; /metrics, served by another process,
    adds up what every process of the host wrote into PROMETHEUS_MULTIPROC_DIR."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.2, rpm=100)
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    add_account(cast.acme, emulator)
    worker_factory(
        PROMETHEUS_MULTIPROC_DIR=str(shared),
        OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
        POLL_SECONDS="0.1",
        PUBLIC_URL="",
    )
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Across processes")
    )
    wait_for(
        lambda: Video.objects.get(pk=video.pk).status == S.COMPLETED, timeout=60, what="the video"
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))

    found = scrape(client)

    create = labels(provider="minimax", call="create", result="2xx")
    assert found[("studio_upstream_calls_total", create)] == 1
    ended = labels(kind="minimax", outcome="completed")
    assert found[("studio_video_render_seconds_count", ended)] == 1
    assert found[("studio_queue_depth", labels(team=str(cast.acme.pk)))] == 0


@pytest.mark.django_db(transaction=True)
def test_an_upstream_error_is_counted_by_its_kind_never_by_its_text(cast, emulator, conf):
    conf.POLL_SECONDS = 0.05
    conf.RETRY_BASE_SECONDS = 0.05
    conf.EXPECTED_UPSTREAM_SECONDS = 1
    conf.PUBLIC_URL = ""
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.2, rpm=100)
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    add_account(cast.acme, emulator, "useapi")
    emulator.fault("create", "http_502", count=1)
    failed = {"provider": "useapi", "call": "create", "result": "5xx"}
    before = counted("studio_upstream_calls_total", **failed)

    (video,) = drive(make_video(cast.acme, cast.bob, prompt="Retried after a 502"))

    assert video.status == S.COMPLETED, video.error
    assert counted("studio_upstream_calls_total", **failed) == before + 1
    results = {
        sample.labels["result"]
        for family in REGISTRY.collect()
        if family.name == "studio_upstream_calls"
        for sample in family.samples
    }
    assert results <= {"2xx", "3xx", "4xx", "5xx", "timeout", "dropped", "unreachable"} | {
        "refused",
        "unresolvable",
    }
