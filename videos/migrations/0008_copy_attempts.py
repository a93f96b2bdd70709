"""Copies each video's claim and tracking state into an Attempt row and points the video at it.

A video gets an Attempt if it was ever claimed (its counter, account, upstream id or callback
token is set, or it is running or completed). Running and ended videos point at theirs; a queued video
that was claimed before (put back after a rate limit, a worker loss, a retry) keeps the row as
history but points at nothing, as its account was cleared when it went back. The attempt's
number is the old claim counter. Reversible: the reverse copies the current attempt back.
"""

from django.db import migrations

FINAL = ("completed", "failed", "moderated", "cancelled")
STARTED = ("pending", "processing", "completed")
RUNNING = ("submitting", "pending", "processing")
TRACKING = (
    "heartbeat_at",
    "next_poll_at",
    "poll_failures",
    "fetch_failures",
    "upstream_file",
    "upstream_seen_at",
    "upstream_finished_at",
    "callback_token",
)


def _claimed(video) -> bool:
    # A video cancelled (or failed) straight from the queue never had a try: no Attempt.
    return bool(
        video.attempts
        or video.account_id
        or video.upstream_id
        or video.callback_token
        or video.status in RUNNING
        or video.status == "completed"
    )


def forwards(apps, schema_editor):
    Video = apps.get_model("videos", "Video")
    Attempt = apps.get_model("videos", "Attempt")
    for video in Video.objects.order_by("pk").iterator(chunk_size=500):
        if not _claimed(video):
            continue
        final = video.status in FINAL
        if final:
            outcome = video.status
        elif video.status == "queued":
            outcome = "requeued"
        else:
            outcome = ""
        attempt = Attempt.objects.create(
            video_id=video.pk,
            account_id=video.account_id,
            number=max(video.attempts, 1),
            upstream_id=video.upstream_id,
            created_at=video.submitted_at or video.created_at,
            started_at=video.submitted_at
            if (video.upstream_id or video.status in STARTED)
            else None,
            finished_at=video.finished_at if final else None,
            outcome=outcome,
            error=video.error if final else "",
            **{name: getattr(video, name) for name in TRACKING},
        )
        # A queued video had its account and upstream id cleared when it went back; one that
        # still carries either (never written by the studio, but kept if present) points too,
        # so every row reads as before.
        if video.status != "queued" or video.account_id or video.upstream_id:
            Video.objects.filter(pk=video.pk).update(attempt=attempt)
    SchedulerLease = apps.get_model("videos", "SchedulerLease")
    DispatchFlag = apps.get_model("videos", "DispatchFlag")
    for flag in SchedulerLease.objects.filter(name="dispatch"):
        DispatchFlag.objects.create(
            name=flag.name, pending=flag.owner == "pending", requested_at=flag.expires_at
        )
        flag.delete()


def backwards(apps, schema_editor):
    Video = apps.get_model("videos", "Video")
    Attempt = apps.get_model("videos", "Attempt")
    for video in Video.objects.order_by("pk").iterator(chunk_size=500):
        latest = Attempt.objects.filter(video_id=video.pk).order_by("-number", "-pk").first()
        if latest is None:
            continue
        current = video.attempt_id and Attempt.objects.get(pk=video.attempt_id)
        source = current or latest
        changes = {name: getattr(source, name) for name in TRACKING}
        changes.update(
            attempts=latest.number,
            account_id=current.account_id if current else None,
            upstream_id=current.upstream_id if current else "",
        )
        Video.objects.filter(pk=video.pk).update(**changes)
    SchedulerLease = apps.get_model("videos", "SchedulerLease")
    DispatchFlag = apps.get_model("videos", "DispatchFlag")
    for flag in DispatchFlag.objects.all():
        SchedulerLease.objects.update_or_create(
            name=flag.name,
            defaults={"owner": "pending" if flag.pending else "", "expires_at": flag.requested_at},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0007_attempts"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
