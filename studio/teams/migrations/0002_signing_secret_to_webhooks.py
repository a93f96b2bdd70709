"""The signing secret now lives in webhooks.SigningSecret (copied there by its 0002)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_signingsecret"),
        ("teams", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="team",
            name="webhook_rotated_at",
        ),
        migrations.RemoveField(
            model_name="team",
            name="webhook_secret",
        ),
        migrations.RemoveField(
            model_name="team",
            name="webhook_secret_previous",
        ),
    ]
