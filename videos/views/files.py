"""A video's MP4 and poster, and a prompt image, served to members of its team."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.http import require_GET

from studio.teams.access import require_membership
from videos import access
from videos.naming import download_name
from videos.streaming import serve_file


@require_GET
@login_required
def video_file(request, video_id: int, kind: str):
    video = access.get_video_for_member(require_membership(request), video_id)
    field = video.file if kind == "mp4" else video.poster
    if not field:
        raise Http404("This video has no file yet.")
    download = download_name(video) if request.GET.get("download") else None
    content_type = "video/mp4" if kind == "mp4" else "image/jpeg"
    return serve_file(
        request.headers.get("Range", ""), field, content_type=content_type, download_name=download
    )


@require_GET
@login_required
def image_file(request, image_id: int):
    image = access.get_image_for_member(require_membership(request), image_id)
    content_type = f"image/{image.format.lower()}"
    return serve_file("", image.file, content_type=content_type)
