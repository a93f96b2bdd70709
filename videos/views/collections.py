"""Favourites, collections and the gallery's density."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from studio.lib.errors import ServiceError
from studio.lib.forms import add_service_error
from studio.teams.access import require_membership
from videos import access, selectors_collections, services
from videos.forms_gallery import CollectionForm, CollectionVideoForm, DensityForm


@require_POST
@login_required
def favourite_toggle(request, video_id: int):
    video = access.get_video_for_member(require_membership(request), video_id)
    video.is_favourite = services.favourite_toggle(user=request.user, video=video)
    if request.htmx:
        return render(request, "videos/card/_star.html", {"video": video})
    return redirect(_back(request, reverse("gallery")))


@require_http_methods(["GET", "POST"])
@login_required
def collections(request):
    membership = require_membership(request)
    form = CollectionForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            collection = services.collection_create(
                membership=membership, name=form.cleaned_data["name"]
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Created the collection “{collection.name}”.")
            return redirect("collections")
    return _page(request, membership, form=form)


@require_POST
@login_required
def collection_rename(request, collection_id: int):
    membership = require_membership(request)
    collection = access.get_collection_for_member(membership, collection_id)
    form = CollectionForm(request.POST)
    if not form.is_valid():  # a NUL in the name; any other shape, the service judges
        return _page(request, membership, renaming=(collection.pk, form))
    try:
        services.collection_rename(
            collection=collection, membership=membership, name=form.cleaned_data["name"]
        )
    except ServiceError as exc:
        if not exc.field:  # not the creator, not an admin
            raise PermissionDenied(exc.message) from None
        add_service_error(form, exc)
        return _page(request, membership, renaming=(collection.pk, form))
    messages.success(request, f"Renamed the collection to “{collection.name}”.")
    return redirect("collections")


@require_POST
@login_required
def collection_delete(request, collection_id: int):
    membership = require_membership(request)
    collection = access.get_collection_for_member(membership, collection_id)
    try:
        services.collection_delete(collection=collection, membership=membership)
    except ServiceError as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, f"Deleted the collection “{collection.name}”; its videos stay.")
    return redirect("collections")


@require_POST
@login_required
def video_collections(request, video_id: int):
    """The detail page's "Add to collection" and its remove buttons."""
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    form = CollectionVideoForm(request.POST)
    if form.is_valid():
        collection = access.get_collection_for_member(membership, form.cleaned_data["collection"])
        change = (
            services.collection_add
            if form.cleaned_data["action"] == "add"
            else services.collection_remove
        )
        change(collection=collection, membership=membership, videos=[video])
    if request.htmx:
        held = selectors_collections.video_collections(video=video)
        context = {"video": video, "video_collections": held, "collections_form": form}
        # 200 even when refused: htmx swaps only a success, and the partial shows the message.
        return render(request, "videos/card/_collections.html", context)
    for errors in form.errors.values():
        messages.error(request, errors[0])
    return redirect(_back(request, reverse("video_detail", args=[video.pk])))


@require_POST
@login_required
def density_set(request):
    form = DensityForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return HttpResponseBadRequest(form.errors["density"][0])
        messages.error(request, form.errors["density"][0])
        return redirect(_back(request, reverse("gallery")))
    density = form.cleaned_data["density"]
    services.gallery_density_set(user=request.user, density=density)
    if request.htmx:
        # collections.js puts the grid's class in step; the control re-renders itself.
        response = render(request, "videos/gallery/_density.html", {"density": density})
        return trigger_client_event(response, "densitychanged", {"density": density})
    return redirect(_back(request, reverse("gallery")))


def _page(request, membership, *, form=None, renaming=None):
    """The Collections page; `renaming` is (collection id, its form) after a refused rename."""
    rows = selectors_collections.team_collections(team=membership.team)
    for row in rows:
        row.may_manage = access.may_manage_collection(membership, row)
        row.rename_form = renaming[1] if renaming and renaming[0] == row.pk else None
    context = {"collections": rows, "form": form or CollectionForm(), "nav": "collections"}
    bad = (form is not None and form.errors) or renaming
    return render(request, "videos/collections.html", context, status=400 if bad else 200)


def _back(request, fallback: str) -> str:
    """Where a form without JavaScript returns to: its `next` (the page it was on, query string
    and all) when that is a path on this site, else `fallback`. Never another host."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target.startswith("/") else fallback
