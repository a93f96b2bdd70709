"""The gallery: the page, the composer's submit, and a card's cancel and delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from studio import conf
from studio.lib.errors import ServiceError
from studio.lib.forms import add_service_error
from studio.teams.access import current_membership, require_membership
from videos import selectors, services
from videos.forms import GalleryForm, VideoForm


@require_GET
@login_required
def gallery(request):
    membership = current_membership(request)
    if membership is None:
        return render(request, "videos/no_team.html", status=403)
    query = GalleryForm(request.GET)
    if not query.is_valid():
        return _bad_cursor(request, query)
    page = selectors.gallery_page(
        team=membership.team, before=query.cleaned_data["before"], size=conf.GALLERY_PAGE_SIZE
    )
    template = "videos/gallery.html#page" if request.htmx else "videos/gallery.html"
    density = selectors.gallery_density(user=request.user)
    context = {"page": page, "form": VideoForm(), "nav": "gallery", "density": density}
    return render(request, template, context)


def _bad_cursor(request, query: GalleryForm) -> HttpResponse:
    """The gallery's page links carry a video id; one edited by hand is not. Someone who opened
    it wants the gallery: they get its first page and a note. Infinite scroll (htmx) only ever
    follows the studio's own links, so there it is a plain 400."""
    problem = f"before={query.data['before']!r}: {query.errors['before'][0].rstrip('.')}"
    if request.htmx:
        return HttpResponseBadRequest(f"The page link is not valid ({problem}).")
    messages.warning(
        request, f"That page link is not valid ({problem}), so here are the newest videos."
    )
    return redirect("gallery")


@require_POST
@login_required
def video_create(request):
    membership = require_membership(request)
    form = VideoForm(request.POST, request.FILES)
    video = None
    if form.is_valid():
        try:
            video = services.video_submit(
                team=membership.team, user=request.user, submission=form.submission()
            )
        except ServiceError as exc:
            add_service_error(form, exc)
    if video is not None:
        if not request.htmx:
            messages.success(request, "Queued. It will appear below as it renders.")
            return redirect("gallery")
        video = selectors.video_with_position(video=video)
        context = {"video": video, "form": VideoForm()}
        return render(request, "videos/gallery.html#created", context)
    context = {"form": form}
    if request.htmx:
        return reswap(
            retarget(render(request, "videos/gallery.html#form", context), "#new-video"),
            "outerHTML",
        )
    page = selectors.gallery_page(team=membership.team, size=conf.GALLERY_PAGE_SIZE)
    context = {**context, "page": page, "nav": "gallery"}
    return render(request, "videos/gallery.html", context, status=400)
