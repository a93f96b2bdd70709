"""What the gallery polls: one request per page for every card in progress, and one card."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio.teams.access import require_membership
from videos import access, selectors


@require_GET
@login_required
def video_card(request, video_id: int):
    """One card's fragment; has no side effects."""
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    video = selectors.video_with_position(video=video)
    return render(request, "videos/gallery.html#card", {"video": video})


@require_GET
@login_required
def poll(request):
    raise NotImplementedError  # TODO(H5)
