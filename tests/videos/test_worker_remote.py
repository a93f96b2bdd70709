"""Remote accounts with real `manage.py qcluster` processes: several workers never overcommit
an account, and a worker killed with SIGKILL mid-send, mid-poll or mid-download neither loses
nor doubles a video."""

import pytest

from tests.conftest import wait_for
from tests.videos.test_scheduler_remote import add_account, creates_for
from videos import scheduler, services
from videos.models import ProviderAccount, Video

pytestmark = pytest.mark.slow

FAST = {
    "POLL_SECONDS": "0.1",
    "RETRY_BASE_SECONDS": "0.1",
    "POLL_CLAIM_SECONDS": "2",
    "FETCH_CLAIM_SECONDS": "3",
    "STALE_AFTER_SECONDS": "2",
    "SEND_STALE_SECONDS": "2",
    "SCHEDULER_LEASE_SECONDS": "2",
    "CALLBACK_GRACE_SECONDS": "2",
    "EXPECTED_UPSTREAM_SECONDS": "2",
}


@pytest.fixture
def acme(cast):
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    return cast.acme


@pytest.fixture
def emu(emulator):
    emulator.configure(preparing_s=0.1, queueing_s=0.2, processing_s=0.6, rpm=1000)
    return emulator


def _status(video_id: int) -> str:
    return Video.objects.values_list("status", flat=True).get(pk=video_id)


def _all_final(ids) -> bool:
    return not Video.objects.filter(pk__in=ids).exclude(status__in=Video.FINAL).exists()


def test_several_workers_never_run_more_than_max_jobs_on_an_account(
    acme, cast, emu, worker_factory
):
    first = add_account(acme, emu, name="One", secret="key-one", max_jobs=2)
    second = add_account(acme, emu, "useapi", name="Two", secret="key-two", max_jobs=3)
    ProviderAccount.objects.filter(pk=second.pk).update(upstream_account="200002")
    ids = [
        services.video_submit(
            team=acme, user=user, submission=services.Submission(prompt=f"Crowd {n}")
        ).pk
        for n in range(15)
        for user in (cast.alice, cast.bob)
    ]
    for _ in range(3):
        worker_factory(**FAST, Q_WORKERS="3")
    wait_for(lambda: _all_final(ids), timeout=240, what="30 videos through 3 clusters")
    assert Video.objects.filter(pk__in=ids, status="completed").count() == len(ids)
    stats = emu.stats()
    assert stats["creates"] == len(ids), "each video was sent exactly once"
    peaks = stats["peak_concurrent"]
    assert peaks.get("key-one", 0) <= first.max_jobs
    assert peaks.get("200002", 0) <= 3
    assert peaks.get("key-one", 0) >= 1 and peaks.get("200002", 0) >= 1


@pytest.mark.parametrize("kind", ["useapi", "minimax"])
def test_a_worker_killed_mid_send_neither_loses_nor_doubles_the_video(
    acme, cast, emu, worker_factory, live_server, kind
):
    # useapi finds the lost create by listing; MiniMax through its callback, so it needs
    # the studio to be reachable: the live server plays that part.
    add_account(acme, emu, kind)
    emu.fault("create", "slow", count=1, seconds=8)
    worker = worker_factory(**FAST, PUBLIC_URL=live_server.url)
    video = services.video_submit(
        team=acme, user=cast.bob, submission=services.Submission(prompt=f"Killed mid-send {kind}")
    )
    wait_for(lambda: emu.stats()["create_attempts"] == 1, timeout=60, what="the create")
    worker.kill()
    assert _status(video.pk) == "submitting"
    worker_factory(**FAST, PUBLIC_URL=live_server.url)
    scheduler.scheduler_ensure()  # in production the minute schedule does this
    wait_for(lambda: _status(video.pk) in Video.FINAL, timeout=90, what="the video to finish")
    video.refresh_from_db()
    assert video.status == "completed", video.error
    assert creates_for(emu, video.prompt) == 1


def test_a_worker_killed_mid_poll_loses_nothing(acme, cast, emu, worker_factory):
    add_account(acme, emu)
    worker = worker_factory(**FAST)
    video = services.video_submit(
        team=acme, user=cast.bob, submission=services.Submission(prompt="Killed mid-poll")
    )
    wait_for(lambda: _status(video.pk) in ("pending", "processing"), timeout=60, what="sent")
    polls = emu.stats()["requests"].get("query", 0)
    emu.fault("query", "slow", count=1, seconds=8)
    wait_for(lambda: emu.stats()["requests"].get("query", 0) > polls, timeout=30, what="a poll")
    worker.kill()
    worker_factory(**FAST)
    scheduler.scheduler_ensure()
    wait_for(lambda: _status(video.pk) in Video.FINAL, timeout=90, what="the video to finish")
    assert _status(video.pk) == "completed"
    assert creates_for(emu, "Killed mid-poll") == 1


def test_a_worker_killed_mid_download_fetches_again_and_stores_one_file(
    acme, cast, emu, worker_factory, media_root
):
    add_account(acme, emu)
    emu.fault("download", "slow", count=1, seconds=8)
    worker = worker_factory(**FAST)
    video = services.video_submit(
        team=acme, user=cast.bob, submission=services.Submission(prompt="Killed mid-download")
    )
    wait_for(lambda: emu.stats()["requests"].get("download", 0) >= 1, timeout=60, what="download")
    worker.kill()
    assert _status(video.pk) == "processing"
    worker_factory(**FAST)
    scheduler.scheduler_ensure()
    wait_for(lambda: _status(video.pk) in Video.FINAL, timeout=90, what="the video to finish")
    video.refresh_from_db()
    assert video.status == "completed", video.error
    assert creates_for(emu, "Killed mid-download") == 1
    assert len(list(media_root.rglob("*.mp4"))) == 1
