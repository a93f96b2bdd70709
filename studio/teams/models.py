from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The REST API. Strict mode: a create goes upstream at once and is refused (429) when no
    # account has a free slot, as useapi.net does; otherwise it is queued and answered at once.
    api_strict = models.BooleanField(default=False)
    # Queue mode refuses a create (429) past these many queued or running videos, per author and
    # per team; blank means the server's default (API_USER_QUEUE_LIMIT, API_TEAM_QUEUE_LIMIT).
    user_queue_limit = models.PositiveIntegerField(null=True, blank=True)
    team_queue_limit = models.PositiveIntegerField(null=True, blank=True)
    # Also call replyUrl while a video runs (status changes), not only when it ends.
    webhook_progress = models.BooleanField(default=False)
    # The replyUrl of an API create that names none (useapi.net keeps one per account).
    default_reply_url = models.CharField(max_length=1024, blank=True, default="")

    class Meta:
        # Made in the videos app; moved here with its rows (migration 0001).
        db_table = "videos_team"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Made in the videos app; moved here with its rows (migration 0001).
        db_table = "videos_membership"
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Invite(models.Model):
    """A one-time link an admin hands to a new teammate; only its hash is stored."""

    team = models.ForeignKey(Team, models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    label = models.CharField(max_length=100, help_text="Who the invite is for.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        # Made in the videos app; moved here with its rows (migration 0001).
        db_table = "videos_invite"

    def __str__(self) -> str:
        return f"Invite for {self.label} to {self.team}"
