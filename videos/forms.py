from django import forms
from django.conf import settings
from django.contrib.auth.forms import BaseUserCreationForm

from videos.images import ImageRejected, clean_image
from videos.models import Membership
from videos.providers.catalog import DURATIONS, MODELS, RESOLUTIONS, check_options


def _clean_upload(upload):
    if not upload:
        return None
    try:
        return clean_image(
            upload, name=upload.name, content_type=upload.content_type or "", size=upload.size
        )
    except ImageRejected as exc:
        raise forms.ValidationError(str(exc)) from None


class VideoForm(forms.Form):
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Describe your shot…"}),
        required=False,
    )
    prompt_optimization = forms.BooleanField(required=False, initial=True)
    image = forms.FileField(required=False)
    last_image = forms.FileField(required=False)
    # Blank means "the account's default"; MiniMax accounts check the combination, the local
    # renderer ignores it.
    model = forms.ChoiceField(choices=[("", "Default")] + [(m, m) for m in MODELS], required=False)
    resolution = forms.ChoiceField(
        choices=[("", "Default")] + [(r, r) for r in RESOLUTIONS], required=False
    )
    duration = forms.TypedChoiceField(
        choices=[("", "Default")] + [(d, f"{d} s") for d in DURATIONS],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def clean_prompt(self) -> str:
        # Browsers send textarea newlines as CRLF; count them as the live counter does, once.
        prompt = self.cleaned_data["prompt"].replace("\r\n", "\n").strip()
        limit = settings.PROMPT_MAX_CHARS
        if not prompt:
            raise forms.ValidationError("Describe the video you want: the prompt is empty.")
        if len(prompt) > limit:
            raise forms.ValidationError(
                f"The prompt is {len(prompt):,} characters; the limit is {limit:,}. "
                f"Shorten it by {len(prompt) - limit:,}."
            )
        return prompt

    def clean_image(self):
        return _clean_upload(self.cleaned_data.get("image"))

    def clean_last_image(self):
        return _clean_upload(self.cleaned_data.get("last_image"))

    def clean(self):
        data = super().clean()
        if "image" not in data or "last_image" not in data:
            return data  # an image was refused; its own message says why
        chosen = [data.get(k) for k in ("model", "resolution", "duration", "last_image")]
        if any(chosen):
            try:
                check_options(
                    model=data.get("model", ""),
                    resolution=data.get("resolution", ""),
                    duration=data.get("duration"),
                    has_image=data["image"] is not None,
                    has_last_image=data["last_image"] is not None,
                )
            except ValueError as exc:
                self.add_error("model", str(exc))
        return data


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
    team = forms.IntegerField()


class JoinForm(BaseUserCreationForm):
    """Username and password for someone joining through an invite link."""
