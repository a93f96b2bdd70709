"""What the gallery polls: one request per page for every card in progress, and one card."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotModified
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio.teams.access import require_membership
from videos import access, selectors, selectors_live
from videos.forms_gallery import LivePollForm


@require_GET
@login_required
def video_card(request, video_id: int):
    """One card's fragment; has no side effects."""
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    video = selectors.video_with_position(video=video)
    selectors.mark_favourites(user=request.user, videos=[video])
    selectors_live.live_cards(membership=membership, videos=[video])
    return render(request, "videos/gallery.html#card", {"video": video})


@require_GET
@login_required
def poll(request):
    """Every card in progress on a gallery page at once (`cards=<id>-<key>,…`): out-of-band
    swaps of the cards whose state changed since the page's keys, 204 when none did, 304 when
    the ETag the client holds still matches. Has no side effects."""
    membership = require_membership(request)
    form = LivePollForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(form.errors["cards"]), content_type="text/plain")
    result = selectors_live.poll_cards(membership=membership, seen=form.cleaned_data["cards"])
    etag = f'"{result.etag}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    elif not result.changed and not result.gone:
        response = HttpResponse(status=204)
    else:
        response = render(request, "videos/gallery/_live.html#poll", {"poll": result})
    response["ETag"] = etag
    # Revalidated every time: a poll must never be answered from a cache.
    response["Cache-Control"] = "private, no-cache"
    return response
