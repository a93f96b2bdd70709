"""The worker path through real `manage.py qcluster` processes on the test database."""

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from tests.conftest import wait_for
from tests.factories import make_video
from videos import services
from videos.models import Video

pytestmark = pytest.mark.slow


def _status(video_id: int) -> str:
    return Video.objects.values_list("status", flat=True).get(pk=video_id)


def test_a_worker_renders_submitted_videos_to_completion(cast, worker_factory, media_root):
    videos = [
        services.video_submit(
            team=cast.acme, user=cast.bob, submission=services.Submission(prompt=f"Shot {i}")
        )
        for i in range(3)
    ]
    worker_factory()
    for video in videos:
        wait_for(
            lambda v=video: _status(v.pk) == "completed", timeout=120, what=f"video {video.pk}"
        )
    for video in Video.objects.all():
        assert video.attempts.count() == 1
        assert (media_root / video.file.name).stat().st_size == video.file_bytes
        started = video.attempt.started_at
        assert video.attempt.started_on == timezone.localdate(started), "usage's day"


def test_a_queued_video_survives_a_worker_restart(cast, worker_factory):
    worker = worker_factory()
    worker.stop()
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="While nobody works")
    )
    assert OrmQ.objects.count() == 1, "the dispatch request waits in the database"
    worker_factory()
    wait_for(lambda: _status(video.pk) == "completed", timeout=120, what="the queued video")


def test_a_video_whose_worker_was_killed_mid_render_is_retried(cast, worker_factory, media_root):
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Interrupted")
    )
    # A paced render leaves time to interrupt it.
    worker = worker_factory(STALE_AFTER_SECONDS="5", LOCAL_RENDER_MIN_SECONDS="20")
    wait_for(
        lambda: Video.objects.filter(pk=video.pk, status="processing", percent__gt=0).exists(),
        timeout=60,
        what="the render to start",
    )
    worker.kill()
    assert _status(video.pk) == "processing", "the video is stuck until someone takes it back"
    # The fresh cluster's first worker hands back what the killed cluster's workers held.
    worker_factory(STALE_AFTER_SECONDS="600")
    wait_for(lambda: _status(video.pk) == "completed", timeout=90, what="the retried video")
    video.refresh_from_db()
    assert (video.attempts.count(), video.failures, video.worker_losses) == (2, 0, 1)
    finals = [p for p in media_root.rglob("*.mp4")]
    assert len(finals) == 1, "the interrupted render left no second result in storage"


def test_a_cancelled_video_is_never_rendered(cast, worker_factory):
    video = make_video(cast.acme, cast.bob)
    services.video_cancel(video=video, by=cast.bob)
    services.video_submit(
        team=cast.acme,
        user=cast.bob,
        submission=services.Submission(prompt="After the cancelled one"),
    )
    worker_factory()
    wait_for(
        lambda: Video.objects.filter(status="completed").exists(),
        timeout=120,
        what="the next video",
    )
    assert _status(video.pk) == "cancelled"
