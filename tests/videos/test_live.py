"""The gallery's one poll per page, honest queue states and ETAs (issue 13, items 7 and 8)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import make_video
from videos import services
from videos.models import Attempt, ProviderAccount, UpstreamCall, Video

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = Video.Status


def _local(team) -> ProviderAccount:
    return ProviderAccount.objects.get(team=team, kind=ProviderAccount.Kind.LOCAL)


def _running(team, author, **fields) -> Video:
    fields.setdefault("started_at", timezone.now())
    return make_video(team, author, status=Status.PROCESSING, account=_local(team), **fields)


def _keys(html: str) -> dict[int, str]:
    """The cards in progress a page shows: id → the key in its data-live."""
    return {
        int(i): k
        for i, k in re.findall(r'id="video-(\d+)"\s+data-status="\w+" data-live="(\w*)"', html)
    }


def _poll(client, cards: dict[int, str], **headers):
    query = ",".join(f"{pk}-{key}" for pk, key in cards.items())
    return client.get(reverse("videos_poll"), {"cards": query}, **HTMX, **headers)


def _card(client, video: Video) -> str:
    return client.get(reverse("video_card", args=[video.pk]), **HTMX).content.decode()


def _history(team, seconds: list[float], *, account=None, wait: float = 0.0) -> None:
    """Completed attempts on `account` that rendered for `seconds` each, after `wait` s."""
    account = account or _local(team)
    end = timezone.now() - timedelta(hours=1)
    for took in seconds:
        video = make_video(team, None, status=Status.COMPLETED, percent=100)
        started = end - timedelta(seconds=took)
        Attempt.objects.create(
            video=video,
            account=account,
            outcome=Attempt.Outcome.COMPLETED,
            created_at=started - timedelta(seconds=wait),
            started_at=started,
            finished_at=end,
        )


# One poll per page


def test_the_gallery_marks_cards_in_progress_instead_of_polling_each(cast):
    running = _running(cast.acme, cast.bob)
    done = make_video(cast.acme, cast.bob, status=Status.COMPLETED, percent=100)
    page = client_for(cast.bob).get(reverse("gallery")).content.decode()
    assert 'hx-trigger="every' not in page
    assert list(_keys(page)) == [running.pk], "only the running card is live"
    assert f'id="video-{done.pk}"' in page
    assert page.count('id="live-poller"') == 1 and reverse("videos_poll") in page


def test_a_poll_with_nothing_changed_answers_204(cast):
    _running(cast.acme, cast.bob)
    _running(cast.acme, cast.alice)
    client = client_for(cast.bob)
    keys = _keys(client.get(reverse("gallery")).content.decode())
    assert len(keys) == 2
    response = _poll(client, keys)
    assert response.status_code == 204 and response.content == b""
    assert response["ETag"]


def test_a_poll_answers_304_to_the_etag_it_gave(cast):
    video = _running(cast.acme, cast.bob)
    client = client_for(cast.bob)
    first = _poll(client, {video.pk: ""})
    assert first.status_code == 200
    again = _poll(client, {video.pk: ""}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    Video.objects.filter(pk=video.pk).update(percent=40)
    assert _poll(client, {video.pk: ""}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_poll_returns_only_the_cards_that_changed_as_out_of_band_swaps(cast):
    moving = _running(cast.acme, cast.bob, prompt="the one that moves")
    still = _running(cast.acme, cast.bob, prompt="the one that waits")
    client = client_for(cast.bob)
    keys = _keys(client.get(reverse("gallery")).content.decode())
    Video.objects.filter(pk=moving.pk).update(percent=55, message="Rendering frames")
    body = _poll(client, keys).content.decode()
    assert f'id="video-{moving.pk}"' in body and "hx-swap-oob" in body
    assert "55% · Rendering frames" in body
    assert f'id="video-{still.pk}"' not in body and "the one that waits" not in body
    assert _keys(body)[moving.pk] != keys[moving.pk], "the card carries its new key"


def test_a_card_that_finishes_comes_back_without_its_live_marker(cast):
    video = _running(cast.acme, cast.bob)
    client = client_for(cast.bob)
    keys = _keys(_card(client, video))
    Video.objects.filter(pk=video.pk).update(status=Status.COMPLETED, percent=100)
    body = _poll(client, keys).content.decode()
    assert 'data-status="completed"' in body and "data-live" not in body
    assert "data-mine" in body, "bob's own video: the page counts it in the title"


def test_a_refreshed_card_keeps_the_viewers_own_star(cast):
    starred, plain = _running(cast.acme, cast.bob), _running(cast.acme, cast.bob)
    services.favourite_set(user=cast.bob, video=starred, on=True)
    client = client_for(cast.bob)
    body = _poll(client, {starred.pk: "", plain.pk: ""}).content.decode()
    stars = dict(re.findall(r'action="/videos/(\d+)/favourite".*?aria-pressed="(\w+)"', body, re.S))
    assert stars == {str(starred.pk): "true", str(plain.pk): "false"}
    assert 'aria-pressed="true"' in _card(client, starred)
    assert 'aria-pressed="true"' not in _card(client_for(cast.alice), starred), "bob's star only"


def test_only_the_viewers_own_cards_are_marked_mine(cast):
    bobs, alices = _running(cast.acme, cast.bob), _running(cast.acme, cast.alice)
    body = _poll(client_for(cast.bob), {bobs.pk: "", alices.pk: ""}).content.decode()
    tags = {int(i): tag for tag, i in re.findall(r'(<article[^>]*id="video-(\d+)"[^>]*>)', body)}
    assert "data-mine" in tags[bobs.pk] and "data-mine" not in tags[alices.pk]


def test_another_teams_id_is_gone_like_one_that_never_existed(cast):
    theirs = _running(cast.other, cast.charlie, prompt="charlie's secret shot")
    client = client_for(cast.bob)
    foreign = _poll(client, {theirs.pk: ""})
    missing = _poll(client, {theirs.pk + 1000: ""})
    assert foreign.status_code == missing.status_code == 200
    assert foreign.content.decode().replace(
        str(theirs.pk), "N"
    ) == missing.content.decode().replace(str(theirs.pk + 1000), "N")
    assert b"secret" not in foreign.content and b'hx-swap-oob="delete"' in foreign.content


def test_a_card_moved_to_the_trash_leaves_the_page(cast):
    video = _running(cast.acme, cast.bob)
    Video.objects.filter(pk=video.pk).update(deleted_at=timezone.now())
    body = _poll(client_for(cast.bob), {video.pk: "abc"}).content.decode()
    assert f'<div id="video-{video.pk}" hx-swap-oob="delete">' in body


@pytest.mark.parametrize(
    "cards, message",
    [
        ("", "Name the cards to poll"),
        ("abc-12", "'abc' is not a video id"),
        ("0-12", "'0' is not a video id"),
        ("-5", "'' is not a video id"),
        ("99999999999999999999999-1", "is not a video id"),
        ("12-ZZ<script>", "the key of card 12 is not valid"),
        (",".join(str(i) for i in range(1, 102)), "at most 100 cards per poll; this one named 101"),
        ("1," * 3000, "too long"),
    ],
)
def test_a_bad_poll_is_a_400_that_says_what_is_wrong(cast, cards, message):
    response = client_for(cast.bob).get(reverse("videos_poll"), {"cards": cards})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_poll_has_no_side_effects_and_wants_get(cast):
    video = _running(cast.acme, cast.bob)
    client = client_for(cast.bob)
    assert client.post(reverse("videos_poll"), {"cards": f"{video.pk}-"}).status_code == 405
    before = list(Video.objects.values_list("status", "percent", "message"))
    _poll(client, {video.pk: ""})
    assert list(Video.objects.values_list("status", "percent", "message")) == before


def test_an_outsider_without_a_session_is_sent_to_sign_in(cast):
    from django.test import Client

    response = Client().get(reverse("videos_poll"), {"cards": "1-"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_poll_reads_every_card_in_a_fixed_number_of_queries(cast):
    account = ProviderAccount.objects.create(team=cast.acme, name="mm", kind="minimax", rpm=1)
    UpstreamCall.objects.create(account=account, kind="create", at=timezone.now())
    _history(cast.acme, [60, 90])
    client = client_for(cast.bob)

    def queries(count: int) -> int:
        videos = [_running(cast.acme, cast.bob) for _ in range(count)]
        videos += [make_video(cast.acme, cast.alice) for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            assert _poll(client, {v.pk: "" for v in videos}).status_code == 200
        return len(captured)

    assert queries(2) == queries(20)


# Honest queue state


def _queued_card(cast, **fields) -> str:
    video = make_video(cast.acme, cast.bob, **fields)
    return _card(client_for(cast.bob), video)


def test_a_queued_video_with_a_free_slot_is_starting(cast):
    card = _queued_card(cast)
    assert "Starting…" in card and "Waiting for a free slot" not in card
    assert "wait-starting" in card


def test_waiting_for_a_free_slot_only_when_every_slot_is_busy(cast):
    _running(cast.acme, cast.alice)
    _running(cast.acme, cast.alice)  # the local renderer's two slots
    card = _queued_card(cast)
    assert "Waiting for a free slot" in card and "wait-busy" in card


def test_a_queued_video_behind_others_waits_for_them_not_for_a_slot(cast):
    _running(cast.acme, cast.alice)  # one of two slots busy
    make_video(cast.acme, cast.alice)
    make_video(cast.acme, cast.alice)
    card = _queued_card(cast)
    assert "#3 in queue" in card and "Next after the 2 videos ahead" in card


def _only_minimax(cast, **fields) -> ProviderAccount:
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    return ProviderAccount.objects.create(
        team=cast.acme, name="MiniMax A", kind="minimax", **fields
    )


def test_a_rate_limited_account_shows_a_countdown_to_its_next_start(cast):
    account = _only_minimax(cast, rpm=2, max_jobs=3)
    now = timezone.now()
    for ago in (37, 20):
        UpstreamCall.objects.create(account=account, kind="create", at=now - timedelta(seconds=ago))
    card = _queued_card(cast)
    assert "Rate limit: next start in" in card and "wait-rate" in card
    seconds = int(re.search(r'data-seconds="(\d+)"', card).group(1))
    assert 21 <= seconds <= 23, "the oldest create leaves the 60 s window in 23 s"
    assert re.search(r">0:2[123]</time>", card)


def test_a_paused_account_says_why_and_until_when(cast):
    _only_minimax(
        cast,
        paused_until=timezone.now() + timedelta(minutes=5),
        pause_reason="Out of credits",
        pause_kind="credits",
    )
    card = _queued_card(cast)
    assert "MiniMax A is paused (Out of credits): resumes in" in card and "wait-paused" in card
    assert re.search(r">[45]:\d\d</time>", card)


def test_a_video_backing_off_counts_down_to_its_retry(cast):
    card = _queued_card(cast, retry_at=timezone.now() + timedelta(seconds=12))
    assert "Retrying in" in card and "wait-backoff" in card
    assert re.search(r'data-seconds="1[12]"', card)


def test_a_video_pinned_to_a_disabled_account_says_so(cast):
    account = ProviderAccount.objects.create(
        team=cast.acme, name="Night shift", kind="minimax", enabled=False
    )
    card = _queued_card(cast, requested_account=account)
    assert "Waiting for Night shift, which is disabled" in card and "wait-pinned" in card


def test_a_useapi_only_model_with_no_useapi_account_says_no_account_can_run_it(cast):
    card = _queued_card(cast, useapi_only=True, model="veo3")
    assert "No enabled useapi.net account can run veo3" in card and "wait-no_account" in card


def test_a_video_back_in_the_queue_says_why(cast):
    html = _queued_card(cast, message="Retrying after a worker restart", worker_losses=1)
    assert "Retrying after a worker restart" in html and "Starting…" in html


def test_the_countdown_is_not_part_of_the_key_so_polls_stay_quiet(cast):
    video = make_video(cast.acme, cast.bob, retry_at=timezone.now() + timedelta(seconds=30))
    client = client_for(cast.bob)
    keys = _keys(_card(client, video))
    assert _poll(client, keys).status_code == 204


# ETA


def test_no_history_means_no_estimate_yet(cast):
    assert "No estimate yet" in _queued_card(cast)
    assert "No estimate yet" in _card(client_for(cast.bob), _running(cast.acme, cast.bob))


def test_a_running_video_estimates_what_is_left_from_the_median_duration(cast):
    _history(cast.acme, [60, 120, 180, 2000, 100])  # median 120 s
    client = client_for(cast.bob)
    young = _running(cast.acme, cast.bob, started_at=timezone.now() - timedelta(seconds=20))
    old = _running(cast.acme, cast.bob, started_at=timezone.now() - timedelta(seconds=300))
    assert "About 2 min left" in _card(client, young)
    assert "Almost done" in _card(client, old)


def test_a_queued_video_estimates_its_turn_and_its_render(cast):
    _history(cast.acme, [120, 120, 120], wait=6)
    _running(cast.acme, cast.alice)
    _running(cast.acme, cast.alice)
    # #1 of the queue, two slots each freed once per 120 s: 60 s, then 6 s to start, 120 s.
    card = _queued_card(cast)
    assert "Ready in about 3 min" in card


def test_a_rate_limited_video_waits_out_its_countdown_in_the_estimate(cast):
    account = _only_minimax(cast, rpm=1)
    UpstreamCall.objects.create(account=account, kind="create", at=timezone.now())
    _history(cast.acme, [60], account=account)
    # 60 s for the rate window, then the 60 s render.
    assert "Ready in about 2 min" in _queued_card(cast)
