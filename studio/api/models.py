from django.conf import settings
from django.db import models

from studio.teams.models import Team


class ApiToken(models.Model):
    """A personal token for the REST API. It acts for its user in one team; only its hash is
    stored, so it is shown once, when made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    team = models.ForeignKey(Team, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The token's first characters, so its owner can tell tokens apart.
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Fixed-window request counter for writes (creates, uploads, deletes): window and count.
    rate_window = models.BigIntegerField(default=0)
    rate_count = models.PositiveIntegerField(default=0)
    # The same for reads (polling, listings), which have their own, larger budget.
    read_window = models.BigIntegerField(default=0)
    read_count = models.PositiveIntegerField(default=0)

    class Meta:
        # Made in the videos app; moved here with its rows (migration 0001).
        db_table = "videos_apitoken"
        indexes = [models.Index(fields=["user", "-id"], name="token_user_newest")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
