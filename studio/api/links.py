"""useapi.net's composite ids (reference/useapi-minimax.md §6) and the signed links the API's
answers carry. Only the row id inside an id is trusted: every lookup is scoped to the caller's
team afterwards."""

import re
from datetime import UTC, datetime

from django.core import signing
from django.urls import reverse

from studio import conf
from videos.models import PromptImage, ProviderAccount, Video

# ASCII only: \d and \w also match other scripts' digits ("١٢"), which int() then reads.
_ID = re.compile(r"^user:(\w+)-minimax:([\w.]+)-(video|file):(\d{1,18})$", re.ASCII)
_LINKS = signing.TimestampSigner(salt="studio.api.links")
_FRESH = object()


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account_ref(account: ProviderAccount | None) -> str:
    """How the API names an account: its id, as useapi.net names a hailuoai.video account."""
    return str(account.pk) if account is not None else ""


def video_id(video: Video) -> str:
    """`user:<author>-minimax:<account asked for, or "auto">-video:<id>`. The part before
    "-video:" is written down at creation (Video.id_prefix), so the id stays the same when its
    author or account is deleted; it is worked out only for a row that has none."""
    prefix = video.id_prefix or (
        f"user:{video.author_id or 0}-minimax:{video.requested_account_id or 'auto'}"
    )
    return f"{prefix}-video:{video.pk}"


def file_id(image: PromptImage) -> str:
    """`user:<uploader>-minimax:<account named at upload, or "auto">-file:<id>`, likewise fixed
    at upload (PromptImage.id_prefix)."""
    prefix = image.id_prefix or f"user:{image.uploader_id or 0}-minimax:auto"
    return f"{prefix}-file:{image.pk}"


def parse_id(value: object, kind: str) -> int | None:
    """The row id inside a composite id of `kind` ("video" or "file"), or None if it is not one."""
    match = _ID.match(value) if isinstance(value, str) else None
    if match is None or match.group(3) != kind:
        return None
    return int(match.group(4))


def signed_link(base: str, *, kind: str, pk: int) -> str:
    """A link to a stored file that works without a token until API_LINK_SECONDS pass."""
    token = _LINKS.sign_object({"k": kind, "p": pk})
    return base + reverse("api_media", args=[token])


def read_link(token: str, *, max_age: object = _FRESH) -> tuple[str, int] | None:
    """(kind, pk) from a link that is genuine and not expired (or of any age, with
    max_age=None, for a caller whose token already proves who they are), else None."""
    age = conf.API_LINK_SECONDS if max_age is _FRESH else max_age
    try:
        data = _LINKS.unsign_object(token, max_age=age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    return str(data.get("k")), data["p"]
