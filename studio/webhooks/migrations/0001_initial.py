"""The webhooks app takes over webhookdelivery from videos: the tables exist (videos_*)
and keep their rows, so only Django's state changes, and the content types (with their
permissions and admin history) are relabelled rather than made anew."""

import django.db.models.deletion
from django.db import migrations, models

MODELS = ["webhookdelivery"]


def relabel(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="videos", model__in=MODELS).update(app_label="webhooks")


def unrelabel(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="webhooks", model__in=MODELS).update(app_label="videos")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("teams", "0001_initial"),
        ("videos", "0006_models_to_platform_apps"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "event",
                            models.CharField(
                                choices=[
                                    ("video.final", "Video ended"),
                                    ("video.progress", "Progress"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("url", models.CharField(max_length=1024)),
                        ("msg_id", models.CharField(db_index=True, max_length=40)),
                        ("payload", models.TextField()),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("delivered", "Delivered"),
                                    ("failed", "Failed"),
                                    ("blocked", "Blocked"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("last_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True, default="")),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="teams.team",
                            ),
                        ),
                        (
                            "video",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="videos.video",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "videos_webhookdelivery",
                        "indexes": [
                            models.Index(fields=["team", "-id"], name="delivery_team_newest"),
                            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel, unrelabel),
    ]
