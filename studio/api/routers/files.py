"""files/: the prompt images a create's fileID names. An upload is the raw body with an image
Content-Type, or one file of a multipart form; it is checked, re-encoded and stored."""

from typing import Annotated

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import Router

from studio import conf
from studio.api.access import ApiCaller
from studio.api.errors import ApiError
from studio.api.params import StrictQuery, content_length
from studio.api.routers import answers, base
from studio.api.routers.videos import row_id
from studio.api.schemas import FileDeletedOut, FileListIn, FileOut, FilePage, file_out
from videos import access, selectors, services
from videos.images import clean_image

router = Router(tags=["files"])
IMAGE_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/webp")
_BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            **dict.fromkeys(("image/png", "image/jpeg", "image/webp"), _BINARY),
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


@router.post(
    "/files/",
    response=answers({200: FileOut}, 503),
    url_name="api_files",
    operation_id="fileUpload",
    summary="Upload a prompt image",
    description="The raw body with its Content-Type (image/png, image/jpeg or image/webp), or "
    f"one file of a multipart/form-data body; at most {conf.MAX_IMAGE_BYTES // 2**20} MB. "
    "A 503 (with Retry-After) means this server is busy decoding images: send it again.",
    openapi_extra=UPLOAD_BODY,
    exclude_unset=True,
)
def file_upload(request):
    caller: ApiCaller = request.auth
    upload, name, content_type = _upload(request)
    size = upload.size if hasattr(upload, "size") else content_length(request)
    clean = clean_image(upload, name=name, content_type=content_type, size=size or None)
    image = services.image_store(
        team=caller.membership.team, user=caller.membership.user, image=clean, original_name=name
    )
    out = file_out(image, base=base(request))
    out.code = 200
    return out


def _upload(request: HttpRequest):
    """The image of POST files/: the raw body with an image Content-Type, or one multipart file."""
    if request.content_type == "multipart/form-data":
        try:
            parts = list(request.FILES.values())
        except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError) as exc:
            raise ApiError(400, f"The form body could not be read: {exc}") from None
        if len(parts) != 1:
            raise ApiError(400, f"Send one image file in the form; this one has {len(parts)}.")
        return parts[0], parts[0].name, parts[0].content_type or ""
    if request.content_type not in IMAGE_TYPES:
        raise ApiError(
            400,
            "Send the image as the raw body with Content-Type image/png, image/jpeg or "
            f"image/webp (this request says {request.content_type or 'nothing'}), "
            "or as one file in multipart/form-data.",
        )
    ext = request.content_type.split("/")[1].replace("jpeg", "jpg")
    # The request itself is the file: clean_image reads it straight from the stream, at most
    # MAX_IMAGE_BYTES + 1 bytes (request.body would refuse anything over 2.5 MB).
    return request, f"upload.{ext}", request.content_type


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
