"""media/: the files behind the links in answers (videoURL, downloadURL, coverURL, ossPath,
originFiles). No token is needed while a link is fresh; an older link works with the team's."""

from django.http import Http404, HttpRequest
from ninja import Router

from studio.api.access import ApiCaller, api_caller
from studio.api.errors import error
from studio.api.links import read_link
from videos import access
from videos.streaming import serve_file

router = Router(tags=["media"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_FILE = dict.fromkeys(("image/png", "image/jpeg", "image/webp", "video/mp4"), _BINARY)
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
MEDIA_DOC = {
    "parameters": [
        {
            "name": "Range",
            "in": "header",
            "required": False,
            "description": "One byte range, e.g. bytes=0-1023.",
            "schema": {"type": "string"},
        }
    ],
    "responses": {
        200: {"description": "The file (an image, a poster frame or an MP4).", "content": _FILE},
        206: {"description": "The byte range asked for with Range.", "content": _FILE},
        302: {"description": "With object storage: a redirect to the file."},
        400: {"description": "Text the studio cannot keep in the request.", "content": _ERROR},
        401: {"description": "The link has expired: GET the video again.", "content": _ERROR},
        404: {"description": "The file is gone, or the video has no file yet.", "content": _ERROR},
        416: {"description": "The range is outside the file."},
    },
}


@router.get(
    "/media/{token}",
    auth=None,
    url_name="api_media",
    operation_id="mediaGet",
    summary="A file behind a signed link",
    openapi_extra=MEDIA_DOC,
)
def media_get(request, token: str):
    found = read_link(token)
    caller = api_caller(request.headers.get("Authorization", ""))
    if found is None and caller is not None:
        found = read_link(token, max_age=None)  # an expired link, with the token
    if found is None:
        return error(401, "This link has expired; GET the video again for a fresh one.")
    kind, pk = found
    return _serve(request, kind, pk, caller)


@router.api_operation(
    ["HEAD"],
    "/media/{token}",
    auth=None,
    url_name="api_media",
    operation_id="mediaHead",
    summary="The headers of a file behind a signed link",
    openapi_extra=MEDIA_DOC,
)
def media_head(request, token: str):
    return media_get(request, token)


def _serve(request: HttpRequest, kind: str, pk: int, caller: ApiCaller | None):
    membership = caller and caller.membership
    try:
        if kind == "image":
            image = access.get_image_for_link(pk, membership=membership)
            field, content_type, download = image.file, f"image/{image.format.lower()}", None
        else:
            video = access.get_video_for_link(pk, membership=membership)
            field = video.poster if kind == "cover" else video.file
            content_type = "image/jpeg" if kind == "cover" else "video/mp4"
            download = f"studio-video-{video.pk}.mp4" if kind == "download" else None
    except Http404:
        return error(404, "Not found.")
    if not field:
        return error(404, "This video has no file yet.")
    range_header = request.headers.get("Range", "")
    return serve_file(range_header, field, content_type=content_type, download_name=download)
