from decimal import Decimal

from django import forms

from studio import conf
from studio.lib.errors import ServiceError
from studio.lib.forms import MAX_ID, WholeNumberField, add_service_error, whole_number
from videos.images import CleanImage, ImageRejected, clean_image
from videos.models import PromptImage, ProviderAccount, Video
from videos.providers.catalog import (
    DEFAULT_MODEL,
    DURATIONS,
    MODELS,
    RESOLUTIONS,
    SUBJECT,
    check_choices,
)
from videos.services.submit import Submission, check_prompt


def _clean_upload(upload, *, named: str = ""):
    """The upload checked against MiniMax's image limits; `named` starts the refusal, for a field
    whose message would otherwise read as if it were about the first frame."""
    if not upload:
        return None
    try:
        return clean_image(
            upload, name=upload.name, content_type=upload.content_type or "", size=upload.size
        )
    except ImageRejected as exc:
        raise forms.ValidationError(f"{named}: {exc}" if named else str(exc)) from None


_IMAGE_TYPES = {"accept": "image/jpeg,image/png,image/webp"}
# Reuse, retry and continue fill the composer with images the team already has: each image
# slot may name a stored PromptImage (`<slot>_stored`, its id) instead of an upload.
STORED_SLOTS = {
    "image": "first frame",
    "last_image": "last frame",
    "subject_image": "character (face) reference",
}


def _stored_id(value) -> int | None:
    """A stored image's or video's id as the hidden field sends it; 0 for anything else."""
    if value in (None, ""):
        return None
    number = whole_number(str(value))
    return number if number is not None and 0 < number <= MAX_ID else 0


# The one model that takes a character (face) reference.
SUBJECT_MODEL = DEFAULT_MODEL[SUBJECT]


class VideoForm(forms.Form):
    # Not required here: clean_prompt words the refusal.
    prompt = forms.CharField(
        required=False,
        template_name="videos/fields/prompt.html",
        help_text="Describe the shot: subject, action, setting, camera. Camera moves in brackets, "
        "like [Pan left].",
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "placeholder": "A red fox trots through fresh snow at dawn, low tracking shot "
                "[Tracking shot]",
                "data-counter": "prompt-count",
            }
        ),
    )
    prompt_optimization = forms.BooleanField(
        required=False, initial=True, template_name="forms/toggle.html"
    )
    image = forms.FileField(
        required=False,
        label="First frame",
        template_name="videos/fields/dropzone.html",
        help_text="JPG, PNG or WebP, up to 20 MB and 25 MP (WebP 16 MP), short side at least "
        "300 px, aspect between 2:5 and 5:2. Larger than 2560 px is scaled down.",
        widget=forms.FileInput(attrs=_IMAGE_TYPES),
    )
    last_image = forms.FileField(
        required=False,
        label="Last frame",
        template_name="videos/fields/last_frame.html",
        widget=forms.FileInput(attrs=_IMAGE_TYPES),
    )
    # MiniMax's subject reference: the video's character takes this face (S2V-01, no frames).
    subject_image = forms.FileField(
        required=False,
        label="Character (face) reference",
        template_name="videos/fields/subject.html",
        help_text="A clear photo of one face; the video's character takes it. Uses S2V-01; "
        "no first frame.",
        widget=forms.FileInput(attrs=_IMAGE_TYPES),
    )
    # Blank means "the account's default"; the combination is checked here and again by the
    # account's provider (the local renderer renders the asked size and length).
    model = forms.ChoiceField(
        choices=[("", "Default")] + [(m, m) for m in MODELS],
        required=False,
        template_name="videos/fields/option.html",
        widget=forms.Select(attrs={"aria-describedby": "options-help"}),
    )
    resolution = forms.ChoiceField(
        choices=[("", "Default")] + [(r, r) for r in RESOLUTIONS],
        required=False,
        template_name="videos/fields/option.html",
    )
    duration = forms.TypedChoiceField(
        choices=[("", "Default")] + [(d, f"{d} s") for d in DURATIONS],
        coerce=int,
        empty_value=None,
        required=False,
        label="Length",
        template_name="videos/fields/option.html",
    )
    # Ids, resolved against the team in __init__ (the drop zones show them) and checked in clean.
    image_stored = forms.CharField(required=False, widget=forms.HiddenInput)
    last_image_stored = forms.CharField(required=False, widget=forms.HiddenInput)
    subject_image_stored = forms.CharField(required=False, widget=forms.HiddenInput)
    # Continue: the video the new one continues (Video.source), one of the team's.
    source = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._resolve_stored(team)
        # The counter shows the limit; the browser stops typing well past it, so a pasted prompt
        # that is too long is cut by the person, with the counter's help, not by the browser.
        self.prompt_limit = conf.PROMPT_MAX_CHARS
        self.fields["prompt"].widget.attrs["maxlength"] = self.prompt_limit + 500

    def clean_prompt(self) -> str:
        # The page asks for a prompt even with a first frame (the API does not).
        try:
            return check_prompt(self.cleaned_data["prompt"], has_image=False)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_image(self):
        return _clean_upload(self.cleaned_data.get("image"))

    def clean_last_image(self):
        return _clean_upload(self.cleaned_data.get("last_image"))

    def clean_subject_image(self):
        return _clean_upload(
            self.cleaned_data.get("subject_image"), named="Character (face) reference"
        )

    def _resolve_stored(self, team) -> None:
        """The stored images and the source video the form names, if they are the team's: set
        as `field.stored` (the drop zone's preview) and `source_video`. One query each."""
        ids = {slot: _stored_id(self[f"{slot}_stored"].value()) for slot in STORED_SLOTS}
        wanted = [pk for pk in ids.values() if pk]
        images = (
            {i.pk: i for i in PromptImage.objects.filter(team=team, pk__in=wanted)}
            if team is not None and wanted
            else {}
        )
        for slot, pk in ids.items():
            self.fields[slot].stored = images.get(pk)
            self.fields[slot].stored_id = pk
        source = _stored_id(self["source"].value())
        self.source_id = source
        found = Video.objects.filter(team=team, pk=source) if team is not None and source else None
        self.source_video = found.first() if found is not None else None

    def _use_stored(self, data: dict) -> None:
        """An empty slot that names a stored image takes it; one that is gone (or was never the
        team's) is refused by name. An upload in the same slot wins."""
        for slot, label in STORED_SLOTS.items():
            field = self.fields[slot]
            if slot not in data or data[slot] is not None or field.stored_id is None:
                continue
            if field.stored is None:
                self.add_error(
                    slot,
                    f"The {label} you reused is no longer one of the team's images: "
                    "choose the image again, or remove it.",
                )
            else:
                data[slot] = field.stored
        if self.source_id is not None and self.source_video is None:
            self.add_error(
                None,
                "The video this one continues is no longer in the team's gallery: "
                "remove the link to it, or start from the gallery again.",
            )

    def clean(self):
        data = super().clean()
        self._use_stored(data)
        if not {"image", "last_image", "subject_image"} <= data.keys():
            return data  # an image was refused; its own message says why
        has_subject = data["subject_image"] is not None
        has_frame = data["image"] is not None or data["last_image"] is not None
        if has_subject and not has_frame and data.get("model") not in (None, "", SUBJECT_MODEL):
            self.add_error(
                "model",
                f"A character (face) reference needs {SUBJECT_MODEL}: choose it (or Default), "
                "or remove the face.",
            )
            return data
        if has_subject and data.get("model") == "":
            # Kept as S2V-01, not left to the account's default model at send time.
            data["model"] = SUBJECT_MODEL
        try:
            check_choices(
                model=data.get("model", ""),
                resolution=data.get("resolution", ""),
                duration=data.get("duration"),
                has_image=data["image"] is not None,
                has_last_image=data["last_image"] is not None,
                has_subject=has_subject,
            )
        except ServiceError as exc:
            add_service_error(self, exc)
        return data

    def submission(self) -> Submission:
        """The valid form as `video_submit` takes it; the page's videos wait in the queue."""
        data = self.cleaned_data
        return Submission(
            prompt=data["prompt"],
            prompt_optimization=data["prompt_optimization"],
            model=data["model"],
            resolution=data["resolution"],
            duration=data["duration"],
            image=data["image"],
            image_name=self._upload_name("image"),
            last_image=data["last_image"],
            last_image_name=self._upload_name("last_image"),
            subject_image=data["subject_image"],
            subject_image_name=self._upload_name("subject_image"),
            source=self.source_video,
        )

    def _upload_name(self, slot: str) -> str:
        """The uploaded file's name; a stored image keeps the one it has."""
        return self.files[slot].name if isinstance(self.cleaned_data[slot], CleanImage) else ""


class AccountForm(forms.Form):
    """An account's settings. The kind is chosen once, on create; a field the kind does not use
    is left out, so it is neither shown nor sent to the service."""

    SECRET_LABELS = {
        ProviderAccount.Kind.MINIMAX: "API key",
        ProviderAccount.Kind.USEAPI: "useapi.net token",
    }
    # While the kind is being picked, studio.css shows only the chosen kind's fields.
    field_css_classes = {"upstream_account": "only-useapi", "region": "only-minimax"}

    kind = forms.ChoiceField(
        choices=[(k, k.label) for k in (ProviderAccount.Kind.MINIMAX, ProviderAccount.Kind.USEAPI)],
        initial=ProviderAccount.Kind.MINIMAX,
        label="Provider",
        widget=forms.RadioSelect,
        template_name="videos/fields/kind.html",
    )
    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "e.g. Studio key 1"})
    )
    secret = forms.CharField(
        label="API key",
        required=False,
        template_name="videos/fields/secret.html",
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
    price_per_video = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=4,
        label="Price per video",
        help_text="What one video costs on this plan; for the usage page and cost quotas.",
        widget=forms.NumberInput(attrs={"step": "any", "placeholder": "0"}),
    )
    price_per_second = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=4,
        label="Price per second",
        help_text="Added for each second of video delivered. Leave blank for none.",
        widget=forms.NumberInput(attrs={"step": "any", "placeholder": "0"}),
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
            names = ("secret", "rpm", "region", "base_url", "default_model")
            for name in (*names, "price_per_video", "price_per_second"):  # it costs nothing
                del self.fields[name]

    def clean(self):
        data = super().clean()
        for price in ("price_per_video", "price_per_second"):
            if price in self.fields and data.get(price) is None and price not in self.errors:
                data[price] = Decimal(0)  # blank: no price
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
