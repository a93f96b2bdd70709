"""The claim lease and the upstream tracking now live on Attempt (0007, 0008)."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = (
    "upstream_id",
    "attempts",
    "heartbeat_at",
    "callback_token",
    "upstream_seen_at",
    "next_poll_at",
    "poll_failures",
    "upstream_finished_at",
    "upstream_file",
    "fetch_failures",
    "account",
)


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0008_copy_attempts"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="video", name="video_account_status"),
        migrations.RemoveIndex(model_name="video", name="video_next_poll"),
        *(migrations.RemoveField(model_name="video", name=name) for name in MOVED),
        # The counter is gone, so the history can take its name (state only, no SQL).
        migrations.AlterField(
            model_name="attempt",
            name="video",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attempts",
                to="videos.video",
            ),
        ),
    ]
