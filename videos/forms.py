from django import forms
from django.conf import settings

from studio.lib.forms import MAX_ID, WholeNumberField
from videos.images import ImageRejected, clean_image
from videos.models import ProviderAccount
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


class GalleryForm(forms.Form):
    """The gallery's query string: `before`, the cursor its page links carry (a video id)."""

    before = WholeNumberField(required=False, min_value=1, max_value=MAX_ID)


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


class AccountForm(forms.Form):
    """An account's settings. The kind is chosen once, on create; a field the kind does not use
    is left out, so it is neither shown nor sent to the service."""

    SECRET_LABELS = {
        ProviderAccount.Kind.MINIMAX: "API key",
        ProviderAccount.Kind.USEAPI: "useapi.net token",
    }

    kind = forms.ChoiceField(
        choices=[(k, k.label) for k in (ProviderAccount.Kind.MINIMAX, ProviderAccount.Kind.USEAPI)],
        initial=ProviderAccount.Kind.MINIMAX,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "e.g. Studio key 1"})
    )
    secret = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; never shown again.",
    )
    upstream_account = forms.CharField(
        max_length=100,
        required=False,
        label="hailuoai.video account id",
        help_text="The id useapi.net lists for the hailuoai.video account you registered there.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. 123456"}),
    )
    max_jobs = WholeNumberField(
        min_value=1,
        max_value=10,
        initial=1,
        label="Videos at once",
        help_text="Slots: how many videos this account renders at the same time, 1 to 10.",
    )
    rpm = WholeNumberField(
        min_value=1,
        max_value=1000,
        initial=5,
        label="Creates per minute",
        help_text="MiniMax allows 5 video creates a minute unless your plan says otherwise.",
    )
    region = forms.ChoiceField(
        choices=ProviderAccount._meta.get_field("region").choices, initial="global"
    )
    base_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Base URL",
        widget=forms.URLInput(attrs={"placeholder": "Provider default"}),
        help_text="Leave blank for the provider's own host. Set it to use the bundled emulator.",
    )
    default_model = forms.ChoiceField(
        choices=[("", "Provider default")] + [(m, m) for m in MODELS],
        required=False,
        help_text="Used when a video does not pick a model.",
    )

    def __init__(self, *args, account: ProviderAccount | None = None, **kwargs):
        if account is not None:
            kwargs.setdefault("initial", {f: getattr(account, f, None) for f in self.base_fields})
        super().__init__(*args, **kwargs)
        self.account = account
        secret = self.fields["secret"]
        if account is None:
            secret.required = True
            secret.error_messages["required"] = "Paste the key: without it no video can be sent."
            return
        del self.fields["kind"]
        secret.label = self.SECRET_LABELS.get(account.kind, "API key")
        secret.help_text = f"{secret.help_text} Leave blank to keep the current one."
        secret.widget.attrs["placeholder"] = "•••••••• (stored)"
        if account.kind == ProviderAccount.Kind.USEAPI:
            self.fields["upstream_account"].required = True
            del self.fields["region"]  # useapi.net has one host whatever the region
        else:
            del self.fields["upstream_account"]
        if account.kind == ProviderAccount.Kind.LOCAL:
            for name in ("secret", "rpm", "region", "base_url", "default_model"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if self.account is None:
            if data.get("kind") == ProviderAccount.Kind.USEAPI:
                if not data.get("upstream_account", "").strip():
                    self.add_error(
                        "upstream_account",
                        "Give the hailuoai.video account id registered at useapi.net.",
                    )
                data.pop("region", None)
            else:
                data.pop("upstream_account", None)
        return data


# The REST API. Its bodies come as JSON (typed values) or multipart/form-data (strings), so its
# fields take either, but refuse a JSON value of the wrong type rather than guess.
