"""MiniMax's callback, with the studio really reachable: the emulator POSTs the challenge and
the status pushes to a live server, over loopback."""

import pytest
from django.utils import timezone

from tests.conftest import wait_for
from tests.factories import make_video
from tests.videos.test_scheduler_remote import add_account, creates_for, drive
from videos import scheduler
from videos.models import Attempt, ProviderAccount, Video

S = Video.Status


@pytest.fixture
def reachable(transactional_db, live_server, conf, cast):
    conf.PUBLIC_URL = live_server.url
    conf.POLL_SECONDS = 0.05
    conf.RETRY_BASE_SECONDS = 0.05
    conf.CALLBACK_GRACE_SECONDS = 0.5
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    return cast


@pytest.fixture
def emu(emulator):
    emulator.configure(preparing_s=0.2, queueing_s=0.2, processing_s=0.4, rpm=100)
    return emulator


def test_the_studio_answers_the_challenge_and_a_push_makes_the_poll_due(reachable, emu, conf):
    conf.POLL_SECONDS = 60  # only a push can bring the next poll forward
    add_account(reachable.acme, emu)
    video = make_video(reachable.acme, reachable.bob, prompt="Pushed")
    scheduler.videos_dispatch()
    video.refresh_from_db()
    assert video.status == S.PENDING and video.attempt.upstream_seen_at is not None
    (task,) = emu.stats()["tasks"]
    assert task["callback_url"].startswith(reachable and conf.PUBLIC_URL)
    wait_for(
        lambda: Attempt.objects.get(pk=video.attempt_id).next_poll_at <= timezone.now(),
        timeout=10,
        what="a status push",
    )
    (video,) = drive(video, timeout=20)
    assert video.status == S.COMPLETED


def test_a_callback_for_an_unknown_token_is_not_found(reachable, client):
    response = client.post(
        "/hooks/minimax/nope/", data={"challenge": "x"}, content_type="application/json"
    )
    assert response.status_code == 404


def test_a_lost_create_answer_is_reconciled_from_the_push_not_sent_twice(reachable, emu):
    add_account(reachable.acme, emu)
    emu.fault("create", "drop_after", count=1)
    video = make_video(reachable.acme, reachable.bob, prompt="Answer lost")
    (video,) = drive(video, timeout=30)
    assert video.status == S.COMPLETED, video.error
    assert creates_for(emu, "Answer lost") == 1
    assert video.attempt.started_on == timezone.localdate(video.attempt.started_at)


def test_a_create_that_never_reached_minimax_is_sent_again(reachable, emu):
    add_account(reachable.acme, emu)
    emu.fault("create", "drop", count=1)
    video = make_video(reachable.acme, reachable.bob, prompt="Never arrived")
    (video,) = drive(video, timeout=30)
    assert video.status == S.COMPLETED, video.error
    assert creates_for(emu, "Never arrived") == 1
    assert emu.stats()["create_attempts"] == 2


def test_an_unreachable_callback_url_falls_back_to_polling(reachable, emu, conf):
    conf.PUBLIC_URL = "http://127.0.0.1:9"  # nothing listens there
    add_account(reachable.acme, emu)
    video = make_video(reachable.acme, reachable.bob, prompt="No callbacks")
    (video,) = drive(video, timeout=30)
    assert video.status == S.COMPLETED, video.error
    assert creates_for(emu, "No callbacks") == 1
