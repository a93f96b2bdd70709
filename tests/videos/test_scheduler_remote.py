"""Remote accounts end to end against the MiniMax emulator over real HTTP on loopback.

The scheduler's steps run inline here (one test thread, no qcluster), so each test can walk a
video through the faults it names; tests/videos/test_worker_remote.py does the same with real
workers.
"""

import time

import pytest
from django.utils import timezone

from tests.factories import make_video
from videos import scheduler, services
from videos.models import Attempt, ProviderAccount, UpstreamCall, Video

S = Video.Status


@pytest.fixture(autouse=True)
def fast(conf):
    conf.POLL_SECONDS = 0.05
    conf.RETRY_BASE_SECONDS = 0.05
    conf.POLL_CLAIM_SECONDS = 5
    conf.FETCH_CLAIM_SECONDS = 5
    conf.EXPECTED_UPSTREAM_SECONDS = 1
    conf.PUBLIC_URL = ""


@pytest.fixture
def emu(emulator):
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.2, rpm=100)
    return emulator


@pytest.fixture
def acme(cast):
    # Only the accounts a test adds take work: the local renderer steps aside.
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    return cast.acme


def add_account(team, emu, kind="minimax", *, name=None, secret="key-good", **fields):
    if kind == "useapi":
        fields.setdefault("upstream_account", "100001")
    return services.account_create(
        team=team,
        kind=kind,
        name=name or f"{kind} {ProviderAccount.objects.count()}",
        secret=secret,
        base_url=emu.url,
        max_jobs=fields.pop("max_jobs", 3),
        rpm=fields.pop("rpm", 100),
        **fields,
    )


def drive(*videos, timeout: float = 30.0, until=Video.FINAL) -> list[Video]:
    """Runs scheduler steps inline until every video reaches one of `until`."""
    deadline = time.monotonic() + timeout
    while True:
        scheduler.videos_dispatch()
        scheduler._due(lambda fn, **kw: fn(**kw))
        for video in videos:
            video.refresh_from_db()
        if all(v.status in until for v in videos):
            return list(videos)
        if time.monotonic() > deadline:
            states = [(v.pk, v.status, v.message, v.error) for v in videos]
            raise AssertionError(f"Timed out; videos are {states}")
        time.sleep(0.02)


def creates_for(emu, prompt: str) -> int:
    return sum(1 for t in emu.stats()["tasks"] if t["prompt"] == prompt)


# The happy paths


@pytest.mark.parametrize("kind", ["minimax", "useapi"])
def test_a_text_video_goes_through_the_upstream_into_the_gallery(emu, acme, cast, kind):
    add_account(acme, emu, kind)
    video = make_video(acme, cast.bob, prompt=f"A glacier calving, {kind}")
    (video,) = drive(video)
    assert video.status == S.COMPLETED, video.error
    assert video.file and video.poster and video.width and video.height and video.duration
    assert video.file.open("rb").read(12)[4:8] == b"ftyp"
    assert video.upstream_id and video.attempt.upstream_finished_at
    assert video.attempt.started_on == timezone.localdate(video.attempt.started_at)
    assert creates_for(emu, video.prompt) == 1


@pytest.mark.parametrize("kind", ["minimax", "useapi"])
def test_an_image_video_sends_the_first_frame(emu, acme, cast, kind):
    from tests.factories import upload
    from videos.images import clean_image

    add_account(acme, emu, kind)
    file = upload()
    image = clean_image(file, name=file.name, content_type=file.content_type, size=file.size)
    video = services.video_submit(
        team=acme, user=cast.bob, submission=services.Submission(prompt="Zoom in", image=image)
    )
    (video,) = drive(video)
    assert video.status == S.COMPLETED, video.error
    (task,) = [t for t in emu.stats()["tasks"] if t["prompt"] == "Zoom in"]
    assert task["has_first_frame"]


def test_the_chosen_model_resolution_and_duration_reach_minimax(emu, acme, cast):
    add_account(acme, emu)
    video = services.video_submit(
        team=acme,
        user=cast.bob,
        submission=services.Submission(
            prompt="Rain", model="MiniMax-Hailuo-02", resolution="1080P"
        ),
    )
    (video,) = drive(video)
    assert (video.width, video.height) == (1920, 1080) or video.status == S.COMPLETED
    (task,) = [t for t in emu.stats()["tasks"] if t["prompt"] == "Rain"]
    assert task["model"] == "MiniMax-Hailuo-02"


def test_a_model_that_cannot_do_the_mode_is_refused_before_anything_is_sent(acme, cast):
    with pytest.raises(services.ServiceError, match="text to video"):
        services.video_submit(
            team=acme,
            user=cast.bob,
            submission=services.Submission(prompt="x", model="MiniMax-Hailuo-2.3-Fast"),
        )
    with pytest.raises(services.ServiceError, match="10 s"):
        services.video_submit(
            team=acme,
            user=cast.bob,
            submission=services.Submission(prompt="x", resolution="1080P", duration=10),
        )
    assert not Video.objects.exists()


# Faults, each ending in the documented state


@pytest.mark.parametrize("kind", ["http_500", "code_1000", "code_1013", "code_1033"])
def test_a_transient_create_error_is_retried_and_the_video_completes(emu, acme, cast, kind):
    add_account(acme, emu)
    emu.fault("create", kind, count=1)
    video = make_video(acme, cast.bob, prompt=f"Retry after {kind}")
    (video,) = drive(video)
    assert video.status == S.COMPLETED, video.error
    assert video.failures == 1
    assert creates_for(emu, video.prompt) == 1


def test_a_create_that_keeps_failing_ends_failed_with_the_reason(emu, acme, cast, conf):
    add_account(acme, emu)
    emu.fault("create", "http_502", count=50)
    video = make_video(acme, cast.bob, prompt="Never")
    (video,) = drive(video)
    assert video.status == S.FAILED
    assert f"Gave up after {conf.MAX_VIDEO_ATTEMPTS} tries" in video.error
    assert "HTTP 502" in video.error


def test_a_slow_create_still_makes_exactly_one_video(emu, acme, cast):
    add_account(acme, emu)
    emu.fault("create", "slow", count=1, seconds=1.0)
    video = make_video(acme, cast.bob, prompt="Slow")
    (video,) = drive(video)
    assert video.status == S.COMPLETED
    assert creates_for(emu, "Slow") == 1


def test_a_malformed_create_answer_is_resent_and_said_so_on_minimax(emu, acme, cast):
    # MiniMax v1 cannot look a task up: without callbacks the studio resends, and says so.
    add_account(acme, emu)
    emu.fault("create", "malformed", count=1)
    video = make_video(acme, cast.bob, prompt="Garbled")
    (video,) = drive(video, until=(S.QUEUED, *Video.FINAL))
    assert video.status == S.QUEUED and "may have started twice" in video.message
    (video,) = drive(video)
    assert video.status == S.COMPLETED


def test_a_dropped_create_on_useapi_is_found_upstream_not_sent_twice(emu, acme, cast):
    add_account(acme, emu, "useapi")
    emu.fault("create", "drop_after", count=1)
    video = make_video(acme, cast.bob, prompt="Dropped but made")
    (video,) = drive(video)
    assert video.status == S.COMPLETED, video.error
    assert creates_for(emu, video.prompt) == 1


def test_a_create_dropped_before_useapi_made_it_is_sent_again(emu, acme, cast):
    add_account(acme, emu, "useapi")
    emu.fault("create", "drop", count=1)
    video = make_video(acme, cast.bob, prompt="Dropped early")
    (video,) = drive(video)
    assert video.status == S.COMPLETED, video.error
    assert creates_for(emu, video.prompt) == 1


@pytest.mark.parametrize("kind", ["http_500", "malformed", "drop", "code_1013"])
def test_a_failing_poll_is_retried_and_the_video_completes(emu, acme, cast, kind):
    add_account(acme, emu)
    emu.fault("query", kind, count=2)
    video = make_video(acme, cast.bob, prompt=f"Poll {kind}")
    (video,) = drive(video)
    assert video.status == S.COMPLETED, video.error
    assert creates_for(emu, video.prompt) == 1


@pytest.mark.parametrize("kind", ["minimax", "useapi"])
def test_a_prompt_with_the_trigger_word_ends_moderated(emu, acme, cast, kind):
    add_account(acme, emu, kind)
    video = make_video(acme, cast.bob, prompt="something forbidden here")
    (video,) = drive(video)
    assert video.status == S.MODERATED
    assert video.error


@pytest.mark.parametrize("kind", ["minimax", "useapi"])
def test_a_result_flagged_by_moderation_ends_moderated(emu, acme, cast, kind):
    add_account(acme, emu, kind)
    video = make_video(acme, cast.bob, prompt="a nsfwresult scene")
    (video,) = drive(video)
    assert video.status == S.MODERATED


def test_an_upstream_failure_ends_failed_with_its_message(emu, acme, cast):
    add_account(acme, emu)
    video = make_video(acme, cast.bob, prompt="please failme now")
    (video,) = drive(video)
    assert video.status == S.FAILED and video.error


def test_an_invalid_key_disables_the_account_and_another_account_takes_the_video(emu, acme, cast):
    bad = add_account(acme, emu, name="Bad key", secret="key-bad")
    emu.configure(invalid_keys=["key-bad"])
    video = make_video(acme, cast.bob, prompt="Rerouted")
    (video,) = drive(video, until=(S.QUEUED, *Video.FINAL), timeout=5)
    bad.refresh_from_db()
    assert not bad.enabled and "refused the key" in bad.last_error
    assert video.status == S.QUEUED and video.account is None
    add_account(acme, emu, name="Good key")
    (video,) = drive(video)
    assert video.status == S.COMPLETED and video.account.name == "Good key"


def test_a_key_for_the_other_region_disables_the_account_with_a_hint(emu, acme, cast):
    account = add_account(acme, emu, secret="cn-key")  # a mainland key on the global host
    video = make_video(acme, cast.bob, prompt="Wrong region")
    drive(video, until=(S.QUEUED,), timeout=5)
    account.refresh_from_db()
    assert not account.enabled and "region" in account.last_error


@pytest.mark.parametrize(
    ("setting", "kind", "words"),
    [
        ("no_balance_keys", "minimax", "out of balance"),
        ("quota_keys", "minimax", "quota"),
        ("no_balance_keys", "useapi", "out of credits"),
        ("on_hold_keys", "useapi", "on hold"),
    ],
)
def test_an_account_out_of_funds_or_on_hold_is_paused_and_its_video_rerouted(
    emu, acme, cast, setting, kind, words
):
    broke = add_account(acme, emu, kind, name="Broke", secret="key-broke")
    emu.configure(**{setting: ["key-broke"]})
    video = make_video(acme, cast.bob, prompt=f"Funds {setting} {kind}")
    (video,) = drive(video, until=(S.QUEUED,), timeout=5)
    broke.refresh_from_db()
    assert broke.is_paused and words in broke.pause_reason
    assert video.account is None
    add_account(acme, emu, kind, name="Funded")
    (video,) = drive(video)
    assert video.status == S.COMPLETED and video.account.name == "Funded"


def test_a_rate_limited_account_backs_off_and_the_video_completes_later(emu, acme, cast):
    account = add_account(acme, emu)
    emu.fault("create", "code_1002", count=1)
    video = make_video(acme, cast.bob, prompt="Rate limited")
    (video,) = drive(video, until=(S.QUEUED,), timeout=5)
    account.refresh_from_db()
    assert account.is_paused and "Rate limited" in account.pause_reason
    ProviderAccount.objects.filter(pk=account.pk).update(paused_until=None)
    (video,) = drive(video)
    assert video.status == S.COMPLETED and video.failures == 0


def test_a_rate_limited_poll_pauses_the_account_without_losing_the_video(emu, acme, cast):
    account = add_account(acme, emu)
    emu.fault("query", "code_1002", count=1)
    video = make_video(acme, cast.bob, prompt="Poll rate limited")
    deadline = time.monotonic() + 10
    while not ProviderAccount.objects.get(pk=account.pk).is_paused:
        assert time.monotonic() < deadline, "the account was never paused"
        drive(video, until=(S.PENDING, S.PROCESSING))
    video.refresh_from_db()
    assert video.status in Video.RUNNING and video.attempt.next_poll_at > video.submitted_at
    Attempt.objects.filter(pk=video.attempt_id).update(next_poll_at=video.submitted_at)
    (video,) = drive(video)
    assert video.status == S.COMPLETED


def test_the_studio_keeps_under_the_accounts_request_rate(emu, acme, cast):
    add_account(acme, emu, rpm=2, max_jobs=10)
    for n in range(5):
        make_video(acme, cast.bob, prompt=f"Rate {n}")
    scheduler.videos_dispatch()
    scheduler.videos_dispatch()
    assert emu.stats()["create_attempts"] == 2
    assert Video.objects.filter(status=S.QUEUED).count() == 3
    assert UpstreamCall.objects.filter(kind="create").count() == 2


def test_an_account_never_runs_more_than_max_jobs(emu, acme, cast):
    add_account(acme, emu, max_jobs=2)
    videos = [make_video(acme, cast.bob, prompt=f"Slot {n}") for n in range(5)]
    drive(*videos, timeout=60)
    assert all(v.status == S.COMPLETED for v in videos)
    assert max(emu.stats()["peak_concurrent"].values()) <= 2


def test_an_expired_or_failed_download_is_retried_with_a_fresh_link(emu, acme, cast):
    add_account(acme, emu)
    emu.fault("download", "http_500", count=1)
    emu.configure(download_ttl_s=0.0)  # every link has expired by the time it is used
    video = make_video(acme, cast.bob, prompt="Expiring link")
    (video,) = drive(video, until=(S.PROCESSING,), timeout=10)
    deadline = time.monotonic() + 10
    attempt = Attempt.objects.filter(pk=video.attempt_id)
    while attempt.get().fetch_failures < 2 and time.monotonic() < deadline:
        drive(video, until=(S.PROCESSING, *Video.FINAL))
        time.sleep(0.05)
    emu.configure(download_ttl_s=3600.0)
    (video,) = drive(video)
    assert video.status == S.COMPLETED
    assert video.attempt.fetch_failures >= 2
    assert emu.stats()["requests"]["retrieve"] >= 3


def test_a_download_that_never_works_fails_with_a_clear_reason(emu, acme, cast, conf):
    add_account(acme, emu)
    emu.configure(download_ttl_s=0.0)
    video = make_video(acme, cast.bob, prompt="Never downloads")
    (video,) = drive(video)
    assert video.status == S.FAILED
    assert f"downloading it failed {conf.MAX_FETCH_FAILURES} times" in video.error


def test_a_slot_frees_when_the_upstream_finishes_not_when_the_download_does(emu, acme, cast):
    add_account(acme, emu, max_jobs=1)
    first = make_video(acme, cast.bob, prompt="First")
    second = make_video(acme, cast.bob, prompt="Second")
    emu.fault("download", "slow", count=1, seconds=0.5)
    drive(first, second)
    tasks = {t["prompt"]: t for t in emu.stats()["tasks"]}
    # The second create went out before the first video's download had finished.
    assert tasks["Second"]["created_at"] < Video.objects.get(pk=first.pk).finished_at.timestamp()


def test_a_member_with_one_video_is_not_stuck_behind_a_teammates_hundred(emu, acme, cast):
    add_account(acme, emu, max_jobs=1)
    for n in range(20):
        make_video(acme, cast.alice, prompt=f"Alice {n}")
    bobs = make_video(acme, cast.bob, prompt="Bob's one")
    scheduler.videos_dispatch()
    scheduler._due(lambda fn, **kw: fn(**kw))
    first_two = [t["prompt"] for t in emu.stats()["tasks"]][:2]
    drive(*Video.objects.filter(prompt__in=first_two), timeout=20)
    scheduler.videos_dispatch()
    prompts = [t["prompt"] for t in emu.stats()["tasks"]]
    assert "Bob's one" in prompts[:2]
    bobs.refresh_from_db()
    assert bobs.status != S.QUEUED


def test_test_connection_reports_a_good_and_a_bad_key(emu, acme):
    good = add_account(acme, emu, name="Good")
    assert services.account_test(account=good).ok
    bad = add_account(acme, emu, name="Bad", secret="key-bad")
    emu.configure(invalid_keys=["key-bad"])
    result = services.account_test(account=bad)
    assert not result.ok and "refused the key" in result.message
    user = add_account(acme, emu, "useapi", name="Useapi")
    assert "100001" in services.account_test(account=user).message


def test_a_quiet_send_is_reconciled_only_after_the_send_timeout(emu, acme, cast, conf):
    from datetime import timedelta

    from django.utils import timezone

    account = add_account(acme, emu)
    slow = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS + 5)
    dead = timezone.now() - timedelta(seconds=conf.SEND_STALE_SECONDS + 5)
    uploading = make_video(acme, cast.bob, status=S.SUBMITTING, account=account, heartbeat_at=slow)
    lost = make_video(acme, cast.bob, status=S.SUBMITTING, account=account, heartbeat_at=dead)
    scheduler.videos_reap()
    uploading.refresh_from_db()
    lost.refresh_from_db()
    assert uploading.attempt.next_poll_at is None, "a long upload is still a live send"
    assert lost.attempt.next_poll_at is not None, "in doubt, not resent"
    assert lost.status == S.SUBMITTING
