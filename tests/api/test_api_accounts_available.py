"""What a batch script reads before each create, as useapi.net's does: GET scheduler/available
(it takes `available[0]` and waits only when the list is empty) and GET accounts/ (it skips an
account that carries `error`). Both are for every member's token; neither shows a secret."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from tests.api.test_api import error_of
from tests.factories import make_video
from videos import services
from videos.models import ProviderAccount, UpstreamCall, Video

S = Video.Status


def remote(team, name: str, *, max_jobs: int = 3, **fields) -> ProviderAccount:
    account = services.account_create(
        team=team, kind="minimax", name=name, max_jobs=max_jobs, secret=f"sk-{name}-secret"
    )
    if fields:
        ProviderAccount.objects.filter(pk=account.pk).update(**fields)
        account.refresh_from_db()
    return account


def running_on(cast, account: ProviderAccount, count: int = 1) -> None:
    for _ in range(count):
        make_video(cast.acme, cast.bob, status=S.PROCESSING, account=account)


def listed(api) -> list[tuple[str, int]]:
    return [
        (slot["name"], slot["available"])
        for slot in api.get("scheduler/available").json()["available"]
    ]


# GET scheduler/available


def test_only_accounts_that_can_start_a_video_now_are_listed(cast, bob, local):
    now = timezone.now()
    full = remote(cast.acme, "Full", max_jobs=1)
    running_on(cast, full)
    remote(cast.acme, "Disabled", enabled=False)
    remote(
        cast.acme,
        "Paused",
        paused_until=now + timedelta(minutes=30),
        pause_reason="Balance is empty",
        pause_kind="credits",
    )
    limited = remote(cast.acme, "Rate limited", rpm=1)
    UpstreamCall.objects.create(account=limited, kind=UpstreamCall.Kind.CREATE, at=now)
    remote(cast.acme, "Free", max_jobs=3)

    answer = bob.get("scheduler/available").json()

    assert [(s["name"], s["available"]) for s in answer["available"]] == [
        ("Free", 3),
        (local.name, 2),
    ]
    free = answer["available"][0]
    assert set(free) >= {"account", "maxJobs", "executing", "available", "queued"}
    assert (free["maxJobs"], free["executing"], free["queued"]) == (3, 0, 0)
    assert free["enabled"] is True and free["paused"] is False
    # The full account's video still shows among the running ones.
    assert [job["account"] for job in answer["executing"]] == [str(full.pk)]


def test_an_empty_list_means_wait(cast, bob, local):
    running_on(cast, local, 2)
    answer = bob.get("scheduler/available").json()
    assert answer["available"] == [] and len(answer["executing"]) == 2


def test_the_local_renderer_alone_is_listed_while_it_has_room(cast, bob, local):
    running_on(cast, local)
    (slot,) = bob.get("scheduler/available").json()["available"]
    assert (slot["account"], slot["kind"], slot["executing"], slot["available"]) == (
        str(local.pk),
        "local",
        1,
        1,
    )


def test_queued_videos_pinned_to_an_account_take_its_slots(cast, bob, local):
    pinned = remote(cast.acme, "Pinned", max_jobs=3)
    for _ in range(2):
        make_video(cast.acme, cast.bob, requested_account=pinned)
    make_video(cast.acme, cast.bob)  # unpinned: any account may take it
    answer = bob.get("scheduler/available").json()
    assert [(s["name"], s["available"], s["queued"]) for s in answer["available"]] == [
        (local.name, 2, 0),
        ("Pinned", 1, 2),
    ]
    assert answer["queued"] == 3
    make_video(cast.acme, cast.bob, requested_account=pinned)
    assert listed(bob) == [(local.name, 2)]


def test_the_most_free_account_comes_first_and_ties_go_by_id(cast, bob, local):
    busy = remote(cast.acme, "A busy one", max_jobs=4)
    running_on(cast, busy, 3)
    second = remote(cast.acme, "B second", max_jobs=2)
    third = remote(cast.acme, "C third", max_jobs=2)
    roomy = remote(cast.acme, "D roomy", max_jobs=5)
    assert local.pk < second.pk < third.pk
    assert listed(bob) == [
        ("D roomy", 5),
        (local.name, 2),
        ("B second", 2),
        ("C third", 2),
        ("A busy one", 1),
    ]
    assert roomy.pk > busy.pk


def test_available_counts_no_more_creates_than_the_rate_allows(cast, bob, local, conf):
    conf.RATE_WINDOW_SECONDS = 300.0
    account = remote(cast.acme, "Slow", max_jobs=3, rpm=2)
    # Four minutes ago: outside a minute, inside the rate window.
    UpstreamCall.objects.create(
        account=account,
        kind=UpstreamCall.Kind.CREATE,
        at=timezone.now() - timedelta(minutes=4),
    )
    assert ("Slow", 1) in listed(bob)


# GET accounts/: who reads them, and no secrets


def test_a_member_reads_accounts_but_cannot_add_or_delete_one(cast, bob, local):
    account = remote(cast.acme, "Main")
    listing = bob.get("accounts/")
    assert listing.status_code == 200 and set(listing.json()) == {str(local.pk), str(account.pk)}
    assert bob.get(f"accounts/{account.pk}").json()["name"] == "Main"
    body = {"name": "Mine", "apiKey": "sk-mine", "maxJobs": 1}
    assert "team admins" in error_of(bob.post("accounts/", body), 403)
    assert "team admins" in error_of(bob.delete(f"accounts/{account.pk}"), 403)
    assert ProviderAccount.objects.filter(pk=account.pk).exists()
    assert not ProviderAccount.objects.filter(name="Mine").exists()


def test_another_teams_account_is_not_found(cast, bob):
    theirs = remote(cast.other, "Theirs")
    assert error_of(bob.get(f"accounts/{theirs.pk}"), 404) == "Configuration not found"
    assert str(theirs.pk) not in bob.get("accounts/").json()


def test_no_answer_shows_an_accounts_key_or_token(cast, alice, bob):
    added = alice.post("accounts/", {"name": "Key", "apiKey": "sk-live-KEY-7f3a9", "maxJobs": 2})
    token = {
        "kind": "useapi",
        "name": "Token",
        "token": "user:77-TOKEN-c0ffee",
        "account": "123456",
        "maxJobs": 2,
    }
    added_too = alice.post("accounts/", token)
    ids = [added.json()["account"], added_too.json()["account"]]
    answers = [added, added_too]
    for api in (alice, bob):
        answers += [api.get("accounts/"), api.get("scheduler/available")]
        answers += [api.get(f"accounts/{ref}") for ref in ids]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.content
        text = answer.content.decode()
        assert "sk-live-KEY-7f3a9" not in text and "TOKEN-c0ffee" not in text


def test_a_member_does_not_see_an_accounts_address_upstream_id_or_raw_error(cast, alice, bob):
    token = {
        "kind": "useapi",
        "name": "Gateway",
        "token": "user:77-TOKEN-c0ffee",
        "account": "123456",
        "maxJobs": 2,
        "baseUrl": "https://93.184.215.14/minimax?tenant=acme-secret",
    }
    ref = alice.post("accounts/", token).json()["account"]
    ProviderAccount.objects.filter(pk=ref).update(
        last_error="gateway 10.1.2.3 refused", enabled=False
    )
    for answer in (bob.get("accounts/").json()[ref], bob.get(f"accounts/{ref}").json()):
        assert (answer["baseUrl"], answer["upstreamAccount"], answer["lastError"]) == ("", "", "")
        assert answer["error"].startswith("disabled"), "the reason a script skips it stays"
    admin_view = alice.get(f"accounts/{ref}").json()
    assert admin_view["baseUrl"].endswith("tenant=acme-secret")
    assert (admin_view["upstreamAccount"], admin_view["lastError"]) == (
        "123456",
        "gateway 10.1.2.3 refused",
    )


# GET accounts/: `error`, only on an account a script should skip


def error_on(api, account: ProviderAccount) -> str | None:
    """The account's `error` in the listing and on its own (the same), None when absent."""
    listed_one = api.get("accounts/").json()[str(account.pk)]
    alone = api.get(f"accounts/{account.pk}").json()
    assert listed_one.get("error") == alone.get("error")
    for body in (listed_one, alone):
        assert "error" not in body or (isinstance(body["error"], str) and body["error"])
    return alone.get("error")


def test_a_healthy_account_has_no_error_key(cast, bob, local):
    account = remote(cast.acme, "Healthy")
    for one in (local, account):
        assert "error" not in bob.get("accounts/").json()[str(one.pk)]
        assert "error" not in bob.get(f"accounts/{one.pk}").json()


def test_a_disabled_account_says_so(cast, bob):
    by_admin = remote(cast.acme, "Off", enabled=False)
    rejected = remote(
        cast.acme,
        "Rejected",
        enabled=False,
        last_error="MiniMax refused the API key (1004)",
        last_error_at=timezone.now() - timedelta(days=2),
    )
    assert error_on(bob, by_admin) == "disabled: by an admin"
    assert error_on(bob, rejected) == "disabled: MiniMax refused the API key (1004)"


@pytest.mark.parametrize(
    ("kind", "reason", "said"),
    [
        ("credits", "Balance is empty (1008)", "out of credits: Balance is empty (1008)"),
        ("hold", "Account placed on hold (596)", "on hold: Account placed on hold (596)"),
        ("rate", "Rate limited: slow down", "Rate limited: slow down"),
        ("rate", "Too many requests", "rate limited: Too many requests"),
    ],
)
def test_a_paused_account_says_until_when_and_why(cast, bob, kind, reason, said):
    until = timezone.now() + timedelta(hours=2)
    account = remote(cast.acme, "Paused", paused_until=until, pause_reason=reason, pause_kind=kind)
    hhmm = until.astimezone(UTC).strftime("%H:%M")
    assert error_on(bob, account) == f"paused until {hhmm} UTC: {said}"


def test_a_failing_account_says_so_until_something_works_on_it(cast, bob):
    account = remote(
        cast.acme,
        "Failing",
        last_error="Upstream answered 502",
        last_error_at=timezone.now() - timedelta(minutes=2),
    )
    assert error_on(bob, account) == "failing: Upstream answered 502"
    # An accepted create after the error: working again.
    make_video(cast.acme, cast.bob, status=S.PROCESSING, account=account, started_at=timezone.now())
    assert error_on(bob, account) is None


def test_an_old_error_is_forgotten_after_the_configured_time(cast, bob, conf):
    account = remote(
        cast.acme,
        "Once failed",
        last_error="Upstream answered 502",
        last_error_at=timezone.now() - timedelta(minutes=2),
    )
    conf.ACCOUNT_ERROR_FRESH_SECONDS = 60.0
    assert error_on(bob, account) is None
    conf.ACCOUNT_ERROR_FRESH_SECONDS = 600.0
    assert error_on(bob, account) == "failing: Upstream answered 502"


def test_an_ended_pause_is_not_reported_as_failing(cast, bob):
    now = timezone.now()
    account = remote(
        cast.acme,
        "Was limited",
        paused_until=now - timedelta(seconds=5),
        pause_reason="Rate limited: slow down",
        pause_kind="rate",
        last_error="Rate limited: slow down",
        last_error_at=now - timedelta(seconds=65),
    )
    assert error_on(bob, account) is None
    assert ("Was limited", 3) in listed(bob)


def test_the_openapi_document_says_error_is_optional(cast):
    from studio.api.api import openapi_document

    schemas = openapi_document()["components"]["schemas"]
    assert "error" in schemas["AccountOut"]["properties"]
    assert "error" not in schemas["AccountOut"].get("required", [])
    assert "queued" in schemas["SlotsOut"]["required"]
