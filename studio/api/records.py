"""The REST API's words for the studio's rows: useapi.net's composite ids and JSON shapes
(reference/useapi-minimax.md §5, §6, §9), and the signed links its answers carry.

Used by the API views and by replyUrl callbacks, which send the same body GET videos/{videoId}
answers. Reads only.
"""

import re
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

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
# ASCII only: \d and \w also match other scripts' digits ("١٢"), which int() then reads.
_ID = re.compile(r"^user:(\w+)-minimax:([\w.]+)-(video|file):(\d{1,18})$", re.ASCII)
_LINKS = signing.TimestampSigner(salt="studio.api.links")


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account_ref(account: ProviderAccount | None) -> str:
    """How the API names an account: its id, as useapi.net names a hailuoai.video account."""
    return str(account.pk) if account is not None else ""


def video_id(video: Video) -> str:
    """`user:<author>-minimax:<account asked for, or "auto">-video:<id>`, fixed at creation."""
    account = video.requested_account_id or "auto"
    return f"user:{video.author_id or 0}-minimax:{account}-video:{video.pk}"


def file_id(image: PromptImage) -> str:
    return f"user:{image.uploader_id or 0}-minimax:auto-file:{image.pk}"


def parse_id(value: object, kind: str) -> int | None:
    """The row id inside a composite id of `kind` ("video" or "file"), or None if it is not one.
    Only the row id is trusted: every lookup is scoped to the caller's team afterwards."""
    match = _ID.match(value) if isinstance(value, str) else None
    if match is None or match.group(3) != kind:
        return None
    return int(match.group(4))


def signed_link(base: str, *, kind: str, pk: int) -> str:
    """A link to a stored file that works without a token until API_LINK_SECONDS pass."""
    token = _LINKS.sign_object({"k": kind, "p": pk})
    return base + reverse("api_media", args=[token])


_FRESH = object()


def read_link(token: str, *, max_age: object = _FRESH) -> tuple[str, int] | None:
    """(kind, pk) from a link that is genuine and not expired (or of any age, with
    max_age=None, for a caller whose token already proves who they are), else None."""
    age = settings.API_LINK_SECONDS if max_age is _FRESH else max_age
    try:
        data = _LINKS.unsign_object(token, max_age=age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    return str(data.get("k")), data["p"]


def video_record(video: Video, *, base: str) -> dict:
    """The body of GET videos/{videoId}; also the replyUrl callback's body."""
    code, label = STATUS[video.status]
    record = {
        "videoId": video_id(video),
        "id": str(video.pk),
        "desc": video.prompt,
        "status": code,
        "statusLabel": label,
        "statusFinal": video.is_final,
        "percent": video.percent,
        "message": video.error or video.message,
        "account": account_ref(video.account),
        "model": video.model,
        "width": video.width,
        "height": video.height,
        "duration": video.duration,
        "originFiles": [
            {
                "id": file_id(image),
                "url": signed_link(base, kind="image", pk=image.pk),
                "type": image.format.lower(),
            }
            for image in (video.image, video.last_image)
            if image is not None
        ],
        "canRetry": video.status in (S.FAILED, S.CANCELLED),
        "canAppeal": False,
        "replyUrl": video.reply_url,
        "replyRef": video.reply_ref,
        "createdAt": iso(video.created_at),
        "finishedAt": iso(video.finished_at),
    }
    if video.account is not None and not video.account.is_remote:
        record["renderer"] = "local"  # the built-in renderer: a real MP4, but no AI
    if video.status == S.QUEUED and hasattr(video, "queue_position"):
        record["queuePosition"] = video.queue_position
    if video.status == S.COMPLETED and video.file:
        record["videoURL"] = signed_link(base, kind="mp4", pk=video.pk)
        record["downloadURL"] = signed_link(base, kind="download", pk=video.pk)
    if video.poster:
        record["coverURL"] = signed_link(base, kind="cover", pk=video.pk)
    return record


def running_record(video: Video) -> dict:
    """One of GET scheduler/'s jobs, and of a 429's runningVideos."""
    started = video.submitted_at or video.created_at
    elapsed = int((timezone.now() - started).total_seconds())
    return {
        "account": account_ref(video.account),
        "id": str(video.pk),
        "scheduledVideo": str(video.pk),
        "videoId": video_id(video),
        "status": STATUS[video.status][0],
        "statusLabel": STATUS[video.status][1],
        "started": iso(started),
        "elapsed": f"{elapsed // 60:02d}:{elapsed % 60:02d}",
        "replyUrl": video.reply_url,
        "replyRef": video.reply_ref,
    }


def file_record(image: PromptImage, *, base: str) -> dict:
    url = signed_link(base, kind="image", pk=image.pk)
    return {
        "fileID": file_id(image),
        "ossPath": url,
        "file_id": str(image.pk),
        "file_name": image.original_name,
        "file_type": image.format.lower(),
        "cdn_url": url,
        "oss_path": url,
        "file_scene": 10,
        "file_status": 1,
        "width": image.width,
        "height": image.height,
        "bytes": image.bytes,
        "createdAt": iso(image.created_at),
    }


def account_record(account: ProviderAccount, *, running: int) -> dict:
    """An account as GET accounts/ shows it. Secrets are never part of it."""
    return {
        "account": account_ref(account),
        "name": account.name,
        "kind": account.kind,
        "maxJobs": account.max_jobs,
        "executing": running,
        "rpm": account.rpm,
        "enabled": account.enabled,
        "paused": account.is_paused,
        "pausedUntil": iso(account.paused_until) if account.is_paused else None,
        "pauseReason": account.pause_reason if account.is_paused else "",
        "lastError": account.last_error,
        "region": account.region,
        "baseUrl": account.base_url,
        "defaultModel": account.default_model,
        "upstreamAccount": account.upstream_account,
        "supportVideo": True,
        "supportMusic": False,
        "createdAt": iso(account.created_at),
    }
