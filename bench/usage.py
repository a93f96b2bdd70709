"""Usage reads against history size: the usage page, its CSV and a quota check.

Fills a scratch database with 10,000 and then 100,000 videos of one team (plus another team's
noise), each with an attempt that reached one of three priced accounts, spread over 400 days
and four members, and reports the median and p95 server time of:

- the usage page for the last 30 days by day, the last quarter by week, the last year by month,
  and one member's last 30 days;
- the CSV of the last year by month;
- a quota check (selectors_usage.quota_state, what every submit reads) for a member with a
  monthly cost limit.

    .venv/bin/python bench/usage.py                 # scratch SQLite file in var/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio_bench_usage \
        .venv/bin/python bench/usage.py

The PostgreSQL database is created afresh and dropped afterwards; the SQLite file is removed.
"""

import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import migrated_team, scratch_database, scratch_environment  # noqa: E402

SQLITE = scratch_environment("bench-usage")

import django  # noqa: E402

SIZES = (10_000, 100_000)
REQUESTS = 40
DAYS = 400


def _setup():
    alice, team = migrated_team(SQLITE)
    from tests.factories import add_member, make_team, make_user
    from videos.models import ProviderAccount

    members = [alice]
    for name in ("bob", "carol", "dave"):
        user = make_user(name)
        add_member(team, user)
        members.append(user)
    accounts = [
        ProviderAccount.objects.create(
            team=team,
            name=name,
            kind="minimax",
            price_per_video=Decimal(per_video),
            price_per_second=Decimal("0.02"),
        )
        for name, per_video in (("Studio key", "0.20"), ("Agency key", "0.35"), ("Spare", "0"))
    ]
    other = make_team("Noise")
    return alice, team, other, members, accounts


def _fill(team, other, members, accounts, until: int, start: int) -> None:
    from django.utils import timezone

    from videos.models import Attempt, Video

    Video._meta.get_field("created_at").auto_now_add = False
    now = timezone.now()
    outcomes = ["completed"] * 8 + ["failed", "moderated"]
    for low in range(start, until, 5000):
        batch = []
        for i in range(low, min(until, low + 5000)):
            made = now - timedelta(days=DAYS * (until - i) / until, minutes=i % 600)
            batch.append(
                Video(
                    team=team if i % 10 else other,
                    author=members[i % len(members)],
                    prompt=f"Usage bench {i}",
                    status="completed",
                    duration=6.0 if i % 3 else 10.0,
                    created_at=made,
                )
            )
        videos = Video.objects.bulk_create(batch)
        attempts = []
        for v in videos:
            if v.team_id != team.pk:
                continue
            account = accounts[v.pk % len(accounts)]
            attempts.append(
                Attempt(
                    video=v,
                    account=account,
                    outcome=outcomes[v.pk % len(outcomes)],
                    created_at=v.created_at,
                    started_at=v.created_at + timedelta(seconds=3),
                    started_on=timezone.localdate(v.created_at + timedelta(seconds=3)),
                    price_per_video=account.price_per_video,
                    price_per_second=account.price_per_second,
                )
            )
        Attempt.objects.bulk_create(attempts)
    Video._meta.get_field("created_at").auto_now_add = True


def _times_ms(call, requests: int = REQUESTS) -> tuple[float, float]:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    alice, team, other, members, accounts = _setup()
    from django.test import Client
    from django.utils import timezone

    from studio.teams.models import Membership
    from videos import selectors_usage, services

    client = Client()
    client.force_login(alice)
    bob = Membership.objects.get(team=team, user=members[1])
    services.quota_set(
        membership=bob,
        by=Membership.objects.get(team=team, user=alice),
        videos_per_day=None,
        videos_per_month=2000,
        cost_per_month=Decimal("5000"),
    )
    today = timezone.localdate()

    def page(query: str):
        def get():
            response = client.get(f"/team/usage/?{query}")
            assert response.status_code == 200, response.status_code
            # Measured on real figures: every case finds the attempts it should.
            assert b"Nothing in this range" not in response.content, query

        return get

    cases = {
        "30 days by day": page("period=day"),
        "a quarter by week": page(f"period=week&from={today - timedelta(days=91)}"),
        "a year by month": page(f"period=month&from={today - timedelta(days=365)}"),
        "one member, 30 days": page(f"member={members[1].pk}"),
        "CSV, a year by month": page(f"period=month&from={today - timedelta(days=365)}&format=csv"),
        "quota check": lambda: selectors_usage.quota_state(membership=bob),
    }
    results: dict[str, dict[int, tuple[float, float]]] = {}
    made = 0
    for size in SIZES:
        _fill(team, other, members, accounts, size, made)
        made = size
        with django.db.connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        for name, call in cases.items():
            call()  # warm
            results.setdefault(name, {})[size] = _times_ms(call)
        print(f"filled {size:,}", flush=True)

    engine = django.db.connection.vendor
    print(f"\nUsage reads ({engine}), ms over {REQUESTS} requests: median / p95")
    print(f"{'case':<24} | " + " | ".join(f"{size:>15,}" for size in SIZES))
    for name, by_size in results.items():
        cells = " | ".join(f"{by_size[s][0]:6.1f} / {by_size[s][1]:6.1f}" for s in SIZES)
        print(f"{name:<24} | {cells}")
    worst = max((by[SIZES[-1]][0], name) for name, by in results.items())
    print(f"RESULT usage_worst_median_100k_ms={worst[0]:.1f} ({worst[1]})")
    django.db.connections.close_all()
    scratch_database(SQLITE, create=False)


if __name__ == "__main__":
    main()
