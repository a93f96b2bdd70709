"""What a member may spend: a quota per membership, set by a team admin."""

from django.core.validators import MinValueValidator
from django.db import models

from studio.teams.models import Membership


class MemberQuota(models.Model):
    """A member's limits in one team; a blank one is no limit. Admins are exempt unless they
    have a quota of their own (videos.services.quotas)."""

    membership = models.OneToOneField(Membership, models.CASCADE, related_name="quota")
    videos_per_day = models.PositiveIntegerField(null=True, blank=True)
    videos_per_month = models.PositiveIntegerField(null=True, blank=True)
    cost_per_month = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Quota of membership {self.membership_id}"

    @property
    def is_empty(self) -> bool:
        return (
            self.videos_per_day is None
            and self.videos_per_month is None
            and self.cost_per_month is None
        )
