"""Attempt: one row per try of a video on an account, and the dispatch flag's own table.

Three migrations, not one: PostgreSQL refuses to ALTER a table that has pending deferred
foreign-key checks from rows written in the same transaction, so the data copy (0008) sits
between adding (0007) and dropping (0009) the columns.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0006_models_to_platform_apps"),
    ]

    operations = [
        migrations.CreateModel(
            name="DispatchFlag",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("pending", models.BooleanField(default=False)),
                ("requested_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="Attempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField(default=1)),
                ("upstream_id", models.CharField(blank=True, default="", max_length=100)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("next_poll_at", models.DateTimeField(blank=True, null=True)),
                ("poll_failures", models.PositiveSmallIntegerField(default=0)),
                ("fetch_failures", models.PositiveSmallIntegerField(default=0)),
                ("upstream_file", models.CharField(blank=True, default="", max_length=100)),
                ("upstream_seen_at", models.DateTimeField(blank=True, null=True)),
                ("upstream_finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "callback_token",
                    models.CharField(blank=True, db_index=True, default="", max_length=64),
                ),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Running"),
                            ("completed", "Completed"),
                            ("failed", "Failed"),
                            ("moderated", "Moderated"),
                            ("cancelled", "Cancelled"),
                            ("retried", "Failed, retried"),
                            ("requeued", "Put back in the queue"),
                        ],
                        default="",
                        max_length=10,
                    ),
                ),
                ("error", models.TextField(blank=True, default="")),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="attempts",
                        to="videos.provideraccount",
                    ),
                ),
                (
                    "video",
                    # "attempts" is still Video's claim counter until 0009 drops it.
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="videos.video",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["next_poll_at"], name="attempt_next_poll"),
                    models.Index(
                        fields=["account", "upstream_finished_at"], name="attempt_account_busy"
                    ),
                    models.Index(fields=["video", "-id"], name="attempt_video_newest"),
                ],
            },
        ),
        migrations.AddField(
            model_name="video",
            name="attempt",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="current_of",
                to="videos.attempt",
            ),
        ),
        migrations.AlterField(
            model_name="video",
            name="reply_state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No callback"),
                    ("waiting", "Owed when it ends"),
                    ("sent", "Sent"),
                    ("hold", "On hold"),
                ],
                default="",
                max_length=8,
            ),
        ),
    ]
