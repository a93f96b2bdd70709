from django import forms
from django.contrib.auth.forms import BaseUserCreationForm, PasswordResetForm

from studio.lib.forms import MAX_ID, WholeNumberField
from studio.teams.models import Membership


class InviteForm(forms.Form):
    label = forms.CharField(
        max_length=100,
        label="Who is it for?",
        widget=forms.TextInput(attrs={"placeholder": "Name or email, for your records"}),
    )
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text="Admins manage members and accounts. Members generate videos.",
    )


class TeamNameForm(forms.Form):
    """The team page's rename; services.team_rename judges the name."""

    name = forms.CharField(
        label="Team name", required=False, widget=forms.TextInput(attrs={"maxlength": 100})
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        template_name="forms/inline.html",
        widget=forms.Select(attrs={"data-autosubmit": True}),
    )

    @classmethod
    def for_member(cls, membership: Membership) -> "RoleForm":
        """The role select in a member's row of the team page."""
        form = cls(initial={"role": membership.role})
        form.fields["role"].label = f"Role of {membership.user.get_username()}"
        form.fields["role"].widget.attrs["id"] = f"role-{membership.pk}"
        return form


class SwitchTeamForm(forms.Form):
    team = WholeNumberField(
        min_value=1,
        max_value=MAX_ID,
        template_name="forms/inline.html",
        widget=forms.Select(attrs={"id": "team-switch", "data-autosubmit": True}),
    )

    @classmethod
    def for_member(cls, membership: Membership, memberships) -> "SwitchTeamForm":
        """The header's team switcher: the user's teams, the current one chosen."""
        form = cls(initial={"team": membership.team_id})
        form.fields["team"].widget.choices = [(m.team_id, m.team.name) for m in memberships]
        return form


class JoinForm(BaseUserCreationForm):
    """Username and password for someone joining through an invite link."""


class ProfileForm(forms.Form):
    # Shown, not changed: a disabled field ignores what a request sends for it.
    username = forms.CharField(
        disabled=True,
        required=False,
        help_text="You sign in with it; it cannot be changed.",
    )
    email = forms.EmailField(
        required=False,
        max_length=254,
        label="Email",
        help_text="Where a password reset link goes. Blank: nobody can reset your password by "
        "email, not even you.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ResetForm(PasswordResetForm):
    """Django's, with the cursor in its only field."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autofocus"] = True
