"""Ownership and the Trash: cancel, delete (to the Trash), restore, the Trash page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from studio.lib.errors import ServiceError
from studio.teams.access import require_membership
from videos import access, selectors, services


@require_POST
@login_required
def video_cancel(request, video_id: int):
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    if not services.video_cancel(video=video, by=request.user):
        messages.info(request, "That video had already finished.")
    if request.htmx:
        video.refresh_from_db()
        video = selectors.video_with_position(video=video)
        return render(request, "videos/gallery.html#card", {"video": video})
    return redirect("gallery")


@require_POST
@login_required
def video_delete(request, video_id: int):
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    try:
        services.video_delete(video=video)
    except ServiceError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return HttpResponse("")
    return redirect("gallery")


@require_POST
@login_required
def video_restore(request, video_id: int):
    raise NotImplementedError  # TODO(H1)


@require_GET
@login_required
def trash(request):
    raise NotImplementedError  # TODO(H1)
