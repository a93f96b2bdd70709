"""Team, Membership and Invite moved to studio.teams, ApiToken to studio.api and
WebhookDelivery to studio.webhooks: a change of Django's state only. The tables keep
their names and rows; the foreign keys here now point at teams.Team."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("videos", "0005_worker_losses"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="invite",
                    name="accepted_by",
                ),
                migrations.RemoveField(
                    model_name="invite",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="invite",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="membership",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="membership",
                    name="user",
                ),
                migrations.AlterField(
                    model_name="promptimage",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="images",
                        to="teams.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="video",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="videos",
                        to="teams.team",
                    ),
                ),
                migrations.RemoveField(
                    model_name="webhookdelivery",
                    name="team",
                ),
                migrations.AlterField(
                    model_name="provideraccount",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="accounts",
                        to="teams.team",
                    ),
                ),
                migrations.RemoveField(
                    model_name="webhookdelivery",
                    name="video",
                ),
                migrations.DeleteModel(
                    name="ApiToken",
                ),
                migrations.DeleteModel(
                    name="Invite",
                ),
                migrations.DeleteModel(
                    name="Membership",
                ),
                migrations.DeleteModel(
                    name="Team",
                ),
                migrations.DeleteModel(
                    name="WebhookDelivery",
                ),
            ],
            database_operations=[],
        ),
    ]
