"""Usage per member and account from the attempts that reached an upstream, and quotas."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from studio.lib.errors import ServiceError
from studio.teams.models import Membership
from tests.api.test_api import api_for, error_of
from tests.conftest import client_for
from tests.factories import make_video
from videos import scheduler, selectors_usage, services
from videos.models import Attempt, MemberQuota, ProviderAccount, Video

S = Video.Status
DONE = Attempt.Outcome.COMPLETED


def _at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def _account(team, name="Studio key", per_video="0.20", per_second="0.05") -> ProviderAccount:
    return ProviderAccount.objects.create(
        team=team,
        name=name,
        kind="minimax",
        price_per_video=Decimal(per_video),
        price_per_second=Decimal(per_second),
    )


def _spent(team, author, account, day, *, seconds=6.0, outcome=DONE, started=True) -> Video:
    """A video whose attempt reached `account` on `day` (or never started)."""
    return make_video(
        team,
        author,
        status=S.COMPLETED if outcome == DONE else S.FAILED,
        duration=seconds,
        account=account,
        outcome=outcome,
        started_at=_at(day) if started else None,
        price_per_video=account.price_per_video,
        price_per_second=account.price_per_second,
    )


def _member(cast, user) -> Membership:
    return Membership.objects.get(team=cast.acme, user=user)


# The figures


def test_usage_counts_attempts_that_reached_an_upstream_with_their_delivered_seconds(cast):
    key = _account(cast.acme)
    day = date(2026, 11, 10)
    _spent(cast.acme, cast.bob, key, day, seconds=6.0)  # 0.20 + 6 * 0.05 = 0.50
    _spent(cast.acme, cast.bob, key, day, seconds=10.0)  # 0.20 + 10 * 0.05 = 0.70
    _spent(cast.acme, cast.bob, key, day, outcome=Attempt.Outcome.FAILED)  # 0.20, no seconds
    _spent(cast.acme, cast.bob, key, day, started=False)  # never reached it: nothing
    _spent(cast.other, cast.charlie, _account(cast.other), day)  # another team's

    found = selectors_usage.usage(team=cast.acme, since=day, until=day)

    [row] = found.rows
    assert (row.period, row.member, row.account) == (day, "bob", "Studio key")
    assert (row.videos, row.seconds, row.cost) == (3, 16.0, Decimal("1.40"))
    assert (found.videos, found.seconds, found.cost) == (3, 16.0, Decimal("1.40"))


def test_the_price_of_an_attempt_is_the_one_when_it_was_claimed(cast):
    key = _account(cast.acme, per_video="1.00", per_second="0")
    video = make_video(cast.acme, cast.bob)
    now = timezone.now()
    attempt = scheduler.video_claim(account=key, video_id=video.pk, now=now)
    ProviderAccount.objects.filter(pk=key.pk).update(price_per_video=Decimal("9.00"))
    today = timezone.localdate(now)
    Attempt.objects.filter(pk=attempt).update(started_at=now, started_on=today, outcome=DONE)

    found = selectors_usage.usage(team=cast.acme, since=today, until=today)

    assert found.cost == Decimal("1.00")


def test_the_local_renderer_costs_nothing_whatever_its_prices(cast):
    local = ProviderAccount.objects.get(team=cast.acme, kind="local")
    ProviderAccount.objects.filter(pk=local.pk).update(price_per_video=Decimal("5"))
    local.refresh_from_db()
    video = make_video(cast.acme, cast.bob)
    attempt = scheduler.video_claim(account=local, video_id=video.pk, now=timezone.now())
    assert Attempt.objects.get(pk=attempt).price_per_video == 0


def test_usage_groups_by_week_and_month_and_fills_empty_periods_for_the_chart(cast):
    key = _account(cast.acme)
    for day in (date(2026, 10, 30), date(2026, 11, 2), date(2026, 11, 3)):
        _spent(cast.acme, cast.alice, key, day)
    months = selectors_usage.usage(
        team=cast.acme, since=date(2026, 9, 15), until=date(2026, 11, 30), period="month"
    )
    assert [(p, n) for p, n, _ in months.by_period] == [
        (date(2026, 9, 1), 0),
        (date(2026, 10, 1), 1),
        (date(2026, 11, 1), 2),
    ]
    weeks = selectors_usage.usage(
        team=cast.acme, since=date(2026, 10, 26), until=date(2026, 11, 8), period="week"
    )
    assert [(p, n) for p, n, _ in weeks.by_period] == [
        (date(2026, 10, 26), 1),
        (date(2026, 11, 2), 2),
    ]


def test_usage_narrows_to_a_member_and_an_account_and_ranks_the_totals(cast):
    key, other_key = _account(cast.acme), _account(cast.acme, name="Agency key", per_video="1")
    day = date(2026, 11, 10)
    _spent(cast.acme, cast.bob, key, day)
    _spent(cast.acme, cast.alice, other_key, day)
    _spent(cast.acme, cast.alice, other_key, day)

    everything = selectors_usage.usage(team=cast.acme, since=day, until=day)
    assert [name for name, *_ in everything.by_member] == ["alice", "bob"]
    assert [name for name, *_ in everything.by_account] == ["Agency key", "Studio key"]
    bobs = selectors_usage.usage(team=cast.acme, since=day, until=day, author_id=cast.bob.pk)
    assert [r.member for r in bobs.rows] == ["bob"]
    agency = selectors_usage.usage(team=cast.acme, since=day, until=day, account_id=other_key.pk)
    assert agency.videos == 2 and agency.cost == Decimal("2.60")


def test_a_video_in_the_trash_still_counts(cast):
    key = _account(cast.acme)
    day = date(2026, 11, 10)
    video = _spent(cast.acme, cast.bob, key, day)
    Video.objects.filter(pk=video.pk).update(deleted_at=timezone.now())
    assert selectors_usage.usage(team=cast.acme, since=day, until=day).videos == 1


# Quotas


def test_only_an_admin_sets_a_quota_and_clearing_every_limit_removes_it(cast):
    bob, alice = _member(cast, cast.bob), _member(cast, cast.alice)
    with pytest.raises(ServiceError, match="Only a team admin"):
        services.quota_set(
            membership=bob, by=bob, videos_per_day=5, videos_per_month=None, cost_per_month=None
        )
    services.quota_set(
        membership=bob, by=alice, videos_per_day=5, videos_per_month=None, cost_per_month=None
    )
    assert MemberQuota.objects.get(membership=bob).videos_per_day == 5
    services.quota_set(
        membership=bob, by=alice, videos_per_day=None, videos_per_month=None, cost_per_month=None
    )
    assert not MemberQuota.objects.exists()


def _quota(cast, user, **limits) -> None:
    limits = {"videos_per_day": None, "videos_per_month": None, "cost_per_month": None, **limits}
    services.quota_set(membership=_member(cast, user), by=_member(cast, cast.alice), **limits)


def test_a_submit_past_the_daily_quota_is_refused_in_the_web_ui_naming_it(cast):
    _quota(cast, cast.bob, videos_per_day=2)
    client = client_for(cast.bob)
    page = client.get(reverse("gallery")).text
    assert "2 of 2 videos left today" in page
    for _ in range(2):
        assert client.post(reverse("video_create"), {"prompt": "A kite"}).status_code == 302
    response = client.post(reverse("video_create"), {"prompt": "A third kite"})
    assert response.status_code == 400
    assert "Your quota is 2 videos a day, and you have made 2 today." in response.text
    assert Video.objects.count() == 2


def test_a_member_without_a_quota_submits_without_locking_their_membership(cast):
    """Most members have no quota: their creates need not queue behind each other."""
    bob = api_for(cast.bob, cast.acme)
    with CaptureQueriesContext(connection) as queries:
        assert bob.create(prompt="Free to go").status_code == 200
    membership = Membership._meta.db_table
    locks = [q["sql"] for q in queries if "FOR" in q["sql"] and f'FROM "{membership}"' in q["sql"]]
    assert locks == []
    _quota(cast, cast.bob, videos_per_day=5)
    with CaptureQueriesContext(connection) as queries:
        assert bob.create(prompt="Counted now").status_code == 200
    locked = [q["sql"] for q in queries if "FOR" in q["sql"] and f'FROM "{membership}"' in q["sql"]]
    # SQLite has no row locks (its one write lock serialises the transactions anyway).
    expected = 1 if connection.features.has_select_for_update else 0
    assert len(locked) == expected, "a quota's count-then-insert holds the membership's row lock"


def test_a_create_past_the_quota_is_a_429_naming_it_in_the_api(cast):
    _quota(cast, cast.bob, videos_per_month=1)
    bob = api_for(cast.bob, cast.acme)
    assert bob.create(prompt="The first").status_code == 200
    response = bob.create(prompt="The second")
    assert "Your quota is 1 video a month" in error_of(response, 429)
    assert int(response["Retry-After"]) > 0
    assert Video.objects.count() == 1


def test_the_monthly_cost_quota_counts_what_the_attempts_cost(cast):
    key = _account(cast.acme, per_video="3", per_second="0")
    _quota(cast, cast.bob, cost_per_month=Decimal("5"))
    today = timezone.localdate()
    _spent(cast.acme, cast.bob, key, today)
    state = selectors_usage.quota_state(membership=_member(cast, cast.bob))
    assert (state.cost_this_month, state.cost_left_this_month) == (Decimal("3.00"), Decimal("2.00"))
    assert state.refusal == ""
    _spent(cast.acme, cast.bob, key, today)
    state = selectors_usage.quota_state(membership=_member(cast, cast.bob))
    assert "5.00 USD of estimated cost a month" in state.refusal


def test_admins_are_exempt_unless_they_set_a_quota_for_themselves(cast):
    client = client_for(cast.alice)
    _quota(cast, cast.bob, videos_per_day=0)
    assert client.post(reverse("video_create"), {"prompt": "Alice's"}).status_code == 302
    _quota(cast, cast.alice, videos_per_day=1)
    response = client.post(reverse("video_create"), {"prompt": "Alice's second"})
    assert response.status_code == 400 and "Your quota is 1 video a day" in response.text


def test_a_join_of_ones_own_clips_does_not_count_against_the_video_quota(cast):
    _quota(cast, cast.bob, videos_per_day=1)
    make_video(cast.acme, cast.bob, kind=Video.Kind.JOIN, status=S.COMPLETED)
    state = selectors_usage.quota_state(membership=_member(cast, cast.bob))
    assert state.videos_left_today == 1


def test_the_daily_quota_resets_at_midnight(cast):
    _quota(cast, cast.bob, videos_per_day=1)
    video = make_video(cast.acme, cast.bob)
    Video.objects.filter(pk=video.pk).update(created_at=timezone.now() - timedelta(days=1))
    state = selectors_usage.quota_state(membership=_member(cast, cast.bob))
    assert state.videos_left_today == 1


def test_when_the_month_is_used_up_too_the_refusal_names_the_month_not_midnight(cast):
    _quota(cast, cast.bob, videos_per_day=1, videos_per_month=1)
    make_video(cast.acme, cast.bob)
    state = selectors_usage.quota_state(membership=_member(cast, cast.bob))
    assert state.refusal.startswith("Your quota is 1 video a month")
    mid_month = _at(date(2026, 12, 10))
    assert state.resets_in(mid_month) == (_at(date(2027, 1, 1), 0) - mid_month).total_seconds()


# The page


def test_an_admin_sees_everyones_usage_and_a_member_only_their_own(cast):
    key = _account(cast.acme)
    today = timezone.localdate()
    _spent(cast.acme, cast.bob, key, today)
    _spent(cast.acme, cast.alice, key, today)
    _spent(cast.acme, cast.alice, key, today)
    admin = client_for(cast.alice).get(reverse("usage")).text
    assert '<span class="stat-value">3</span>' in admin and "Quotas" in admin
    member = client_for(cast.bob).get(reverse("usage"), {"member": cast.alice.pk}).text
    assert '<span class="stat-value">1</span>' in member, "bob's own, whatever he asks"
    assert "Quotas" not in member and "Everyone" not in member


def test_the_csv_has_a_row_per_period_member_and_account_and_no_formulas(cast):
    key = _account(cast.acme, name="=HYPERLINK(1)")
    today = timezone.localdate()
    _spent(cast.acme, cast.bob, key, today, seconds=10.0)
    response = client_for(cast.alice).get(reverse("usage"), {"format": "csv", "period": "month"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="usage-')
    lines = response.content.decode().splitlines()
    assert lines[0] == "period,member,account,videos,seconds,cost,currency"
    month = today.replace(day=1).isoformat()
    assert lines[1:] == [f"{month},bob,'=HYPERLINK(1),1,10.0,0.70,USD"]


def test_a_bad_range_is_a_400_that_says_what_to_fix(cast):
    client = client_for(cast.alice)
    response = client.get(reverse("usage"), {"from": "2026-11-10", "to": "2026-11-01"})
    assert response.status_code == 400 and "from is after to" in response.text
    response = client.get(reverse("usage"), {"from": "2020-01-01", "to": "2026-11-01"})
    assert response.status_code == 400 and "too long to show by day" in response.text
    response = client.get(reverse("usage"), {"account": "999"})
    assert response.status_code == 400 and "not one of the team" in response.text


def test_an_admin_sets_a_quota_on_the_page_and_a_member_cannot(cast):
    bob = _member(cast, cast.bob)
    url = reverse("usage_quota", args=[bob.pk])
    data = {"videos_per_day": "3", "videos_per_month": "", "cost_per_month": "12.5"}
    assert client_for(cast.bob).post(url, data).status_code == 403
    assert client_for(cast.alice).post(url, data).status_code == 302
    quota = MemberQuota.objects.get(membership=bob)
    assert (quota.videos_per_day, quota.videos_per_month, quota.cost_per_month) == (
        3,
        None,
        Decimal("12.50"),
    )
    page = client_for(cast.bob).get(reverse("usage")).text
    assert "3 of 3 videos left today" in page and "12.50 of 12.50 USD left this month" in page
    response = client_for(cast.alice).post(url, {"videos_per_day": "-2"}, follow=True)
    assert "videos per day: Ensure this value is greater than or equal to 0." in response.text
    other = Membership.objects.get(team=cast.other, user=cast.charlie)
    assert client_for(cast.alice).post(reverse("usage_quota", args=[other.pk])).status_code == 404


def test_the_chart_draws_a_bar_per_period_scaled_to_the_tallest_with_its_axis(cast):
    key = _account(cast.acme)
    today = timezone.localdate()
    for _ in range(2):
        _spent(cast.acme, cast.alice, key, today)
    _spent(cast.acme, cast.alice, key, today - timedelta(days=1))
    page = client_for(cast.alice).get(reverse("usage"), {"period": "day"}).text
    assert 'aria-label="Videos by day, 3 in all"' in page
    assert f"<title>{today:%d %b}: 2 videos</title>" in page
    assert f"<title>{today - timedelta(days=1):%d %b}: 1 video</title>" in page
    assert "tallest bar: 2 videos" in page
    assert 'height="160.0"' in page and 'height="80.0"' in page, "the tallest fills the chart"


def test_the_page_shows_the_newest_hundred_detail_rows_and_points_to_the_csv_for_the_rest(cast):
    keys = [_account(cast.acme, name=f"Key {n}") for n in range(4)]
    today = timezone.localdate()
    for days_ago in range(30):
        for key in keys:
            _spent(cast.acme, cast.bob, key, today - timedelta(days=days_ago))
    page = client_for(cast.alice).get(reverse("usage"), {"period": "day"}).text
    assert page.count('<td data-label="Day">') == 100
    assert "The newest 100 rows; 20 more are in the" in page
    assert f'<td data-label="Day">{today:%a %-d %b %Y}</td>' in page, "newest first"
    assert '<span class="stat-value">120</span>' in page, "the totals count every row"
