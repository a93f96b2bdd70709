"""Several selected videos at once: delete, add to or remove from a collection, zip, join.

The cards' checkboxes belong to the bulk bar's form (form="bulk-form"), so this works without
JavaScript: the answer is a redirect back with a message. With htmx the bar posts each action
(the zip excepted, a plain download) and gets back the message, out-of-band removals of the
cards that left the view, and a joined video's new card.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from studio.lib.errors import ServiceError
from studio.teams.access import require_membership
from videos import access, selectors, services
from videos.forms_bulk import BulkForm


@require_POST
@login_required
def bulk(request):
    membership = require_membership(request)
    form = BulkForm(request.POST)
    if not form.is_valid():
        return _answer(request, form.error_text(), ok=False)
    data = form.cleaned_data
    try:
        videos = access.get_videos_for_member(membership, data["ids"])
        return _ACTIONS[data["action"]](request, membership, videos, data)
    except ServiceError as exc:
        return _answer(request, exc.message, ok=False)


def _delete(request, membership, videos, data) -> HttpResponse:
    report = services.videos_trash(membership=membership, videos=videos)
    return _answer(request, str(report), ok=bool(report.trashed), removed=report.trashed)


def _collection(request, membership, videos, data) -> HttpResponse:
    try:
        collection = access.get_collection_for_member(membership, data["collection"])
    except Http404:
        raise ServiceError("That collection no longer exists; reload the page.") from None
    if data["action"] == "add":
        added = services.collection_add(collection=collection, membership=membership, videos=videos)
        kept = len(videos) - added
        already = f"; {kept} were in it already." if kept else "."
        return _answer(request, f"{added} added to “{collection.name}”{already}")
    taken = services.collection_remove(collection=collection, membership=membership, videos=videos)
    # The remove button shows only on the collection's own gallery: the cards leave the view.
    text = f"{taken} removed from “{collection.name}”."
    return _answer(request, text, removed=[v.pk for v in videos])


def _zip(request, membership, videos, data) -> HttpResponse:
    download = services.videos_zip(membership=membership, videos=videos)
    response = StreamingHttpResponse(download.chunks, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    response["Cache-Control"] = "no-store"
    return response


def _join(request, membership, videos, data) -> HttpResponse:
    video = services.video_join(membership=membership, videos=videos)
    text = f"Joining {len(videos)} clips into one video; it appears at the top of the gallery."
    return _answer(request, text, card=selectors.video_with_position(video=video))


_ACTIONS = {
    "delete": _delete,
    "add": _collection,
    "remove": _collection,
    "zip": _zip,
    "join": _join,
}


def _answer(request, text: str, *, ok: bool = True, removed=(), card=None) -> HttpResponse:
    if request.htmx:
        context = {"text": text, "ok": ok, "removed": removed, "video": card}
        template = "videos/gallery/_bulkbar.html#result"
        return render(request, template, context, status=200 if ok else 400)
    (messages.success if ok else messages.error)(request, text)
    back = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("gallery")
