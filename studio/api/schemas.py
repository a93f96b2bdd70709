"""What the API answers, as ninja Schemas (reference/useapi-minimax.md §5, §6, §9); what it
takes is in bodies.py. The OpenAPI document at /v1/openapi.json is generated from both.

`video_record` is also the replyUrl callback's body (studio/webhooks/deliveries.py).
"""

from datetime import UTC, datetime, timedelta
from typing import Literal

from django.utils import timezone
from ninja import Schema

from studio import conf
from studio.api.links import account_ref, file_id, iso, signed_link, video_id
from videos.models import PromptImage, ProviderAccount, Video

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
    """An account that can start a video now, as GET scheduler/available lists it."""

    account: str
    name: str
    kind: str
    maxJobs: int
    executing: int  # its running videos
    available: int  # maxJobs - executing - queued, capped by the creates its rate still allows
    queued: int  # queued videos pinned to it (`account` on the create): they take its slots
    enabled: bool
    paused: bool


class AvailableOut(Schema):
    """`available` lists only the accounts a create could start on now, most free first; an
    empty list means wait. `executing` is every running video, `queued` the team's queue."""

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
    """An account as GET accounts/ shows it. Secrets are never part of it. `error` is present
    only when the account cannot take work (disabled, paused) or is failing: useapi.net's
    scripts skip an account that has it."""

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
    error: str | None = None  # present only when it applies (the routers' exclude_unset)


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
            for image in (video.image, video.last_image, video.subject_image)
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


# Why an account is paused (ProviderAccount.pause_kind), said before its pause_reason.
_PAUSE_KINDS = {"rate": "rate limited", "credits": "out of credits", "hold": "on hold"}


def account_problem(account: ProviderAccount, *, last_ok: datetime | None) -> str | None:
    """Why a script should not count on the account now, or None if it is healthy. `last_ok`
    is its last upstream success (videos.selectors.account_last_ok)."""
    if not account.enabled:
        return f"disabled: {account.last_error or 'by an admin'}"
    if account.is_paused:
        until = account.paused_until.astimezone(UTC).strftime("%H:%M")
        kind, reason = _PAUSE_KINDS.get(account.pause_kind, ""), account.pause_reason
        if reason.lower().startswith(kind):
            kind = ""  # "Rate limited: ..." says it already
        why = ": ".join(w for w in (kind, reason) if w) or "paused"
        return f"paused until {until} UTC: {why}"
    error_at = account.last_error_at
    if error_at is None or not account.last_error:
        return None
    if error_at < timezone.now() - timedelta(seconds=conf.ACCOUNT_ERROR_FRESH_SECONDS):
        return None
    if last_ok is not None and last_ok >= error_at:
        return None
    # A pause records its reason as the last error too; once the pause is over the account is
    # given its chance again, as the scheduler gives it, rather than reported failing.
    if account.paused_until is not None and error_at <= account.paused_until:
        return None
    return f"failing: {account.last_error}"


def account_out(
    account: ProviderAccount, *, running: int, last_ok: datetime | None = None, admin: bool = True
) -> AccountOut:
    """The account as GET accounts/ shows it. A member (`admin` False) sees what a script needs
    to choose an account, not its upstream's address, id or raw error text, which an admin set
    up and may hold a gateway's query string or internal host names."""
    paused = account.is_paused
    out = AccountOut(
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
        lastError=account.last_error if admin else "",
        region=account.region,
        baseUrl=account.base_url if admin else "",
        defaultModel=account.default_model,
        upstreamAccount=account.upstream_account if admin else "",
        supportVideo=True,
        supportMusic=False,
        createdAt=iso(account.created_at),
    )
    # Left unset unless it applies: absent, not null, on a healthy account.
    problem = account_problem(account, last_ok=last_ok)
    if problem is not None:
        out.error = problem
    return out
