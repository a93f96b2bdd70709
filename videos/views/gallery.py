"""The gallery: the page (its search and filters), and the composer's submit."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, reswap, retarget

from studio import conf
from studio.lib.errors import ServiceError
from studio.lib.forms import add_service_error
from studio.teams.access import current_membership, require_membership
from videos import search, selectors, selectors_live, selectors_usage, services
from videos.forms import VideoForm
from videos.forms_gallery import GalleryForm


@require_GET
@login_required
@vary_on_headers("HX-Request")  # the fragment and the page share a URL: never cache one for both
def gallery(request):
    membership = current_membership(request)
    if membership is None:
        return render(request, "videos/no_team.html", status=403)
    query = GalleryForm(request.GET, team=membership.team, user=request.user)
    if not query.is_valid():
        return _bad_query(request, query)
    before = query.cleaned_data["before"]
    page = search.gallery_search(
        team=membership.team,
        user=request.user,
        filters=query.filters(),
        before=before,
        size=conf.GALLERY_PAGE_SIZE,
    )
    selectors_live.live_cards(membership=membership, videos=page.videos)  # queue state, ETA
    context = {"page": page, "search": _search_state(query), "before": before}
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        if htmx.target != "gallery-grid":
            return render(request, "videos/gallery.html#page", context)  # infinite scroll
        # The toolbar's search: new results and chips, and the address bar without empty fields.
        response = render(request, "videos/gallery/_toolbar.html#results", context)
        return push_url(response, context["search"].url)
    return render(request, "videos/gallery.html", _page_context(request, membership, context))


def gallery_with_composer(request, membership, form: VideoForm, *, status: int = 200):
    """The gallery's first page, unfiltered, around `form`: a refused submit, or Reuse and
    Continue without JavaScript."""
    page = search.gallery_search(
        team=membership.team,
        user=request.user,
        filters=search.GalleryFilters(),
        size=conf.GALLERY_PAGE_SIZE,
    )
    selectors_live.live_cards(membership=membership, videos=page.videos)
    context = {"page": page, "search": SearchState(params={}, chips=[], url=reverse("gallery"))}
    context = _page_context(request, membership, context, form=form)
    return render(request, "videos/gallery.html", context, status=status)


def composer_context(membership, form: VideoForm) -> dict:
    """The composer and, when the member has a quota, what is left of it."""
    return {"form": form, "quota": selectors_usage.quota_state(membership=membership)}


def _page_context(request, membership, context: dict, *, form: VideoForm | None = None) -> dict:
    """What the whole page adds to its grid: the composer, the toolbar's choices, the density."""
    return (
        context
        | composer_context(membership, form or VideoForm())
        | {
            "nav": "gallery",
            "density": selectors.gallery_density(user=request.user),
            "choices": search.filter_choices(team=membership.team),
        }
    )


# The query string's filters, in the order the toolbar shows them; `before` is the page's own.
FILTER_PARAMS = ("q", "author", "status", "account", "model", "from", "to", "fav", "collection")


@dataclass
class Chip:
    label: str
    remove_url: str  # the gallery without this filter


@dataclass
class SearchState:
    params: dict[str, str]  # the filters as given, for the toolbar's fields
    chips: list[Chip]
    url: str  # the gallery with these filters, first page

    @property
    def active(self) -> bool:
        return bool(self.params)

    @property
    def filter_count(self) -> int:
        """Filters set in the toolbar's collapsible panel (the search box is always in view)."""
        return len(self.params) - ("q" in self.params)

    @property
    def page_query(self) -> str:
        """What an "Older videos" link puts before its `before=`."""
        return urlencode(self.params) + "&" if self.params else ""


def _gallery_url(params: dict[str, str]) -> str:
    return reverse("gallery") + (f"?{urlencode(params)}" if params else "")


def _search_state(query: GalleryForm) -> SearchState:
    data = query.cleaned_data
    params = {
        name: (data["q"] if name == "q" else query.data[name].strip())
        for name in FILTER_PARAMS
        if query.data.get(name, "").strip()
    }
    labels = {
        "q": lambda: f"“{data['q']}”",
        "author": lambda: "Mine" if params["author"] == "mine" else f"By {data['author']}",
        "status": lambda: dict(query.fields["status"].choices)[data["status"]],
        "account": lambda: f"Account: {data['account']}",
        "model": lambda: f"Model: {data['model']}",
        "from": lambda: f"From {data['from']:%-d %b %Y}",
        "to": lambda: f"Until {data['to']:%-d %b %Y}",
        "fav": lambda: "★ Favourites",
        "collection": lambda: f"Collection: {data['collection']}",
    }
    chips = [
        Chip(labels[name](), _gallery_url({k: v for k, v in params.items() if k != name}))
        for name in params
    ]
    return SearchState(params=params, chips=chips, url=_gallery_url(params))


def _bad_query(request, query: GalleryForm) -> HttpResponse:
    """A filter typed or edited by hand into the address bar is refused in words that say what
    to fix, and the gallery opens without it (with the filters that were fine). The page links
    carry a video id as `before`: one edited by hand is not valid, and its reader wants the
    newest videos. htmx requests only ever send the toolbar's own values: a plain 400."""
    problems = "; ".join(
        f"{name}={query.data.get(name)!r}: {errors[0].rstrip('.')}"
        for name, errors in query.errors.items()
    )
    cursor_only = list(query.errors) == ["before"]
    if request.htmx:
        if cursor_only:
            return HttpResponseBadRequest(f"The page link is not valid ({problems}).")
        return HttpResponseBadRequest(f"Not a valid filter ({problems}).")
    if cursor_only:
        messages.warning(
            request, f"That page link is not valid ({problems}), so here are the newest videos."
        )
    else:
        messages.warning(request, f"Not a valid filter ({problems}), so it is left out.")
    kept = {
        name: query.data[name]
        for name in FILTER_PARAMS
        if name not in query.errors and query.data.get(name, "").strip()
    }
    return redirect(_gallery_url(kept))


@require_POST
@login_required
def video_create(request):
    membership = require_membership(request)
    form = VideoForm(request.POST, request.FILES, team=membership.team)
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
        context = {"video": video, **composer_context(membership, VideoForm())}
        return render(request, "videos/gallery.html#created", context)
    context = composer_context(membership, form)
    if request.htmx:
        return reswap(
            retarget(render(request, "videos/gallery.html#form", context), "#new-video"),
            "outerHTML",
        )
    return gallery_with_composer(request, membership, form, status=400)
