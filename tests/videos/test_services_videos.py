from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone
from django_q.models import OrmQ

from tests.factories import add_member, image_bytes, make_user, make_video
from videos import scheduler, services
from videos.images import clean_image
from videos.models import Attempt, PromptImage, ProviderAccount, Video


def _png(width=640, height=480):
    import io

    return clean_image(io.BytesIO(image_bytes(width, height)), name="frame.png")


def _files(media_root):
    return sorted(p for p in media_root.rglob("*") if p.is_file())


def test_it_queues_a_video_and_asks_for_a_dispatch(cast):
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="  A fox in snow  ")
    )
    video.refresh_from_db()
    assert video.status == Video.Status.QUEUED
    assert video.prompt == "A fox in snow"
    assert video.author == cast.bob and video.team == cast.acme
    assert OrmQ.objects.count() == 1


def test_a_burst_of_submits_shares_one_dispatch_task(cast):
    for n in range(5):
        services.video_submit(
            team=cast.acme, user=cast.bob, submission=services.Submission(prompt=f"Burst {n}")
        )
    assert OrmQ.objects.count() == 1


def test_a_submit_after_the_dispatch_started_asks_for_another(cast):
    from videos import tasks

    # No account takes the video, so the only tasks queued are dispatches.
    ProviderAccount.objects.filter(team=cast.acme).update(enabled=False)
    services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="First")
    )
    tasks.dispatch()  # what the queued task does, inline
    services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Second")
    )
    assert OrmQ.objects.count() == 2


def test_a_dispatch_request_lost_for_long_is_replaced(cast):
    from datetime import timedelta

    from videos.models import DispatchFlag

    services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="First")
    )
    long_ago = timezone.now() - timedelta(seconds=services.DISPATCH_FLAG_SECONDS + 1)
    DispatchFlag.objects.filter(name=services.DISPATCH_FLAG).update(requested_at=long_ago)
    services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Second")
    )
    assert OrmQ.objects.count() == 2


def test_it_stores_the_first_frame_with_its_facts(cast, media_root):
    video = services.video_submit(
        team=cast.acme,
        user=cast.bob,
        submission=services.Submission(prompt="Pan across", image=_png(), image_name="me.png"),
    )
    image = video.image
    assert (image.width, image.height, image.format, image.original_name) == (
        640,
        480,
        "PNG",
        "me.png",
    )
    assert image.bytes == image.file.size
    assert len(_files(media_root)) == 1


def test_it_refuses_an_empty_prompt_without_an_image(cast):
    with pytest.raises(services.ServiceError, match="prompt is empty"):
        services.video_submit(
            team=cast.acme, user=cast.bob, submission=services.Submission(prompt="   \n ")
        )
    assert Video.objects.count() == 0 and OrmQ.objects.count() == 0


def test_it_refuses_a_prompt_over_the_limit(cast):
    with pytest.raises(services.ServiceError, match="limit is 2,000"):
        services.video_submit(
            team=cast.acme, user=cast.bob, submission=services.Submission(prompt="x" * 2001)
        )
    assert Video.objects.count() == 0


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"model": "I2V-01"}, "model"),
        ({"model": "MiniMax-Hailuo-02", "resolution": "1080P", "duration": 10}, "duration"),
        ({"reply_url": "http://10.0.0.5/hook"}, "reply_url"),
    ],
)
def test_a_refusal_names_the_field_it_is_about(cast, choice, field):
    with pytest.raises(services.ServiceError) as caught:
        services.video_submit(
            team=cast.acme,
            user=cast.bob,
            submission=services.Submission(**{"prompt": "x", **choice}),
        )
    assert caught.value.field == field
    assert Video.objects.count() == 0


def test_a_disabled_account_is_refused_naming_the_account_field(cast):
    account = services.account_ensure_local(team=cast.acme)
    services.account_update(account=account, enabled=False)
    submission = services.Submission(prompt="x", account=account)
    with pytest.raises(services.ServiceError, match="is disabled") as caught:
        services.video_submit(team=cast.acme, user=cast.bob, submission=submission)
    assert caught.value.field == "account"


def test_a_failed_submission_leaves_no_image_file_behind(cast, media_root):
    # The image is stored first; the video row then fails a NOT NULL constraint.
    with pytest.raises(IntegrityError):
        services.video_submit(
            team=cast.acme,
            user=cast.bob,
            submission=services.Submission(prompt="x", image=_png(), prompt_optimization=None),
        )
    assert PromptImage.objects.count() == 0
    assert _files(media_root) == []


# Dispatch


def test_it_never_starts_more_than_max_jobs(cast):
    for _ in range(5):
        make_video(cast.acme, cast.bob)
    started = scheduler.videos_dispatch()
    assert len(started) == 2
    assert Video.objects.filter(status=Video.Status.SUBMITTING).count() == 2
    assert scheduler.videos_dispatch() == []


def test_it_gives_each_team_only_its_own_accounts(cast):
    make_video(cast.other, cast.charlie)
    ProviderAccount.objects.filter(team=cast.other).update(enabled=False)
    assert scheduler.videos_dispatch() == []
    assert Video.objects.get().account is None


def test_it_skips_disabled_accounts(cast):
    ProviderAccount.objects.filter(team=cast.acme).update(enabled=False)
    make_video(cast.acme, cast.bob)
    assert scheduler.videos_dispatch() == []


def test_it_is_fair_between_teammates(cast):
    for _ in range(10):
        make_video(cast.acme, cast.bob, prompt="bob's batch")
    alices = make_video(cast.acme, cast.alice, prompt="alice's one")
    started = scheduler.videos_dispatch()
    assert alices.pk in started, "alice's single video waits behind bob's batch"


def test_it_starts_the_oldest_video_first_for_one_author(cast):
    first, second, _third = (make_video(cast.acme, cast.bob) for _ in range(3))
    assert scheduler.videos_dispatch() == [first.pk, second.pk]


def test_it_takes_back_a_video_whose_worker_went_quiet_without_costing_it_a_try(cast, conf):
    video = make_video(cast.acme, cast.bob)
    scheduler.videos_dispatch()
    long_ago = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS + 5)
    Video.objects.filter(pk=video.pk).update(status=Video.Status.PROCESSING)
    Attempt.objects.filter(current_of=video.pk).update(heartbeat_at=long_ago)
    assert scheduler.videos_reap() == 1
    video.refresh_from_db()
    assert video.status == Video.Status.QUEUED and video.account is None
    assert video.message == "Retrying after a worker restart"
    assert video.failures == 0 and video.worker_losses == 1


def test_a_worker_death_leaves_the_tries_an_upstream_error_used(cast, conf):
    long_ago = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS + 5)
    video = make_video(
        cast.acme,
        cast.bob,
        status=Video.Status.PROCESSING,
        number=2,
        failures=conf.MAX_VIDEO_ATTEMPTS - 1,
        heartbeat_at=long_ago,
    )
    scheduler.videos_reap()
    video.refresh_from_db()
    assert video.status == Video.Status.QUEUED, "one try left, and the death did not use it"
    assert video.failures == conf.MAX_VIDEO_ATTEMPTS - 1


def test_it_fails_a_video_that_killed_its_worker_too_often(cast, conf):
    long_ago = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS + 5)
    video = make_video(
        cast.acme,
        cast.bob,
        status=Video.Status.PROCESSING,
        number=conf.MAX_WORKER_LOSSES,
        worker_losses=conf.MAX_WORKER_LOSSES - 1,
        heartbeat_at=long_ago,
    )
    scheduler.videos_reap()
    video.refresh_from_db()
    assert video.status == Video.Status.FAILED
    assert f"stopped {conf.MAX_WORKER_LOSSES} times" in video.error
    assert video.failures == 0


def test_two_recoveries_of_one_worker_death_hand_the_video_back_once(cast):
    video = make_video(cast.acme, cast.bob)
    scheduler.videos_dispatch()
    Video.objects.filter(pk=video.pk).update(status=Video.Status.PROCESSING)
    video.refresh_from_db()
    assert scheduler.video_hand_back(video_id=video.pk, attempt=video.attempt_id) == 1
    assert scheduler.video_hand_back(video_id=video.pk, attempt=video.attempt_id) == 0
    video.refresh_from_db()
    assert video.worker_losses == 1 and video.status == Video.Status.QUEUED


def test_a_hand_back_deletes_what_the_dead_worker_stored_but_never_recorded(cast, media_root):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    video = make_video(cast.acme, cast.bob)
    scheduler.videos_dispatch()
    Video.objects.filter(pk=video.pk).update(status=Video.Status.PROCESSING)
    video.refresh_from_db()
    for ext in ("mp4", "jpg"):
        name = scheduler.result_name(
            team_id=cast.acme.pk, video_id=video.pk, attempt=video.attempt_id, ext=ext
        )
        default_storage.save(name, ContentFile(b"half a result"))
    assert len(_files(media_root)) == 2
    scheduler.video_hand_back(video_id=video.pk, attempt=video.attempt_id)
    assert _files(media_root) == []


def test_a_hand_back_of_an_old_attempt_leaves_the_new_claim_alone(cast):
    video = make_video(cast.acme, cast.bob)
    scheduler.videos_dispatch()
    video.refresh_from_db()
    older = Attempt.objects.create(video=video, number=0)
    assert scheduler.video_hand_back(video_id=video.pk, attempt=older.pk) == 0
    video.refresh_from_db()
    assert video.status == Video.Status.SUBMITTING and video.worker_losses == 0


def test_a_claim_whose_task_has_not_started_is_no_lost_worker(cast, conf):
    # Its task waits in the broker (behind busy workers, or until a restart releases it).
    video = make_video(cast.acme, cast.bob)
    scheduler.videos_dispatch()
    waiting = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS + 5)
    Attempt.objects.filter(current_of=video.pk).update(heartbeat_at=waiting)
    assert scheduler.videos_reap() == 0, "a claim does not beat: it is not stale yet"
    lost = timezone.now() - timedelta(seconds=conf.SEND_STALE_SECONDS + 5)
    Attempt.objects.filter(current_of=video.pk).update(heartbeat_at=lost)
    assert scheduler.videos_reap() == 1
    video.refresh_from_db()
    assert video.status == Video.Status.QUEUED
    assert (video.worker_losses, video.failures) == (0, 0)


def test_a_quiet_video_within_the_grace_period_is_left_alone(cast):
    video = make_video(cast.acme, cast.bob)
    scheduler.videos_dispatch()
    assert scheduler.videos_reap() == 0
    video.refresh_from_db()
    assert video.status == Video.Status.SUBMITTING


# Running


def _dispatched(cast, **fields):
    video = make_video(cast.acme, cast.bob, **fields)
    scheduler.videos_dispatch()
    video.refresh_from_db()
    return video


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_it_renders_and_stores_a_real_mp4_and_poster(cast, media_root):
    video = _dispatched(cast)
    scheduler.video_run(video_id=video.pk, attempt=video.attempt_id)
    video.refresh_from_db()
    assert video.status == Video.Status.COMPLETED and video.percent == 100
    assert video.file.name.endswith(".mp4") and video.poster.name.endswith(".jpg")
    assert (video.width, video.height, video.duration) == (1280, 720, 5.0)
    assert video.file_bytes == video.file.size > 10_000
    with video.file.open("rb") as fh:
        assert fh.read(12)[4:8] == b"ftyp"
    assert video.finished_at is not None


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_it_renders_over_the_first_frame_image(cast):
    video = services.video_submit(
        team=cast.acme,
        user=cast.bob,
        submission=services.Submission(prompt="Slow push in", image=_png(600, 900)),
    )
    scheduler.videos_dispatch()
    video.refresh_from_db()
    scheduler.video_run(video_id=video.pk, attempt=video.attempt_id)
    video.refresh_from_db()
    assert video.status == Video.Status.COMPLETED
    assert video.height > video.width, "a portrait image makes a portrait video"


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_a_second_delivery_of_the_same_task_does_nothing(cast, media_root):
    video = _dispatched(cast)
    scheduler.video_run(video_id=video.pk, attempt=video.attempt_id)
    files = _files(media_root)
    scheduler.video_run(video_id=video.pk, attempt=video.attempt_id)
    assert _files(media_root) == files
    assert Video.objects.get().status == Video.Status.COMPLETED


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_a_stale_attempt_cannot_touch_a_requeued_video(cast):
    video = _dispatched(cast)
    older = Attempt.objects.create(video=video, number=0)
    scheduler.video_run(video_id=video.pk, attempt=older.pk)
    video.refresh_from_db()
    assert video.status == Video.Status.SUBMITTING


def test_cancelling_stops_a_queued_video_and_frees_nothing_twice(cast):
    video = make_video(cast.acme, cast.bob)
    assert services.video_cancel(video=video, by=cast.alice)
    assert not services.video_cancel(video=video, by=cast.alice)
    video.refresh_from_db()
    assert video.status == Video.Status.CANCELLED and "alice" in video.message
    assert scheduler.videos_dispatch() == []


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_a_render_cancelled_midway_stops_and_stores_nothing(cast, media_root, monkeypatch):
    video = _dispatched(cast)
    from videos.providers.local import LocalRenderer

    original = LocalRenderer.render

    def render_then_cancel(self, job, *, workdir, on_progress):
        def progress(percent, message):
            if percent >= 30:
                Video.objects.filter(pk=job.video_id).update(status=Video.Status.CANCELLED)
            on_progress(percent, message)

        return original(self, job, workdir=workdir, on_progress=progress)

    monkeypatch.setattr(LocalRenderer, "render", render_then_cancel)
    scheduler.video_run(video_id=video.pk, attempt=video.attempt_id)
    video.refresh_from_db()
    assert video.status == Video.Status.CANCELLED and not video.file
    assert _files(media_root) == []


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_a_finished_video_frees_its_slot_for_the_next(cast):
    first = _dispatched(cast)
    waiting = [make_video(cast.acme, cast.bob) for _ in range(2)]
    scheduler.video_run(video_id=first.pk, attempt=first.attempt_id)
    statuses = set(
        Video.objects.filter(pk__in=[v.pk for v in waiting]).values_list("status", flat=True)
    )
    assert statuses == {Video.Status.SUBMITTING}


# Accounts and secrets


def test_credentials_are_encrypted_at_rest(cast):
    account = ProviderAccount.objects.create(
        team=cast.acme,
        name="MiniMax main",
        kind="minimax",
        credentials='{"api_key": "sk-live-123"}',
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM videos_provideraccount WHERE id = %s", [account.pk])
        raw = cursor.fetchone()[0]
    assert "sk-live-123" not in raw
    assert ProviderAccount.objects.get(pk=account.pk).credentials == '{"api_key": "sk-live-123"}'


def test_bootstrap_creates_a_team_admin_with_a_generated_password_once(db):
    first = services.studio_bootstrap()
    assert first.password and len(first.password) >= 12
    user = first.team.memberships.get().user
    assert user.check_password(first.password)
    assert first.team.accounts.get().kind == "local"
    again = services.studio_bootstrap()
    assert again.password == "" and again.team == first.team


def test_bootstrap_passwords_differ_between_installs(db):
    first = services.studio_bootstrap()
    user = make_user("someone")
    first.team.delete()
    user.delete()
    from django.contrib.auth import get_user_model

    get_user_model().objects.all().delete()
    second = services.studio_bootstrap()
    assert second.password != first.password


def test_a_member_of_two_teams_is_fair_per_team(cast):
    add_member(cast.other, cast.bob)
    make_video(cast.other, cast.bob)
    make_video(cast.acme, cast.bob)
    assert len(scheduler.videos_dispatch()) == 2
