"""The teams app takes over team, membership, invite from videos: the tables exist (videos_*)
and keep their rows, so only Django's state changes, and the content types (with their
permissions and admin history) are relabelled rather than made anew."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import studio.lib.fields

MODELS = ["team", "membership", "invite"]


def relabel(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="videos", model__in=MODELS).update(app_label="teams")


def unrelabel(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="teams", model__in=MODELS).update(app_label="videos")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("videos", "0005_worker_losses"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Team",
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
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("api_strict", models.BooleanField(default=False)),
                        ("user_queue_limit", models.PositiveIntegerField(blank=True, null=True)),
                        ("team_queue_limit", models.PositiveIntegerField(blank=True, null=True)),
                        (
                            "webhook_secret",
                            studio.lib.fields.EncryptedTextField(blank=True, default=""),
                        ),
                        (
                            "webhook_secret_previous",
                            studio.lib.fields.EncryptedTextField(blank=True, default=""),
                        ),
                        ("webhook_rotated_at", models.DateTimeField(blank=True, null=True)),
                        ("webhook_progress", models.BooleanField(default=False)),
                        (
                            "default_reply_url",
                            models.CharField(blank=True, default="", max_length=1024),
                        ),
                    ],
                    options={
                        "db_table": "videos_team",
                    },
                ),
                migrations.CreateModel(
                    name="Invite",
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
                            "role",
                            models.CharField(
                                choices=[("admin", "Admin"), ("member", "Member")], max_length=10
                            ),
                        ),
                        (
                            "label",
                            models.CharField(help_text="Who the invite is for.", max_length=100),
                        ),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField()),
                        ("accepted_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "accepted_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="invites",
                                to="teams.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "videos_invite",
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
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
                            "role",
                            models.CharField(
                                choices=[("admin", "Admin"), ("member", "Member")],
                                default="member",
                                max_length=10,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="teams.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "videos_membership",
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "team"), name="one_membership")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel, unrelabel),
    ]
