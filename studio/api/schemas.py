"""The API's bodies as ninja Schemas: what each endpoint takes (useapi.net's field names and
limits, seeds/000) and what it answers (reference/useapi-minimax.md §5, §6, §9). The OpenAPI
document at /v1/openapi.json is generated from these.

`video_record` is also the replyUrl callback's body (studio/webhooks/deliveries.py).
"""

from typing import Literal

from django.utils import timezone
from ninja import Schema
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
from studio.api.links import account_ref, file_id, iso, signed_link, video_id
from studio.lib import netguard
from studio.lib.errors import ServiceError
from videos.models import PromptImage, ProviderAccount, Video
from videos.providers.catalog import MODELS, OptionRefused, from_useapi
from videos.services import check_prompt

S = Video.Status
# useapi.net's numeric statuses (§5). The studio's "cancelled" has no code there: it reports 3
# (failed, final) with its own label, so a script that knows only useapi's codes stops polling.
STATUS = {
    S.QUEUED: (11, "queued"),
    S.SUBMITTING: (0, "pending"),
    S.PENDING: (0, "pending"),
    S.PROCESSING: (1, "processing"),
    S.COMPLETED: (2, "completed"),
    S.FAILED: (3, "failed"),
    S.MODERATED: (5, "moderated"),
    S.CANCELLED: (3, "cancelled"),
}


# What the endpoints take


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


class VideoCreateIn(ApiIn):
    """POST videos/create, exactly as useapi.net documents it (seeds/000)."""

    account: AccountRef = ""
    prompt: text(strip=False) = ""
    promptOptimization: Flag = None
    fileID: text() = ""
    replyUrl: text(max_length=1024, too_long="must be at most 1,024 characters") = ""
    replyRef: text(max_length=1024, too_long="must be at most 1,024 characters") = ""
    # useapi.net's later fields (reference §4), for the models the studio can send to.
    model: text(max_length=40) = ""
    options: text(max_length=20) = ""
    end_frame_fileID: text() = ""
    maxJobs: whole(low=1, high=10, out_of_range="must be from 1 to 10") = None
    _upstream: tuple[str, str, int | None] = PrivateAttr(default=("", "", None))

    @model_validator(mode="after")
    def _consistent(self):
        if not self.prompt.strip() and not self.fileID:
            raise refusal(
                "prompt is required (unless fileID names a first-frame image): describe your shot."
            )
        try:
            self.prompt = check_prompt(self.prompt, has_image=bool(self.fileID))
        except ServiceError as exc:
            raise refusal(exc.message) from None
        try:
            self._upstream = from_useapi(self.model, self.options)
        except OptionRefused as exc:
            raise refusal(str(exc)) from None  # its message starts with the field's name
        if self.end_frame_fileID and not self.fileID:
            raise refusal("end_frame_fileID needs a first frame too: add fileID.")
        if self.end_frame_fileID and self.end_frame_fileID == self.fileID:
            raise refusal("end_frame_fileID must differ from fileID.")
        return self

    @property
    def upstream(self) -> tuple[str, str, int | None]:
        """MiniMax's model, resolution and duration for useapi.net's model and options."""
        return self._upstream


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


# What they answer


class ErrorOut(Schema):
    """Every answer that is not a success (a 429 or 422 may carry more, as useapi.net's do)."""

    error: str
    code: int


class StatusInfo(Schema):
    code: int
    httpCode: int
    message: str
    debugInfo: str
    serviceTime: int | None = None


class OriginFile(Schema):
    id: str
    url: str
    type: str


class VideoOut(Schema):
    """GET videos/{videoId}: poll until statusFinal is true."""

    videoId: str
    id: str
    desc: str
    status: int
    statusLabel: str
    statusFinal: bool
    percent: int
    message: str
    account: str
    model: str
    width: int | None
    height: int | None
    duration: float | None
    originFiles: list[OriginFile]
    canRetry: bool
    canAppeal: bool
    replyUrl: str
    replyRef: str
    createdAt: str | None
    finishedAt: str | None
    # Present only when they apply.
    renderer: Literal["local"] | None = None
    queuePosition: int | None = None
    videoURL: str | None = None
    downloadURL: str | None = None
    coverURL: str | None = None


class CreatedOut(Schema):
    data: dict[str, str]
    statusInfo: StatusInfo
    videoId: str
    code: int
    replyUrl: str
    replyRef: str


class VideoPage(Schema):
    videos: list[VideoOut]
    lastVideoId: str | None
    code: int


class RunningOut(Schema):
    """One of GET scheduler/'s jobs, and of a 429's runningVideos."""

    account: str
    id: str
    scheduledVideo: str
    videoId: str
    status: int
    statusLabel: str
    started: str | None
    elapsed: str
    replyUrl: str
    replyRef: str


class SlotsOut(Schema):
    account: str
    name: str
    kind: str
    maxJobs: int
    executing: int
    available: int
    enabled: bool
    paused: bool


class AvailableOut(Schema):
    executing: list[RunningOut]
    available: list[SlotsOut]
    queued: int


class FileOut(Schema):
    fileID: str
    ossPath: str
    file_id: str
    file_name: str
    file_type: str
    cdn_url: str
    oss_path: str
    file_scene: int
    file_status: int
    width: int
    height: int
    bytes: int
    createdAt: str | None
    code: int | None = None  # only in the answer to an upload


class FilePage(Schema):
    files: list[FileOut]


class AccountOut(Schema):
    """An account as GET accounts/ shows it. Secrets are never part of it."""

    account: str
    name: str
    kind: str
    maxJobs: int
    executing: int
    rpm: int
    enabled: bool
    paused: bool
    pausedUntil: str | None
    pauseReason: str
    lastError: str
    region: str
    baseUrl: str
    defaultModel: str
    upstreamAccount: str
    supportVideo: bool
    supportMusic: bool
    createdAt: str | None


class VideoDeletedOut(Schema):
    videoId: str
    deleted: bool
    code: int


class FileDeletedOut(Schema):
    fileID: str
    deleted: bool
    code: int


class AccountDeletedOut(Schema):
    account: str
    deleted: bool
    code: int


class UntrackedOut(Schema):
    videoId: str
    tracked: bool
    code: int


def status_info(code: int, message: str) -> dict:
    return {"code": code, "httpCode": 0, "message": message, "debugInfo": str(code)}


def video_out(video: Video, *, base: str) -> VideoOut:
    code, label = STATUS[video.status]
    out = VideoOut(
        videoId=video_id(video),
        id=str(video.pk),
        desc=video.prompt,
        status=code,
        statusLabel=label,
        statusFinal=video.is_final,
        percent=video.percent,
        message=video.error or video.message,
        account=account_ref(video.account),
        model=video.model,
        width=video.width,
        height=video.height,
        duration=video.duration,
        originFiles=[
            OriginFile(
                id=file_id(image),
                url=signed_link(base, kind="image", pk=image.pk),
                type=image.format.lower(),
            )
            for image in (video.image, video.last_image)
            if image is not None
        ],
        canRetry=video.status in (S.FAILED, S.CANCELLED),
        canAppeal=False,
        replyUrl=video.reply_url,
        replyRef=video.reply_ref,
        createdAt=iso(video.created_at),
        finishedAt=iso(video.finished_at),
    )
    # Left unset (so absent from the answer, see the routers' exclude_unset) unless they apply.
    if video.account is not None and not video.account.is_remote:
        out.renderer = "local"  # the built-in renderer: a real MP4, but no AI
    if video.status == S.QUEUED and hasattr(video, "queue_position"):
        out.queuePosition = video.queue_position
    if video.status == S.COMPLETED and video.file:
        out.videoURL = signed_link(base, kind="mp4", pk=video.pk)
        out.downloadURL = signed_link(base, kind="download", pk=video.pk)
    if video.poster:
        out.coverURL = signed_link(base, kind="cover", pk=video.pk)
    return out


def video_record(video: Video, *, base: str) -> dict:
    """The body of GET videos/{videoId}; also the replyUrl callback's body."""
    return video_out(video, base=base).model_dump(exclude_unset=True)


def running_out(video: Video) -> RunningOut:
    started = video.submitted_at or video.created_at
    elapsed = int((timezone.now() - started).total_seconds())
    code, label = STATUS[video.status]
    return RunningOut(
        account=account_ref(video.account),
        id=str(video.pk),
        scheduledVideo=str(video.pk),
        videoId=video_id(video),
        status=code,
        statusLabel=label,
        started=iso(started),
        elapsed=f"{elapsed // 60:02d}:{elapsed % 60:02d}",
        replyUrl=video.reply_url,
        replyRef=video.reply_ref,
    )


def file_out(image: PromptImage, *, base: str) -> FileOut:
    url = signed_link(base, kind="image", pk=image.pk)
    return FileOut(
        fileID=file_id(image),
        ossPath=url,
        file_id=str(image.pk),
        file_name=image.original_name,
        file_type=image.format.lower(),
        cdn_url=url,
        oss_path=url,
        file_scene=10,
        file_status=1,
        width=image.width,
        height=image.height,
        bytes=image.bytes,
        createdAt=iso(image.created_at),
    )


def account_out(account: ProviderAccount, *, running: int) -> AccountOut:
    paused = account.is_paused
    return AccountOut(
        account=account_ref(account),
        name=account.name,
        kind=account.kind,
        maxJobs=account.max_jobs,
        executing=running,
        rpm=account.rpm,
        enabled=account.enabled,
        paused=paused,
        pausedUntil=iso(account.paused_until) if paused else None,
        pauseReason=account.pause_reason if paused else "",
        lastError=account.last_error,
        region=account.region,
        baseUrl=account.base_url,
        defaultModel=account.default_model,
        upstreamAccount=account.upstream_account,
        supportVideo=True,
        supportMusic=False,
        createdAt=iso(account.created_at),
    )
