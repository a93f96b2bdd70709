"""Ownership and the Trash: cancel, delete (to the Trash), restore, the Trash page, and an
admin's "Delete forever" and "Empty trash".

Who may cancel, delete or restore: access.get_video_to_manage (the author or an admin; a
teammate's video is a 403 naming the rule). The card shows the buttons only to them
(templatetags/video_access.py), so a 403 here means a stale page or a hand-made request.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from studio import conf
from studio.lib.errors import ServiceError
from studio.teams.access import require_admin, require_membership
from videos import access, selectors, selectors_trash, services
from videos.forms_gallery import RestoreForm, TrashForm
from videos.models import Video


@require_POST
@login_required
def video_cancel(request, video_id: int):
    membership = require_membership(request)
    video = access.get_video_to_manage(membership, video_id)
    if not services.video_cancel(video=video, by=request.user):
        messages.info(request, "That video had already finished.")
    if request.htmx:
        return _card(request, video)
    return redirect("gallery")


@require_POST
@login_required
def video_delete(request, video_id: int):
    """To the Trash. With htmx the card gives way to a hidden placeholder (where Undo puts it
    back) and the toast offers Undo; without, the gallery shows the same toast once."""
    membership = require_membership(request)
    video = access.get_video_to_manage(membership, video_id)
    try:
        trashed = services.video_trash(video=video, by=membership)
    except ServiceError as exc:
        if request.htmx:
            return _card(request, video, note=str(exc))
        messages.error(request, str(exc))
        return redirect("gallery")
    if not trashed:
        note = "That video is already in the Trash."
        if request.htmx:
            return _card(request, video, note=note)
        messages.info(request, note)
        return redirect("gallery")
    if request.htmx:
        return render(request, "videos/trash.html#trashed", {"video": video})
    request.session[selectors_trash.UNDO_SESSION_KEY] = video.pk
    return redirect("gallery")


@require_POST
@login_required
def video_restore(request, video_id: int):
    """The toast's Undo (its card comes back in place) and the Trash page's Restore."""
    membership = require_membership(request)
    video = access.get_video_to_manage(membership, video_id)
    form = RestoreForm(request.POST)
    back = (form.is_valid() and form.cleaned_data["back"]) or "gallery"
    restored = services.video_restore(video=video, by=membership)
    note = "Restored to the gallery." if restored else "That video was not in the Trash."
    if not request.htmx:
        messages.add_message(request, messages.SUCCESS if restored else messages.INFO, note)
        return redirect(back)
    if back == "trash":
        return render(request, "videos/trash.html#note", {"note": note})
    return _card(request, video, note=note)


@require_GET
@login_required
def trash(request):
    membership = require_membership(request)
    query = TrashForm(request.GET)
    if not query.is_valid():
        if request.htmx:  # an "Older" link edited by hand: say so, swap nothing
            return HttpResponseBadRequest(f"before: {query.errors['before'][0]}.")
        messages.warning(request, f"before: {query.errors['before'][0]}. Here is its first page.")
        return redirect("trash")
    page = selectors_trash.trash_page(
        team=membership.team, before=query.cleaned_data["before"], size=conf.GALLERY_PAGE_SIZE
    )
    template = "videos/trash.html#page" if request.htmx else "videos/trash.html"
    return render(request, template, {"page": page, "nav": "gallery", "days": conf.TRASH_DAYS})


@require_POST
@login_required
def trash_delete(request, video_id: int):
    """An admin's "Delete forever" of one video in the Trash."""
    membership = require_admin(request)
    video = access.get_video_for_member(membership, video_id)
    gone = services.trash_delete(video=video, by=membership)
    note = "Deleted for good, with its files." if gone else "That video is no longer in the Trash."
    if request.htmx:
        return render(request, "videos/trash.html#note", {"note": note})
    messages.add_message(request, messages.SUCCESS if gone else messages.INFO, note)
    return redirect("trash")


@require_POST
@login_required
def trash_empty(request):
    membership = require_admin(request)
    count = services.trash_empty(team=membership.team, by=membership)
    messages.success(request, f"Emptied the Trash: {count} video{'s' * (count != 1)} deleted.")
    return redirect("trash")


def _card(request, video: Video, *, note: str = ""):
    """The card as the gallery shows it, and a note for the toast when there is one."""
    video.refresh_from_db()
    video = selectors.video_with_position(video=video)
    selectors.mark_favourites(user=request.user, videos=[video])
    return render(request, "videos/trash.html#card", {"video": video, "note": note})
