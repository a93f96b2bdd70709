"""What each endpoint of the API takes, as pydantic models: useapi.net's field names and limits
(seeds/000, reference/useapi-minimax.md §4). Unknown fields are refused by name; every
documented one is known. Their answers are in schemas.py.
"""

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator, model_validator

from studio.api.fields import (
    AccountRef,
    Flag,
    Url,
    choice,
    refusal,
    text,
    whole,
)
from studio.lib import netguard
from studio.lib.errors import ServiceError
from videos.models import ProviderAccount
from videos.providers.api_models import DOCUMENTED, ApiChoice, api_choice, reference_fields
from videos.providers.catalog import MODELS, OptionRefused
from videos.services import check_prompt


class ApiIn(BaseModel):
    """Refuses fields it does not know, naming the ones it takes. A plain pydantic model:
    ninja's Schema would hand the validators a wrapper, not the fields as sent."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _known_fields_only(cls, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                raise refusal(
                    f"Unknown field(s): {', '.join(unknown)}. "
                    f"This endpoint takes: {', '.join(cls.model_fields)}."
                )
        return data


_REF = text(max_length=120)


class VideoCreateIn(ApiIn):
    """POST videos/create, exactly as useapi.net documents it (seeds/000, reference §4): every
    documented field is known; which model takes which is checked in api_models."""

    account: AccountRef = ""
    prompt: text(strip=False) = ""
    promptOptimization: Flag = None
    fileID: _REF = ""
    replyUrl: text(max_length=1024, too_long="must be at most 1,024 characters") = ""
    replyRef: text(max_length=1024, too_long="must be at most 1,024 characters") = ""
    maxJobs: whole(low=1, high=10, out_of_range="must be from 1 to 10") = None
    # useapi.net's later fields (reference §4); which models take each is in api_models.
    model: text(max_length=40) = ""
    options: text(max_length=20) = ""
    end_frame_fileID: _REF = ""
    aspectRatio: text(max_length=10) = ""
    resolution: text(max_length=10) = ""
    duration: whole(low=1, high=60) = None
    fileID2: _REF = ""
    fileID3: _REF = ""
    fileID4: _REF = ""
    fileID5: _REF = ""
    fileID6: _REF = ""
    fileID7: _REF = ""
    fileID8: _REF = ""
    fileID9: _REF = ""
    fileID10: _REF = ""
    fileID11: _REF = ""
    fileID12: _REF = ""
    fileID13: _REF = ""
    fileID14: _REF = ""
    videoFileID1: _REF = ""
    videoFileID2: _REF = ""
    videoFileID3: _REF = ""
    audioFileID1: _REF = ""
    audioFileID2: _REF = ""
    audioFileID3: _REF = ""
    _choice: ApiChoice = PrivateAttr(default_factory=ApiChoice)
    _references: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self):
        sent = {name: getattr(self, name) for name in DOCUMENTED if getattr(self, name)}
        try:
            self._choice = api_choice(self.model, sent)
            self._references = reference_fields(sent)
        except OptionRefused as exc:
            raise refusal(exc.message) from None  # the message starts with the field's name
        if self._references and not self.fileID:
            raise refusal(
                f"{self._references[0]} needs fileID too: fileID is the first reference image, "
                f"{self._references[0]} the next."
            )
        if self._choice.needs_image and not self.fileID:
            raise refusal(
                f"fileID is required with {self.model}: the image it starts from. "
                "Upload it with POST /v1/minimax/files/."
            )
        if self._choice.text_only and self.fileID:
            raise refusal(
                f"fileID is not taken by {self.model}, a text-to-video model: choose an "
                f"image-to-video one ({self.model.replace('T2V', 'I2V')}) or leave fileID out."
            )
        if self._choice.subject and not self.fileID:
            raise refusal(
                "fileID is required with S2V-01: the face (character) image the video's "
                "subject takes. Upload it with POST /v1/minimax/files/."
            )
        if not self.prompt.strip() and not self.fileID:
            raise refusal(
                "prompt is required (unless fileID names a first-frame image): describe your shot."
            )
        try:
            self.prompt = check_prompt(
                self.prompt, has_image=bool(self.fileID), limit=self._choice.prompt_max
            )
        except ServiceError as exc:
            raise refusal(exc.message) from None
        if self.end_frame_fileID and not self.fileID:
            raise refusal("end_frame_fileID needs a first frame too: add fileID.")
        if self.end_frame_fileID and self.end_frame_fileID == self.fileID:
            raise refusal("end_frame_fileID must differ from fileID.")
        images = [self.fileID, self.end_frame_fileID, *(ref for _, ref in self.references)]
        given = [image for image in images if image]
        if len(set(given)) != len(given):
            raise refusal(
                "The same fileID is given twice among fileID, end_frame_fileID and "
                "fileID2..: each image slot takes a different image."
            )
        return self

    @property
    def choice(self) -> ApiChoice:
        """The model, options and pass-through fields in the studio's terms."""
        return self._choice

    @property
    def references(self) -> list[tuple[str, str]]:
        """(field, fileID) of the extra reference images, fileID2 first."""
        return [(name, getattr(self, name)) for name in self._references]


class AvailableIn(ApiIn):
    """GET scheduler/available?model=: only the accounts that can run that model."""

    model: text(max_length=40) = ""

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        if model:
            try:
                api_choice(model, {})
            except OptionRefused as exc:
                # A field's refusal is shown after its name: do not say "model" twice.
                raise refusal(exc.message.removeprefix("model ")) from None
        return model

    @property
    def useapi_only(self) -> bool:
        return bool(self.model) and api_choice(self.model, {}).useapi_only


class VideoListIn(ApiIn):
    account: AccountRef = ""
    limit: whole(low=1, high=100) = None
    lastVideoId: text() = ""


class FileListIn(ApiIn):
    account: AccountRef = ""
    limit: whole(low=1, high=100) = None
    lastFileID: text() = ""


class CancelIn(ApiIn):
    videoId: text(required=True)


_KINDS = [ProviderAccount.Kind.MINIMAX.value, ProviderAccount.Kind.USEAPI.value]
_REGIONS = [value for value, _ in ProviderAccount._meta.get_field("region").choices]


class AccountIn(ApiIn):
    """POST accounts/: a MiniMax API key or a useapi.net token. Secrets go in, never out."""

    kind: choice(_KINDS) = ""
    name: text(max_length=100, required=True)
    apiKey: text() = ""
    token: text() = ""
    account: text(max_length=100) = ""
    maxJobs: whole(low=1, high=10, required=True)
    rpm: whole(low=1, high=1000) = None
    region: choice(_REGIONS) = ""
    baseUrl: Url = ""
    defaultModel: choice(list(MODELS)) = ""

    @field_validator("baseUrl")
    @classmethod
    def _public_base_url(cls, url: str) -> str:
        # The service checks it too, but would name the web form's field.
        if url:
            try:
                netguard.check_url(url, field="baseUrl", allow_http=True)
            except netguard.UnsafeURL as exc:
                raise refusal(exc.problem) from None
        return url

    @model_validator(mode="after")
    def _secret_given(self):
        field = "token" if self.kind == ProviderAccount.Kind.USEAPI else "apiKey"
        if not getattr(self, field):
            raise refusal(f"{field} is required for a {self.kind or 'minimax'} account.")
        return self

    def service_fields(self) -> dict:
        """account_create's keyword arguments."""
        kind = self.kind or ProviderAccount.Kind.MINIMAX
        fields = {
            "kind": kind,
            "name": self.name,
            "max_jobs": self.maxJobs,
            "rpm": self.rpm or 5,
            "region": self.region or "global",
            "base_url": self.baseUrl,
            "default_model": self.defaultModel,
            "secret": self.token if kind == ProviderAccount.Kind.USEAPI else self.apiKey,
        }
        if kind == ProviderAccount.Kind.USEAPI:
            fields["upstream_account"] = self.account
        return fields
