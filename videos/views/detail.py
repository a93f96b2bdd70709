"""One video: its detail page (or a dialog over the gallery), reuse, retry and continue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from studio.lib.errors import ServiceError
from studio.teams.access import require_membership
from videos import access, selectors, selectors_detail, services
from videos.forms import VideoForm
from videos.views.gallery import composer_context, gallery_with_composer


@require_GET
@login_required
@vary_on_headers("HX-Request")  # the dialog and the page share a URL
def video_detail(request, video_id: int):
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    detail = selectors_detail.video_detail(
        video=video, membership=membership, site=selectors_detail.site_address(request)
    )
    # Over the gallery the buttons swap its composer and grid; the full page has neither.
    context = {"detail": detail, "video": detail.video, "full_page": not request.htmx}
    template = "videos/detail.html#dialog" if request.htmx else "videos/detail.html"
    return render(request, template, {**context, "nav": "gallery"})


@require_GET
@login_required
def video_reuse(request, video_id: int):
    """The composer filled with everything the video asked for, images included."""
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    initial = selectors_detail.composer_initial(video=video)
    return _composer(request, VideoForm(initial=initial, team=membership.team))


@require_POST
@login_required
def video_retry(request, video_id: int):
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    try:
        retry = services.video_retry(video=video, membership=membership)
    except ServiceError as exc:
        return _refused(request, exc)
    if not request.htmx:
        messages.success(request, "Retrying: the new video is queued at the top of the gallery.")
        return redirect("gallery")
    retry = selectors.video_with_position(video=retry)
    return render(request, "videos/detail.html#retried", {"video": retry})


@require_POST
@login_required
def video_continue(request, video_id: int):
    """The composer filled like Reuse, with the video's last frame as the first frame."""
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    try:
        frame = services.video_last_frame(video=video, membership=membership)
    except ServiceError as exc:
        return _refused(request, exc)
    initial = selectors_detail.composer_initial(video=video, first_frame=frame)
    return _composer(request, VideoForm(initial=initial, team=membership.team))


def _composer(request, form: VideoForm):
    """htmx swaps just the composer; otherwise the gallery's first page with it filled."""
    if request.htmx:
        context = composer_context(require_membership(request), form)
        return render(request, "videos/gallery.html#form", context)
    return gallery_with_composer(request, require_membership(request), form)


def _refused(request, exc: ServiceError):
    """The gallery, with the refusal as its message (htmx: the browser goes there)."""
    messages.error(request, exc.message)
    if request.htmx:
        return HttpResponseClientRedirect(reverse("gallery"))
    return redirect("gallery")
