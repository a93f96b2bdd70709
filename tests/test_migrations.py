"""The split of the videos app, run on a database filled before it.

Team, Membership and Invite went to studio.teams, ApiToken to studio.api and WebhookDelivery to
studio.webhooks, keeping their tables; the content types were relabelled, not made anew. An
existing studio must come through `migrate` with every row, value, foreign key, permission and
admin history entry it had; later migrations move the signing secret off Team and each claimed
video's claim and tracking state onto its Attempt. So: unapply everything after videos 0005 (the
last migration before the split), fill the tables through the models as they were then, migrate
to the latest, and read it all back through today's models.

The round trip is made once for the module (it takes seconds); the tests only read, each in its
transaction, and the module leaves the database at the latest migration and empty.
"""

import datetime as dt

import pytest
from django.apps import apps as current
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from studio.api.models import ApiToken
from studio.teams.models import Invite, Team
from studio.webhooks.models import SigningSecret, WebhookDelivery
from videos.models import (
    Attempt,
    DispatchFlag,
    ProviderAccount,
    SchedulerLease,
    UpstreamCall,
    Video,
)

pytestmark = pytest.mark.django_db

# The state before the split: videos at 0005, none of the platform apps. Naming those apps too
# matters: teams 0001 depends on videos 0005 only, so unapplying videos 0006 alone keeps it.
BEFORE_SPLIT = [
    ("videos", "0005_worker_losses"),
    ("teams", None),
    ("api", None),
    ("webhooks", None),
]
# Where each model of the videos app lives now.
HOME = {
    "team": "teams",
    "membership": "teams",
    "invite": "teams",
    "apitoken": "api",
    "webhookdelivery": "webhooks",
    "provideraccount": "videos",
    "promptimage": "videos",
    "video": "videos",
    "upstreamcall": "videos",
}
MOVED = [name for name, app in HOME.items() if app != "videos"]
# Columns that left their model since; each is checked where it went, further down.
LEFT = {
    "team": {"webhook_secret", "webhook_secret_previous", "webhook_rotated_at"},
    "video": {"account_id", "upstream_id", "attempts", "heartbeat_at", "callback_token"}
    | {"upstream_seen_at", "next_poll_at", "poll_failures", "upstream_finished_at"}
    | {"upstream_file", "fetch_failures"},
}
# What a claimed video's current Attempt holds under the same names; `attempts`, the claim
# counter, became its `number`.
ON_ATTEMPT = LEFT["video"] - {"attempts"}

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def migrate_to(targets):
    """Migrates the test database and returns the models as of the state reached."""
    executor = MigrationExecutor(connection)
    return executor.migrate(targets).apps


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # What `manage.py migrate` does after the migrations: content types and permissions for new
    # models. A relabelled content type must be found here, not made a second time.
    ContentType.objects.clear_cache()
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)


def fill(apps) -> dict:
    """A studio as it could be on the day before the split, written through its models."""
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("admin", "LogEntry")

    def model(name):
        return apps.get_model("videos", name)

    password = make_password("correct horse battery staple")
    alice = User.objects.create(username="alice", password=password, is_staff=True)
    bob = User.objects.create(username="bob", password=password, email="bob@example.com")
    charlie = User.objects.create(username="charlie", password=password)

    acme = model("Team").objects.create(
        name="Acme",
        api_strict=True,
        user_queue_limit=5,
        team_queue_limit=20,
        webhook_secret="whsec_current",
        webhook_secret_previous="whsec_previous",
        webhook_rotated_at=at(-60),
        webhook_progress=True,
        default_reply_url="https://hooks.example.com/acme",
    )
    other = model("Team").objects.create(name="Other")
    Membership = model("Membership")
    Membership.objects.create(team=acme, user=alice, role="admin")
    Membership.objects.create(team=acme, user=bob, role="member")
    Membership.objects.create(team=other, user=charlie, role="admin")
    Invite = model("Invite")
    Invite.objects.create(
        team=acme,
        role="member",
        label="dana",
        token_hash="a" * 64,
        created_by=alice,
        expires_at=at(7 * 24 * 60),
    )
    Invite.objects.create(
        team=acme,
        role="member",
        label="bob",
        token_hash="b" * 64,
        created_by=alice,
        expires_at=at(24 * 60),
        accepted_at=at(-30),
        accepted_by=bob,
    )

    ApiToken = model("ApiToken")
    token = ApiToken.objects.create(
        team=acme,
        user=alice,
        name="ci",
        token_hash="c" * 64,
        prefix="st_ci01",
        last_used_at=at(-5),
        rate_window=29_398_000,
        rate_count=3,
    )
    ApiToken.objects.create(
        team=acme,
        user=bob,
        name="laptop",
        token_hash="d" * 64,
        prefix="st_lap1",
        revoked_at=at(-120),
    )

    Account = model("ProviderAccount")
    local = Account.objects.create(team=acme, name="Local renderer", kind="local", max_jobs=2)
    minimax = Account.objects.create(
        team=acme,
        name="MiniMax main",
        kind="minimax",
        credentials='{"api_key": "sk-minimax-secret"}',
        max_jobs=3,
        region="global",
        base_url="http://127.0.0.1:9/",
        default_model="MiniMax-Hailuo-02",
        rpm=10,
        paused_until=at(15),
        pause_reason="Rate limited by MiniMax",
        last_error="429 Too Many Requests",
        last_error_at=at(-1),
    )
    useapi = Account.objects.create(
        team=other,
        name="useapi",
        kind="useapi",
        credentials='{"token": "user:1234-secret"}',
        upstream_account="hailuo@example.com",
    )
    model("UpstreamCall").objects.create(account=minimax, kind="create", at=at(-3))
    model("UpstreamCall").objects.create(account=minimax, kind="query", at=at(-2))
    model("UpstreamCall").objects.create(account=useapi, kind="download", at=at(-1))

    Image = model("PromptImage")
    first = Image.objects.create(
        team=acme,
        uploader=bob,
        file="images/team-1/first.png",
        original_name="first frame.png",
        width=640,
        height=480,
        format="PNG",
        bytes=1234,
    )
    last = Image.objects.create(
        team=acme, uploader=alice, file="images/team-1/last.jpg", width=640, height=480,
        format="JPEG", bytes=999,
    )  # fmt: skip

    Video = model("Video")
    queued = Video.objects.create(
        team=acme, author=bob, prompt="A cat on a windowsill", image=first, model="T2V-01"
    )
    running = Video.objects.create(
        team=acme,
        author=alice,
        prompt="A lighthouse at dusk [Pan left]",
        prompt_optimization=False,
        image=first,
        last_image=last,
        model="MiniMax-Hailuo-02",
        resolution="768P",
        requested_duration=6,
        account=minimax,
        requested_account=minimax,
        max_jobs=3,
        reply_url="https://hooks.example.com/acme/video",
        reply_ref="order-42",
        reply_state="waiting",
        reply_progress="processing 40",
        tracked=True,
        origin="https://studio.example.com",
        status="processing",
        percent=40,
        message="Rendering",
        upstream_id="upstream-123",
        attempts=2,
        failures=1,
        heartbeat_at=at(-1),
        callback_token="cb-" + "e" * 40,
        upstream_seen_at=at(-9),
        next_poll_at=at(1),
        poll_failures=1,
        submitted_at=at(-10),
    )
    completed = Video.objects.create(
        team=acme,
        author=bob,
        prompt="Waves rolling in",
        account=local,
        status="completed",
        percent=100,
        attempts=1,
        heartbeat_at=at(-20),
        file="videos/team-1/waves.mp4",
        poster="videos/team-1/waves.jpg",
        width=1280,
        height=720,
        duration=6.0,
        file_bytes=4,
        submitted_at=at(-25),
        finished_at=at(-20),
    )
    fetched = Video.objects.create(
        team=acme,
        author=alice,
        prompt="A fox in the snow",
        account=minimax,
        status="completed",
        percent=100,
        upstream_id="upstream-99",
        attempts=1,
        callback_token="cb-" + "f" * 40,
        upstream_seen_at=at(-40),
        upstream_finished_at=at(-35),
        upstream_file="file-77",
        fetch_failures=2,
        reply_url="https://hooks.example.com/acme/video",
        reply_state="sent",
        tracked=True,
        file="videos/team-1/fox.mp4",
        submitted_at=at(-45),
        finished_at=at(-34),
    )
    failed = Video.objects.create(
        team=acme,
        author=bob,
        prompt="Something the upstream refuses",
        account=minimax,
        status="failed",
        message="Failed",
        error="MiniMax refused the prompt (1026: sensitive content)",
        upstream_id="upstream-124",
        attempts=3,
        failures=3,
        worker_losses=1,
        retry_at=at(-50),
        callback_token="cb-" + "g" * 40,
        submitted_at=at(-58),
        finished_at=at(-50),
    )
    cancelled = Video.objects.create(
        team=other, author=charlie, prompt="Never mind", status="cancelled", finished_at=at(-5)
    )
    # Rate limited on its first try and put back: account and upstream id were cleared.
    requeued = Video.objects.create(
        team=other, author=charlie, prompt="Try me again", attempts=1, retry_at=at(3)
    )

    Lease = model("SchedulerLease")
    Lease.objects.create(name="scheduler", owner="host-1:4242", expires_at=at(1))
    Lease.objects.create(name="dispatch", owner="pending", expires_at=at(-1))

    Delivery = model("WebhookDelivery")
    Delivery.objects.create(
        team=acme,
        video=failed,
        event="video.final",
        url="https://hooks.example.com/acme/video",
        msg_id="msg_final_124",
        payload='{"status": "failed"}',
        state="delivered",
        attempts=1,
        last_attempt_at=at(-49),
        last_status=200,
        delivered_at=at(-49),
    )
    Delivery.objects.create(
        team=acme,
        video=running,
        event="video.progress",
        url="https://hooks.example.com/acme/video",
        msg_id="msg_progress_123",
        payload='{"status": "processing", "percent": 40}',
        attempts=2,
        next_attempt_at=at(2),
        last_attempt_at=at(-1),
        last_status=503,
        last_error="503 Service Unavailable",
    )

    # Admin history and permissions hang off content types, which the split relabels.
    team_type, _ = ContentType.objects.get_or_create(app_label="videos", model="team")
    token_type, _ = ContentType.objects.get_or_create(app_label="videos", model="apitoken")
    change_team, _ = Permission.objects.get_or_create(
        content_type=team_type, codename="change_team", defaults={"name": "Can change team"}
    )
    view_token, _ = Permission.objects.get_or_create(
        content_type=token_type, codename="view_apitoken", defaults={"name": "Can view api token"}
    )
    bob.user_permissions.add(change_team)
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(view_token)
    charlie.groups.add(auditors)
    LogEntry.objects.create(
        user=alice,
        content_type=team_type,
        object_id=str(acme.pk),
        object_repr="Acme",
        action_flag=2,
        change_message='[{"changed": {"fields": ["Api strict"]}}]',
    )
    LogEntry.objects.create(
        user=alice,
        content_type=token_type,
        object_id=str(token.pk),
        object_repr="ci",
        action_flag=1,
        change_message='[{"added": {}}]',
    )

    return {
        "users": {"alice": alice.pk, "bob": bob.pk, "charlie": charlie.pk},
        "teams": {"acme": acme.pk, "other": other.pk},
        "videos": {
            "queued": queued.pk,
            "running": running.pk,
            "completed": completed.pk,
            "fetched": fetched.pk,
            "failed": failed.pk,
            "cancelled": cancelled.pk,
            "requeued": requeued.pk,
        },
        "content_types": {
            name: ContentType.objects.get(app_label="videos", model=name).pk for name in MOVED
        },
        "team_perms": sorted(
            Permission.objects.filter(content_type=team_type).values_list("codename", flat=True)
        ),
    }


def rows(model) -> dict[int, dict]:
    return {row["id"]: row for row in model.objects.values()}


def snapshot(apps) -> dict[str, dict[int, dict]]:
    return {name: rows(apps.get_model("videos", name)) for name in HOME}


def credentials_at_rest() -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, credentials FROM videos_provideraccount ORDER BY id")
        return cursor.fetchall()


@pytest.fixture(scope="module")
def made(django_db_setup, django_db_blocker):
    """Takes the test database back to before the split, fills it, migrates it to the latest
    and returns what was written: the ids, and every row as the old models read it."""
    with django_db_blocker.unblock():
        try:
            old = migrate_to(BEFORE_SPLIT)
            assert not ContentType.objects.filter(
                app_label__in=["teams", "api", "webhooks"], model__in=MOVED
            ).exists(), "rolling back hands the moved models' content types back to videos"
            made = fill(old)
            made["before"] = snapshot(old)
            made["secrets_at_rest"] = credentials_at_rest()
            migrate_to_latest()
        except BaseException:
            migrate_to_latest()
            raise
    yield made
    with django_db_blocker.unblock():
        # What a transactional test does after itself: every table emptied, content types and
        # permissions made again by post_migrate.
        call_command("flush", interactive=False, verbosity=0)


def test_migrating_a_filled_database_keeps_every_row_and_value(made):
    for name, before in made["before"].items():
        after = rows(current.get_model(HOME[name], name))
        assert after.keys() == before.keys(), f"{name}: rows lost or added"
        old_columns = next(iter(before.values())).keys()
        new_columns = next(iter(after.values())).keys()
        gone = old_columns - new_columns
        assert gone <= LEFT.get(name, set()), f"{name}: columns gone unchecked: {sorted(gone)}"
        for pk, old_row in before.items():
            kept = {column: after[pk][column] for column in old_columns - gone}
            assert kept == {column: old_row[column] for column in old_columns - gone}, (
                f"{name} {pk} changed"
            )

    # The credentials are still encrypted at rest, byte for byte as they were written.
    assert credentials_at_rest() == made["secrets_at_rest"]
    assert all("secret" not in stored for _, stored in made["secrets_at_rest"] if stored)

    # The scheduler's lease stays; the dispatch flag that shared its table has its own now.
    assert list(SchedulerLease.objects.values_list("name", "owner", "expires_at")) == [
        ("scheduler", "host-1:4242", at(1))
    ]
    assert list(DispatchFlag.objects.values_list("name", "pending", "requested_at")) == [
        ("dispatch", True, at(-1))
    ]


def test_migrating_a_filled_database_keeps_relations_and_secrets(made):
    ids = made["videos"]
    connection.check_constraints()

    acme = Team.objects.get(pk=made["teams"]["acme"])
    assert sorted(acme.memberships.values_list("user__username", "role")) == [
        ("alice", "admin"),
        ("bob", "member"),
    ]
    accepted = Invite.objects.get(label="bob")
    assert (accepted.team, accepted.accepted_by.username) == (acme, "bob")
    assert sorted(ApiToken.objects.values_list("name", "user__username", "revoked_at")) == [
        ("ci", "alice", None),
        ("laptop", "bob", at(-120)),
    ]
    assert [d.video_id for d in WebhookDelivery.objects.filter(team=acme).order_by("id")] == [
        ids["failed"],
        ids["running"],
    ]

    # The replyUrl signing secret moved off Team into its own row, still encrypted.
    secret = SigningSecret.objects.get(team=acme)
    assert (secret.secret, secret.previous, secret.rotated_at) == (
        "whsec_current",
        "whsec_previous",
        at(-60),
    )
    assert not SigningSecret.objects.filter(team__name="Other").exists()

    minimax = ProviderAccount.objects.get(name="MiniMax main")
    assert minimax.credentials == '{"api_key": "sk-minimax-secret"}'
    assert minimax.team == acme
    assert sorted(UpstreamCall.objects.filter(account=minimax).values_list("kind", flat=True)) == [
        "create",
        "query",
    ]

    running = Video.objects.select_related("team", "author", "image", "last_image").get(
        pk=ids["running"]
    )
    assert (running.team, running.author.username) == (acme, "alice")
    assert (running.image.original_name, running.last_image.format) == ("first frame.png", "JPEG")
    assert Video.objects.get(pk=ids["completed"]).file.name == "videos/team-1/waves.mp4"
    assert Video.objects.get(pk=ids["cancelled"]).team.name == "Other"


def test_migrating_relabels_content_types_with_their_permissions_and_history(made):
    # The same content type rows, now under their new apps; none left behind under videos,
    # and post_migrate made no second one.
    for name, pk in made["content_types"].items():
        moved = ContentType.objects.get(pk=pk)
        assert (moved.app_label, moved.model) == (HOME[name], name)
        assert ContentType.objects.filter(model=name).count() == 1
    assert ContentType.objects.get_for_model(Team).pk == made["content_types"]["team"]
    team_type = ContentType.objects.get_for_model(Team)
    assert (
        sorted(Permission.objects.filter(content_type=team_type).values_list("codename", flat=True))
        == made["team_perms"]
    )

    bob = User.objects.get(username="bob")
    charlie = User.objects.get(username="charlie")
    assert bob.has_perm("teams.change_team")
    assert not bob.has_perm("api.view_apitoken")
    assert charlie.has_perm("api.view_apitoken")

    history = {entry.object_repr: entry for entry in LogEntry.objects.all()}
    assert history["Acme"].get_edited_object() == Team.objects.get(name="Acme")
    assert history["ci"].get_edited_object() == ApiToken.objects.get(name="ci")
    assert history["Acme"].get_change_message() == "Changed Api strict."


def test_migrating_moves_each_claimed_videos_tracking_into_its_attempt(made):
    before = made["before"]["video"]
    ids = made["videos"]

    for name in ["running", "completed", "fetched", "failed"]:
        old = before[ids[name]]
        video = Video.objects.select_related("attempt").get(pk=ids[name])
        attempt = video.attempt
        assert attempt is not None, f"the {name} video has no current attempt"
        assert attempt.video_id == video.pk
        assert attempt.number == old["attempts"]
        moved = {column: getattr(attempt, column) for column in ON_ATTEMPT}
        assert moved == {column: old[column] for column in ON_ATTEMPT}, name
        # What the pages and the API read through the video is what it said before.
        assert (video.account_id, video.upstream_id) == (old["account_id"], old["upstream_id"])

    running = Video.objects.get(pk=ids["running"]).attempt
    assert (running.outcome, running.finished_at, running.started_at) == ("", None, at(-10))
    # Usage groups by the day an attempt started: 0014 gives the attempts made before it theirs.
    assert running.started_on == timezone.localdate(at(-10))
    failed = Video.objects.get(pk=ids["failed"]).attempt
    assert (failed.outcome, failed.finished_at) == ("failed", at(-50))
    assert failed.error == before[ids["failed"]]["error"]
    assert Video.objects.get(pk=ids["completed"]).attempt.outcome == "completed"

    # Never claimed: nothing to track. Put back in the queue: no current attempt, the try it
    # had kept as history.
    queued = Video.objects.get(pk=ids["queued"])
    assert (queued.attempt, queued.account, queued.upstream_id) == (None, None, "")
    assert not Attempt.objects.filter(video=queued).exists()
    requeued = Video.objects.get(pk=ids["requeued"])
    assert (requeued.attempt, requeued.account) == (None, None)
    assert list(requeued.attempts.values_list("number", "outcome")) == [(1, "requeued")]
    # Cancelled straight from the queue: it never had a try, so it has no Attempt.
    cancelled = Video.objects.get(pk=ids["cancelled"])
    assert (cancelled.account, cancelled.upstream_id) == (None, "")
    assert (cancelled.attempt, cancelled.attempts.count()) == (None, 0)
