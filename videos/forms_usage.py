"""The usage page's query string, and an admin's quota for a member."""

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from studio.lib.forms import MAX_ID, WholeNumberField
from studio.teams.models import Membership
from videos.models import ProviderAccount
from videos.selectors_usage import PERIODS

# The longest range one page sums: a year of days is 366 bars; longer ranges want months.
MAX_DAYS = {"day": 366, "week": 3 * 366, "month": 10 * 366}


class UsageForm(forms.Form):
    """`period`, `from`, `to`, and for admins `member`; `account`. Defaults: the last 30 days
    by day. An admin's `member` is any member of the team; a member always sees their own."""

    period = forms.ChoiceField(choices=[(p, p.capitalize()) for p in PERIODS], required=False)
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)
    member = WholeNumberField(required=False, min_value=1, max_value=MAX_ID)
    account = WholeNumberField(required=False, min_value=1, max_value=MAX_ID)

    def __init__(self, data, *, membership: Membership):
        # `from` and `to` in the URL, as the gallery's filters; keywords in Python.
        data = {k: v for k, v in data.items()} if data else {}
        data.setdefault("since", data.pop("from", ""))
        data.setdefault("until", data.pop("to", ""))
        super().__init__(data)
        self.membership = membership

    def clean_member(self):
        pk = self.cleaned_data["member"]
        if not self.membership.is_admin:
            return self.membership.user_id  # members see their own usage only
        if pk is None:
            return None
        users = get_user_model().objects.filter(memberships__team_id=self.membership.team_id)
        if not users.filter(pk=pk).exists():
            raise forms.ValidationError("not a member of this team; choose one from the list")
        return pk

    def clean_account(self):
        pk = self.cleaned_data["account"]
        if (
            pk is not None
            and not ProviderAccount.objects.filter(pk=pk, team_id=self.membership.team_id).exists()
        ):
            raise forms.ValidationError("not one of the team's accounts; choose one from the list")
        return pk

    def clean(self):
        data = super().clean()
        period = data.get("period") or "day"
        until = data.get("until") or timezone.localdate()
        since = data.get("since") or until - timedelta(days=29)
        if since > until:
            raise forms.ValidationError("from is after to: swap the dates.")
        if (until - since).days >= MAX_DAYS[period]:
            raise forms.ValidationError(
                f"That range is too long to show by {period}; choose a longer period or a "
                "shorter range."
            )
        return {**data, "period": period, "since": since, "until": until}


class QuotaForm(forms.Form):
    """A member's limits; a blank field is no limit of that kind."""

    videos_per_day = forms.IntegerField(required=False, min_value=0, max_value=1_000_000)
    videos_per_month = forms.IntegerField(required=False, min_value=0, max_value=1_000_000)
    cost_per_month = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2
    )
