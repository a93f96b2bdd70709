"""Reads for the usage page and quotas: who spent what, on which account, when.

A video counts once per attempt that reached an upstream (Attempt.started_at is set: the
upstream accepted the create, or the local renderer began). Seconds are those it delivered
(the video's length, on the attempt that completed it); cost is the attempt's price per video
plus its price per second times those seconds, at the prices snapshotted when it was claimed.
Videos in the Trash count: what was spent was spent.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, F, FloatField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from studio import conf
from studio.teams.models import Membership, Team
from videos.models import Attempt, MemberQuota, Video

PERIODS = ("day", "week", "month")
CENT = Decimal("0.01")

_SECONDS = Case(
    When(outcome=Attempt.Outcome.COMPLETED, then=Coalesce(F("video__duration"), Value(0.0))),
    default=Value(0.0),
    output_field=FloatField(),
)
_COST = Sum(F("price_per_video") + F("price_per_second") * _SECONDS, output_field=FloatField())


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, in the studio's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class UsageRow:
    period: date
    member: str  # the author's username ("former member" when the user is gone)
    account: str  # the account's name ("account removed" when it is gone)
    videos: int
    seconds: float
    cost: Decimal


@dataclass
class Usage:
    rows: list[UsageRow]
    by_period: list[tuple[date, int, Decimal]] = field(default_factory=list)  # every period
    by_member: list[tuple[str, int, float, Decimal]] = field(default_factory=list)
    by_account: list[tuple[str, int, float, Decimal]] = field(default_factory=list)

    currency = property(lambda self: conf.COST_CURRENCY)

    @property
    def videos(self) -> int:
        return sum(r.videos for r in self.rows)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.rows)

    @property
    def cost(self) -> Decimal:
        return sum((r.cost for r in self.rows), Decimal("0.00"))


def usage(
    *,
    team: Team,
    since: date,
    until: date,
    period: str = "day",
    author_id: int | None = None,
    account_id: int | None = None,
) -> Usage:
    """The team's usage from `since` to `until` (both included), one row per period, member
    and account, newest period first; `author_id`/`account_id` narrow it. One query, grouped
    by day in the database (a year is at most 366 x members x accounts rows) and into weeks or
    months here."""
    attempts = Attempt.objects.filter(
        video__team=team, started_on__gte=since, started_on__lte=until
    )
    if author_id is not None:
        attempts = attempts.filter(video__author_id=author_id)
    if account_id is not None:
        attempts = attempts.filter(account_id=account_id)
    grouped = (
        attempts.values("started_on", "video__author__username", "account__name")
        .annotate(videos=Count("id"), seconds=Sum(_SECONDS), cost=_COST)
        .order_by()
    )
    merged: dict[tuple[date, str, str], list] = {}
    for g in grouped:
        key = (
            _period_start(g["started_on"], period),
            g["video__author__username"] or "former member",
            g["account__name"] or "account removed",
        )
        total = merged.setdefault(key, [0, 0.0, 0.0])
        total[0] += g["videos"]
        total[1] += float(g["seconds"] or 0)
        total[2] += float(g["cost"] or 0)
    rows = [
        UsageRow(period, member, account, videos, seconds, money(cost))
        for (period, member, account), (videos, seconds, cost) in sorted(
            merged.items(), key=lambda item: (_newest_first(item[0][0]), item[0][1], item[0][2])
        )
    ]
    return Usage(
        rows=rows,
        by_period=_every_period(rows, since, until, period),
        by_member=_totals(rows, "member"),
        by_account=_totals(rows, "account"),
    )


def _newest_first(day: date) -> int:
    return -day.toordinal()


def _every_period(rows: list[UsageRow], since: date, until: date, period: str):
    """(period start, videos, cost) for each period of the range, empty ones included, oldest
    first: the chart's bars."""
    starts = []
    day = _period_start(since, period)
    while day <= until:
        starts.append(day)
        day = _next_period(day, period)
    videos = dict.fromkeys(starts, 0)
    cost = dict.fromkeys(starts, Decimal("0.00"))
    for row in rows:
        videos[row.period] = videos.get(row.period, 0) + row.videos
        cost[row.period] = cost.get(row.period, Decimal("0.00")) + row.cost
    return [(start, videos[start], cost[start]) for start in sorted(videos)]


def _period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next_period(day: date, period: str) -> date:
    if period == "week":
        return day + timedelta(days=7)
    if period == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def _totals(rows: list[UsageRow], key: str) -> list[tuple[str, int, float, Decimal]]:
    totals: dict[str, list] = {}
    for row in rows:
        total = totals.setdefault(getattr(row, key), [0, 0.0, Decimal("0.00")])
        total[0] += row.videos
        total[1] += row.seconds
        total[2] += row.cost
    ranked = sorted(totals.items(), key=lambda item: (-item[1][2], -item[1][0], item[0]))
    return [(name, n, seconds, cost) for name, (n, seconds, cost) in ranked]


# Quotas


@dataclass
class QuotaState:
    """A member's quota and what is left of it now; `limited` is False when none applies."""

    quota: MemberQuota | None
    videos_today: int = 0
    videos_this_month: int = 0
    cost_this_month: Decimal = Decimal("0.00")

    currency = property(lambda self: conf.COST_CURRENCY)

    @property
    def limited(self) -> bool:
        return self.quota is not None and not self.quota.is_empty

    @property
    def videos_left_today(self) -> int | None:
        return _left(self.quota and self.quota.videos_per_day, self.videos_today)

    @property
    def videos_left_this_month(self) -> int | None:
        return _left(self.quota and self.quota.videos_per_month, self.videos_this_month)

    @property
    def cost_left_this_month(self) -> Decimal | None:
        limit = self.quota and self.quota.cost_per_month
        return None if limit is None else max(Decimal("0.00"), money(limit - self.cost_this_month))

    @property
    def refusal(self) -> str:
        """Why a new video is refused now, naming the quota; "" while there is room."""
        quota = self.quota
        if not self.limited:
            return ""
        if self.videos_left_this_month == 0:
            return (
                f"Your quota is {_videos(quota.videos_per_month)} a month, and you have made "
                f"{self.videos_this_month} this month. A team admin can raise it."
            )
        if self.cost_left_this_month == 0:
            return (
                f"Your quota is {money(quota.cost_per_month)} {self.currency} of estimated "
                f"cost a month, and your videos this month have cost {self.cost_this_month} "
                f"{self.currency}. A team admin can raise it."
            )
        # Last: when a monthly limit is used up too, midnight brings nothing, so that one is named.
        if self.videos_left_today == 0:
            return (
                f"Your quota is {_videos(quota.videos_per_day)} a day, and you have made "
                f"{self.videos_today} today. It resets at midnight; a team admin can raise it."
            )
        return ""

    def resets_in(self, now: datetime | None = None) -> int:
        """Seconds until the quota that refuses now starts afresh."""
        now = now or timezone.now()
        today = timezone.localdate(now)
        if self.videos_left_this_month == 0 or self.cost_left_this_month == 0:
            reset = day_start(_next_period(today.replace(day=1), "month"))
        else:
            reset = day_start(today + timedelta(days=1))
        return max(1, int((reset - now).total_seconds()))


def _videos(count: int) -> str:
    return f"{count} video{'' if count == 1 else 's'}"


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(0, limit - used)


def quota_state(*, membership: Membership, now: datetime | None = None) -> QuotaState:
    """The member's quota in their team and how much of it is used (two small queries after
    reading the quota; none when no quota is set)."""
    quota = MemberQuota.objects.filter(membership=membership).first()
    if quota is None or quota.is_empty:
        return QuotaState(quota=quota)
    today = timezone.localdate(now)
    first = today.replace(day=1)
    made = (
        Video.objects.filter(
            team_id=membership.team_id,
            author_id=membership.user_id,
            created_at__gte=day_start(first),
        )
        .exclude(kind=Video.Kind.JOIN)  # a join of one's own clips costs no upstream
        .aggregate(month=Count("id"), today=Count("id", filter=Q(created_at__gte=day_start(today))))
    )
    spent = Attempt.objects.filter(
        video__team_id=membership.team_id,
        video__author_id=membership.user_id,
        started_on__gte=first,
    ).aggregate(cost=_COST)["cost"]
    return QuotaState(
        quota=quota,
        videos_today=made["today"],
        videos_this_month=made["month"],
        cost_this_month=money(spent),
    )
