"""Provider accounts, the calls made to them, and the scheduler's bookkeeping rows."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.lib.fields import EncryptedTextField
from studio.teams.models import Team


class ProviderAccount(models.Model):
    class Kind(models.TextChoices):
        LOCAL = "local", "Local renderer"
        MINIMAX = "minimax", "MiniMax API"
        USEAPI = "useapi", "useapi.net"

    team = models.ForeignKey(Team, models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # JSON with the provider's secrets (API key, token); encrypted at rest, never shown again.
    credentials = EncryptedTextField(blank=True, default="")
    max_jobs = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    enabled = models.BooleanField(default=True)
    # Upstream settings that are not secret. base_url overrides the provider's default host,
    # e.g. to point an account at the bundled emulator.
    region = models.CharField(
        max_length=10,
        choices=[
            ("global", "Global (api.minimax.io)"),
            ("cn", "Mainland China (api.minimaxi.com)"),
        ],
        default="global",
    )
    base_url = models.URLField(blank=True, default="")
    default_model = models.CharField(max_length=40, blank=True, default="")
    # useapi.net: which of the hailuoai.video accounts registered there this row drives.
    upstream_account = models.CharField(max_length=100, blank=True, default="")
    # Creates allowed per rate window (MiniMax documents 5 per minute for video).
    rpm = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    # Set when the upstream says "slow down", "out of balance" or "on hold": no new work until.
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True, default="")
    # Why it is paused, as useapi.net answers a create pinned to it: out of credits is a 412,
    # on hold a 596; a rate-limit pause is short and a pinned create just waits it out.
    pause_kind = models.CharField(
        max_length=10,
        blank=True,
        default="",
        choices=[("rate", "Rate limited"), ("credits", "Out of credits"), ("hold", "On hold")],
    )
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    # What a video costs the team on this account, for the usage page and cost quotas: a price
    # per video that reached the upstream, plus one per second of video it delivered. Estimates,
    # set by an admin from the plan's prices; the local renderer costs nothing.
    price_per_video = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    price_per_second = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="account_name_per_team"),
            models.CheckConstraint(
                condition=Q(max_jobs__gte=1, max_jobs__lte=10), name="max_jobs_1_to_10"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_remote(self) -> bool:
        return self.kind != self.Kind.LOCAL

    @property
    def is_paused(self) -> bool:
        return self.paused_until is not None and self.paused_until > timezone.now()


class UpstreamCall(models.Model):
    """One request to an account's upstream. Creates are counted against the account's rate
    limit (the row is written under the account lock before the request goes out); all calls
    feed the "requests in the last minute" figure on the accounts page. Pruned after an hour."""

    class Kind(models.TextChoices):
        CREATE = "create"
        QUERY = "query"
        DOWNLOAD = "download"
        OTHER = "other"

    account = models.ForeignKey(ProviderAccount, models.CASCADE, related_name="calls")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["account", "kind", "at"], name="call_account_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.account_id} at {self.at:%H:%M:%S}"


class SchedulerLease(models.Model):
    """Who runs the scheduler loop right now. One row; the holder renews it every tick, and a
    holder that died is replaced once its lease runs out."""

    name = models.CharField(max_length=40, primary_key=True)
    owner = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.owner or 'nobody'} until {self.expires_at}"


class DispatchFlag(models.Model):
    """A dispatch task was requested and has not started yet (videos.services.dispatch).

    One row per flag name. `pending` is set by a request and cleared by the dispatch task as it
    starts; `requested_at` tells a flag whose task died before starting from a live one."""

    name = models.CharField(max_length=40, primary_key=True)
    pending = models.BooleanField(default=False)
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {'pending' if self.pending else 'idle'} since {self.requested_at}"
