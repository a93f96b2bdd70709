from datetime import timedelta

from django.db import models
from django.utils import timezone

from studio.lib.fields import EncryptedTextField
from studio.teams.models import Team
from videos.models import Video


class WebhookDelivery(models.Model):
    """One callback to a replyUrl, retried on its own schedule until it is delivered or given up.
    Admins see recent ones on the team's webhooks page and can send one again."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        # The URL resolved to an address callbacks may not go to; no request was made.
        BLOCKED = "blocked", "Blocked"

    class Event(models.TextChoices):
        FINAL = "video.final", "Video ended"
        PROGRESS = "video.progress", "Progress"

    team = models.ForeignKey(Team, models.CASCADE, related_name="deliveries")
    video = models.ForeignKey(Video, models.SET_NULL, null=True, blank=True, related_name="+")
    event = models.CharField(max_length=20, choices=Event.choices)
    url = models.CharField(max_length=1024)
    # Standard Webhooks' webhook-id: the same for every attempt and for a redelivery, so a
    # receiver that already has it can tell.
    msg_id = models.CharField(max_length=40, db_index=True)
    # The body as last sent (or as it will be, if the video is deleted before it goes).
    payload = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Made in the videos app; moved here with its rows (migration 0001).
        db_table = "videos_webhookdelivery"
        indexes = [
            models.Index(fields=["team", "-id"], name="delivery_team_newest"),
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.url} ({self.state})"


class SigningSecret(models.Model):
    """A team's replyUrl signing secret (Standard Webhooks), made on first use. After a rotation
    the previous secret signs too for a day, so receivers can switch without losing a callback."""

    # Until 24 hours after a rotation, callbacks carry a signature from the previous secret too.
    OVERLAP = timedelta(days=1)

    team = models.OneToOneField(
        Team, models.CASCADE, primary_key=True, related_name="signing_secret"
    )
    secret = EncryptedTextField()
    previous = EncryptedTextField(blank=True, default="")
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Signing secret of {self.team}"

    def signing(self) -> list[str]:
        """The secrets that sign now: the current one, and for a day after a rotation the old."""
        overlap = self.rotated_at and timezone.now() - self.rotated_at < self.OVERLAP
        return [self.secret, self.previous] if self.previous and overlap else [self.secret]
