import re

from django import forms
from django.conf import settings
from django.contrib.auth.forms import BaseUserCreationForm

from videos import netguard
from videos.images import ImageRejected, clean_image
from videos.models import Membership, ProviderAccount
from videos.providers.catalog import DURATIONS, MODELS, RESOLUTIONS, check_options, from_useapi


def _clean_upload(upload):
    if not upload:
        return None
    try:
        return clean_image(
            upload, name=upload.name, content_type=upload.content_type or "", size=upload.size
        )
    except ImageRejected as exc:
        raise forms.ValidationError(str(exc)) from None


# ASCII digits only: str.isdigit() and int() also take "①" or "²" (which int() then refuses)
# and "١٢"; and int() refuses more than 4,300 digits.
_WHOLE = re.compile(r"-?[0-9]+")
# A number with more significant digits than this is past every field's max_value and past a
# 64-bit id: it is read as 10**19, so the field refuses it in its own words, unparsed.
_MAX_DIGITS = 19


def _whole(text: str) -> int | None:
    """The integer `text` writes in ASCII digits, or None."""
    text = text.strip()
    if not _WHOLE.fullmatch(text):
        return None
    negative, digits = text.startswith("-"), text.lstrip("-").lstrip("0")
    if len(digits) > _MAX_DIGITS:
        return -(10**_MAX_DIGITS) if negative else 10**_MAX_DIGITS
    return int(text)


class WholeNumberField(forms.IntegerField):
    """A whole number in ASCII digits, within bounds: max_value is required (see _whole)."""

    def __init__(self, *, max_value: int, **kwargs):
        super().__init__(max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # max_value and min_value check it
        number = _whole(value) if isinstance(value, str) else None
        if number is None:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            )
        return number


# A row id: a cursor, a team to switch to. Ids are 64-bit on every database the studio runs on.
MAX_ID = 2**63 - 1


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


class ApiText(forms.CharField):
    default_error_messages = {"invalid": "must be a string"}

    def to_python(self, value):
        if value is not None and not isinstance(value, str):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class ApiBool(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise forms.ValidationError(f"must be true or false, not {value!r}")


class ApiInt(WholeNumberField):
    default_error_messages = {"invalid": "must be a whole number, not %(value)r"}
    empty_values = (None, "")  # a JSON [] or {} is a value of the wrong type, not a blank


class ApiForm(forms.Form):
    """Refuses fields it does not know, naming the ones it takes."""

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.unknown = sorted(set(data) - set(self.fields)) if data is not None else []

    def clean(self):
        data = super().clean()
        if self.unknown:
            raise forms.ValidationError(
                f"Unknown field(s): {', '.join(self.unknown)}. "
                f"This endpoint takes: {', '.join(self.fields)}."
            )
        return data

    def error_message(self) -> str:
        """Every problem in one line, each naming the field it is about."""
        problems = [
            error if field == "__all__" else f"{field} {error}"
            for field, errors in self.errors.items()
            for error in errors
        ]
        return "; ".join(problems) or "The request is not valid."


def _limit_1024(name: str) -> ApiText:
    return ApiText(
        required=False,
        max_length=1024,
        error_messages={"max_length": "must be at most 1,024 characters"},
    )


class ApiVideoForm(ApiForm):
    """POST videos/create, exactly as useapi.net documents it (seeds/000)."""

    account = forms.Field(required=False)
    prompt = ApiText(required=False, strip=False)
    promptOptimization = ApiBool(required=False)
    fileID = ApiText(required=False)
    replyUrl = _limit_1024("replyUrl")
    replyRef = _limit_1024("replyRef")
    # useapi.net's later fields (reference §4), for the models the studio can send to.
    model = ApiText(required=False, max_length=40)
    options = ApiText(required=False, max_length=20)
    end_frame_fileID = ApiText(required=False)
    maxJobs = ApiInt(
        required=False,
        min_value=1,
        max_value=10,
        error_messages={
            "min_value": "must be from 1 to 10",
            "max_value": "must be from 1 to 10",
        },
    )

    def clean_account(self):
        value = self.cleaned_data.get("account")
        if value in (None, ""):
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int) or "\x00" in str(value):
            raise forms.ValidationError("must be an account id (a string)")
        return str(value)

    def clean_prompt(self) -> str:
        prompt = (self.cleaned_data.get("prompt") or "").replace("\r\n", "\n").strip()
        limit = settings.PROMPT_MAX_CHARS
        if len(prompt) > limit:
            raise forms.ValidationError(
                f"is {len(prompt):,} characters; the limit is {limit:,}. "
                f"Shorten it by {len(prompt) - limit:,}."
            )
        return prompt

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("prompt") and not data.get("fileID"):
            raise forms.ValidationError(
                "prompt is required (unless fileID names a first-frame image): describe your shot."
            )
        if data.get("promptOptimization") is None:
            data["promptOptimization"] = True
        try:
            data["model"], data["resolution"], data["duration"] = from_useapi(
                data.get("model") or "", data.get("options") or ""
            )
        except ValueError as exc:
            self.add_error("model" if "model" in str(exc) else "options", str(exc))
        end = data.get("end_frame_fileID")
        if end and not data.get("fileID"):
            self.add_error("end_frame_fileID", "needs a first frame too: add fileID.")
        elif end and end == data.get("fileID"):
            self.add_error("end_frame_fileID", "must differ from fileID.")
        return data


class ApiListForm(ApiForm):
    account = forms.Field(required=False)
    limit = ApiInt(required=False, min_value=1, max_value=100)
    lastVideoId = ApiText(required=False)


class ApiFileListForm(ApiForm):
    account = forms.Field(required=False)
    limit = ApiInt(required=False, min_value=1, max_value=100)
    lastFileID = ApiText(required=False)


class ApiCancelForm(ApiForm):
    videoId = ApiText()


class ApiAccountForm(ApiForm):
    """POST accounts/: a MiniMax API key or a useapi.net token. Secrets go in, never out."""

    kind = forms.ChoiceField(
        required=False,
        choices=[
            (ProviderAccount.Kind.MINIMAX, "minimax"),
            (ProviderAccount.Kind.USEAPI, "useapi"),
        ],
    )
    name = ApiText(max_length=100)
    apiKey = ApiText(required=False)
    token = ApiText(required=False)
    account = ApiText(required=False, max_length=100)
    maxJobs = ApiInt(min_value=1, max_value=10)
    rpm = ApiInt(required=False, min_value=1, max_value=1000)
    region = forms.ChoiceField(
        required=False, choices=ProviderAccount._meta.get_field("region").choices
    )
    baseUrl = forms.URLField(required=False, assume_scheme="https")
    defaultModel = forms.ChoiceField(required=False, choices=[(m, m) for m in MODELS])

    def clean_baseUrl(self):
        # The service checks it too, but would name the web form's field.
        url = self.cleaned_data["baseUrl"]
        if url:
            try:
                netguard.check_url(url, field="baseUrl", allow_http=True)
            except netguard.UnsafeURL as exc:
                raise forms.ValidationError(exc.problem) from None
        return url

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or ProviderAccount.Kind.MINIMAX
        secret = data.get("token") if kind == ProviderAccount.Kind.USEAPI else data.get("apiKey")
        if not self.errors and not (secret or "").strip():
            field = "token" if kind == ProviderAccount.Kind.USEAPI else "apiKey"
            raise forms.ValidationError(f"{field} is required for a {kind} account.")
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        kind = data.get("kind") or ProviderAccount.Kind.MINIMAX
        fields = {
            "kind": kind,
            "name": data["name"].strip(),
            "max_jobs": data["maxJobs"],
            "rpm": data.get("rpm") or 5,
            "region": data.get("region") or "global",
            "base_url": data.get("baseUrl") or "",
            "default_model": data.get("defaultModel") or "",
            "secret": (data.get("token") if kind == "useapi" else data.get("apiKey")) or "",
        }
        if kind == ProviderAccount.Kind.USEAPI:
            fields["upstream_account"] = data.get("account") or ""
        return fields


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Batch script on the render box"}),
    )


class TeamApiForm(forms.Form):
    api_strict = forms.BooleanField(
        required=False,
        label="Strict mode",
        help_text="Creates go upstream at once and are refused (429) when every slot is busy, "
        "as on useapi.net. Off: the studio queues them and answers at once.",
    )
    webhook_progress = forms.BooleanField(
        required=False,
        label="Progress callbacks",
        help_text="Also call replyUrl while a video runs, not only when it ends.",
    )
    default_reply_url = forms.CharField(
        required=False,
        max_length=1024,
        label="Default replyUrl",
        help_text="Called for API videos whose create names no replyUrl. Public addresses only.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/studio"}),
    )
    user_queue_limit = WholeNumberField(
        required=False,
        min_value=1,
        max_value=100000,
        label="Queue limit per person",
        help_text=f"Videos one person may have queued or running through the API "
        f"(blank: {settings.API_USER_QUEUE_LIMIT}).",
    )
    team_queue_limit = WholeNumberField(
        required=False,
        min_value=1,
        max_value=100000,
        label="Queue limit for the team",
        help_text=f"Blank: {settings.API_TEAM_QUEUE_LIMIT}.",
    )


class ProfileForm(forms.Form):
    email = forms.EmailField(
        required=False,
        max_length=254,
        label="Email",
        help_text="Where a password reset link goes. Blank: nobody can reset your password by "
        "email, not even you.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
