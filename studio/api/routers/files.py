"""files/: the prompt images a create's fileID names. An upload is the raw body (whatever its
Content-Type says: the bytes decide), or one file of a multipart form; it is checked, re-encoded
and stored."""

import io
from typing import Annotated, BinaryIO

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import Router

from studio import conf
from studio.api.access import ApiCaller
from studio.api.bodies import ApiIn, FileListIn
from studio.api.errors import ApiError
from studio.api.fields import AccountRef
from studio.api.params import StrictQuery, content_length
from studio.api.routers import answers, base
from studio.api.routers.videos import row_id
from studio.api.schemas import FileDeletedOut, FileOut, FilePage, file_out
from videos import access, selectors, services
from videos.images import CleanImage, clean_image
from videos.models import ProviderAccount

router = Router(tags=["files"])
# How PNG and JPEG files begin (a WebP is "RIFF", a length, then "WEBP"): the formats Pillow's
# decoders that clean_image tries recognise, by the same bytes.
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            **dict.fromkeys(
                ("image/png", "image/jpeg", "image/webp", "application/octet-stream"), _BINARY
            ),
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                    "description": "Exactly one file part; its field name is free.",
                }
            },
        },
    }
}


@router.get(
    "/files/",
    response=answers({200: FilePage}),
    url_name="api_files",
    operation_id="fileList",
    summary="List the team's prompt images, newest first",
    exclude_unset=True,
)
def file_list(request, query: Annotated[FileListIn, StrictQuery()]):
    caller: ApiCaller = request.auth
    before = row_id(query.lastFileID, "file", field="lastFileID") if query.lastFileID else None
    images = selectors.image_list(
        team=caller.membership.team, before=before, limit=query.limit or 10
    )
    here = base(request)
    return FilePage(files=[file_out(i, base=here) for i in images])


class FileUploadIn(ApiIn):
    account: AccountRef = ""


@router.post(
    "/files/",
    response=answers({200: FileOut}, 404, 503),
    url_name="api_files",
    operation_id="fileUpload",
    summary="Upload a prompt image",
    description="The image's bytes as the raw body, or one file of a multipart/form-data body; "
    f"at most {conf.MAX_IMAGE_BYTES // 2**20} MB. A raw body is judged by its bytes alone: any "
    "Content-Type goes (image/jpeg for a WebP, application/octet-stream, curl --data-binary's "
    "default), and the answer's file_type says what it really is, PNG, JPEG or WebP. With "
    "`account` (one of the team's, else a 404) the fileID names that account, as useapi.net's "
    'does; without it the fileID says "auto". A 503 (with Retry-After) means this server is '
    "busy decoding images: send it again.",
    openapi_extra=UPLOAD_BODY,
    exclude_unset=True,
)
def file_upload(request, query: Annotated[FileUploadIn, StrictQuery()]):
    caller: ApiCaller = request.auth
    account = _upload_account(caller, query.account) if query.account else None
    clean, name = _cleaned_upload(request)
    image = services.image_store(
        team=caller.membership.team,
        user=caller.membership.user,
        image=clean,
        original_name=name,
        account=account,
    )
    out = file_out(image, base=base(request))
    out.code = 200
    return out


def _upload_account(caller: ApiCaller, ref: str) -> ProviderAccount:
    try:
        return access.get_account_for_member(caller.membership, ref)
    except Http404:
        team = caller.membership.team.name
        raise ApiError(
            404,
            f"account {ref} is not one of {team}'s accounts; GET scheduler/available lists "
            "them, or leave account out to upload for any of them.",
        ) from None


def _cleaned_upload(request: HttpRequest) -> tuple[CleanImage, str]:
    """The image of POST files/, checked and re-encoded, and the name to keep with it."""
    if request.content_type == "multipart/form-data":
        part = _form_file(request)
        return clean_image(
            part, name=part.name, content_type=part.content_type or "", size=part.size
        ), part.name
    declared = content_length(request)
    # Anything else is the raw body, judged by its bytes only: useapi.net tells its users to
    # send WebP as image/jpeg, and curl --data-binary says application/x-www-form-urlencoded.
    # Read straight from the stream, never through request.POST (which would parse it as a
    # form) or request.body (which refuses anything over 2.5 MB); over the cap, clean_image
    # refuses it from the declared size without reading it.
    body = request if declared > conf.MAX_IMAGE_BYTES else _raw_image(request)
    clean = clean_image(body, size=declared or None)
    return clean, f"upload.{clean.extension}"


def _form_file(request: HttpRequest) -> UploadedFile:
    try:
        parts = list(request.FILES.values())
    except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError) as exc:
        raise ApiError(400, f"The form body could not be read: {exc}") from None
    if len(parts) != 1:
        raise ApiError(400, f"Send one image file in the form; this one has {len(parts)}.")
    return parts[0]


def _raw_image(request: HttpRequest) -> BinaryIO:
    body = request.read(conf.MAX_IMAGE_BYTES + 1)
    if not body.startswith(_SIGNATURES) and not (body[:4] == b"RIFF" and body[8:12] == b"WEBP"):
        raise ApiError(400, _not_an_image(body))
    return io.BytesIO(body)


def _not_an_image(body: bytes) -> str:
    seen = "it is empty"
    if body:
        head = body[:8]
        seen = f"it starts with the bytes {head.hex(' ')}"
        if head.isascii() and head.decode().isprintable():
            seen += f', "{head.decode()}"'
    return (
        f"The body is not a PNG, JPEG or WebP image ({seen}). Send the image's own bytes as "
        "the body, or one file in a multipart/form-data body."
    )


@router.delete(
    "/files/{fileID}",
    response=answers({200: FileDeletedOut}),
    url_name="api_file",
    operation_id="fileDelete",
    summary="Delete a prompt image",
    description="As on useapi.net, deleting a file that is not there is not an error.",
)
def file_delete(request, fileID: str):
    caller: ApiCaller = request.auth
    pk = row_id(fileID, "file", field="fileID")
    try:
        image = access.get_image_for_member(caller.membership, pk)
    except Http404:
        image = None  # as useapi.net: deleting what is not there is not an error
    if image is not None:
        services.image_delete(image=image)
    return FileDeletedOut(fileID=fileID, deleted=True, code=200)
