from django import forms
from django.conf import settings

from studio.lib import netguard
from studio.lib.forms import WholeNumberField
from videos.models import ProviderAccount
from videos.providers.catalog import MODELS, from_useapi


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
