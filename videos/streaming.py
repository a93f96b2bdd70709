"""Serving stored files to members: byte ranges for local disk, signed redirects for S3.

Browsers seek in a <video> with Range requests; without 206 answers the player cannot skip ahead.
"""

import re
from collections.abc import Iterator

from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

CHUNK = 256 * 1024
# ASCII digits, at most 18 (int() refuses more than 4,300): a longer range is ignored, as a
# server may ignore any Range header, and the whole file is served.
_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")


def serve_file(
    range_header: str, field: FieldFile, *, content_type: str, download_name: str | None = None
) -> HttpResponse:
    if not isinstance(default_storage, FileSystemStorage):
        # Object storage serves ranges itself; the signed URL expires (S3_URL_EXPIRY). The
        # store sends the type and the download's name that the link asks for.
        wanted = {"ResponseContentType": content_type}
        if download_name:
            wanted["ResponseContentDisposition"] = content_disposition_header(True, download_name)
        return HttpResponseRedirect(default_storage.url(field.name, parameters=wanted))
    size = field.size
    span = _parse_range(range_header, size)
    if span is None:
        response = FileResponse(field.open("rb"), content_type=content_type)
    elif span == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    else:
        start, end = span
        response = StreamingHttpResponse(
            _read_span(field, start, end), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    return response


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One byte range, as browsers send for media. Multi-range requests get the whole file."""
    match = _RANGE.match(header.strip()) if header else None
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


def _read_span(field: FieldFile, start: int, end: int) -> Iterator[bytes]:
    with field.storage.open(field.name, "rb") as fh:
        fh.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
