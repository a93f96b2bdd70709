"""The replyUrl signing secret moves off Team into its own row, with its values."""

import django.db.models.deletion
import studio.lib.fields
from django.db import migrations, models


def copy_secrets(apps, schema_editor):
    """Each team's secrets, as they were on the Team row, become its SigningSecret row."""
    Team = apps.get_model("teams", "Team")
    SigningSecret = apps.get_model("webhooks", "SigningSecret")
    for team in Team.objects.exclude(webhook_secret="").iterator():
        SigningSecret.objects.create(
            team_id=team.pk,
            secret=team.webhook_secret,
            previous=team.webhook_secret_previous,
            rotated_at=team.webhook_rotated_at,
        )


def copy_back(apps, schema_editor):
    Team = apps.get_model("teams", "Team")
    SigningSecret = apps.get_model("webhooks", "SigningSecret")
    for row in SigningSecret.objects.iterator():
        Team.objects.filter(pk=row.team_id).update(
            webhook_secret=row.secret,
            webhook_secret_previous=row.previous,
            webhook_rotated_at=row.rotated_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SigningSecret",
            fields=[
                (
                    "team",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="signing_secret",
                        serialize=False,
                        to="teams.team",
                    ),
                ),
                ("secret", studio.lib.fields.EncryptedTextField()),
                ("previous", studio.lib.fields.EncryptedTextField(blank=True, default="")),
                ("rotated_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.RunPython(copy_secrets, copy_back),
    ]
