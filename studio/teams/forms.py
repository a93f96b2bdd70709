from django import forms
from django.contrib.auth.forms import BaseUserCreationForm

from studio.lib.forms import MAX_ID, WholeNumberField
from studio.teams.models import Membership


class InviteForm(forms.Form):
    label = forms.CharField(
        max_length=100,
        label="Who is it for?",
        widget=forms.TextInput(attrs={"placeholder": "Name or email, for your records"}),
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class SwitchTeamForm(forms.Form):
    team = WholeNumberField(min_value=1, max_value=MAX_ID)


class JoinForm(BaseUserCreationForm):
    """Username and password for someone joining through an invite link."""


class ProfileForm(forms.Form):
    email = forms.EmailField(
        required=False,
        max_length=254,
        label="Email",
        help_text="Where a password reset link goes. Blank: nobody can reset your password by "
        "email, not even you.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
