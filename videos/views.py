import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from studio import conf
from studio.lib import textguard
from studio.lib.errors import ServiceError
from studio.lib.forms import add_service_error, form_status
from studio.teams.access import current_membership, require_admin, require_membership
from videos import access, selectors, services
from videos.forms import (
    AccountForm,
    GalleryForm,
    VideoForm,
)
from videos.models import Attempt
from videos.streaming import serve_file

# Gallery and videos


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
    context = {"page": page, "form": VideoForm(), "nav": "gallery"}
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


@require_GET
@login_required
def video_card(request, video_id: int):
    """The progress fragment a running card polls; has no side effects."""
    membership = require_membership(request)
    return _card(request, access.get_video_for_member(membership, video_id))


def _card(request, video):
    video = selectors.video_with_position(video=video)
    return render(request, "videos/gallery.html#card", {"video": video})


@require_POST
@login_required
def video_cancel(request, video_id: int):
    membership = require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    if not services.video_cancel(video=video, by=request.user):
        messages.info(request, "That video had already finished.")
    if request.htmx:
        video.refresh_from_db()
        return _card(request, video)
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


@require_GET
@login_required
def video_file(request, video_id: int, kind: str):
    video = access.get_video_for_member(require_membership(request), video_id)
    field = video.file if kind == "mp4" else video.poster
    if not field:
        raise Http404("This video has no file yet.")
    download = f"studio-video-{video.pk}.mp4" if request.GET.get("download") else None
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


# Team


# Your own account: profile, and leaving a team


# Provider accounts (team admins)


@require_GET
@login_required
def accounts(request):
    """The team's accounts and their live slots; the slots part is polled, so no side effects."""
    membership = require_admin(request)
    slots, queued = selectors.account_slots(team=membership.team)
    context = {
        "slots": slots,
        "queued": queued,
        "busy": sum(len(s.running) for s in slots),
        "capacity": sum(
            s.account.max_jobs for s in slots if s.account.enabled and not s.account.is_paused
        ),
        "nav": "accounts",
    }
    template = "videos/accounts.html#slots" if request.htmx else "videos/accounts.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
def account_new(request):
    membership = require_admin(request)
    form = AccountForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            account = services.account_create(team=membership.team, **form.cleaned_data)
        except (ServiceError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{account.name} was added. Test its connection below.")
            return _to_card(account)
    context = {"form": form, "nav": "accounts"}
    return render(request, "videos/account_form.html", context, status=form_status(form))


@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    form = AccountForm(request.POST if request.method == "POST" else None, account=account)
    if form.is_bound and form.is_valid():
        try:
            services.account_update(account=account, **form.cleaned_data)
        except (ServiceError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{account.name} was saved.")
            return _to_card(account)
    context = {"form": form, "account": account, "nav": "accounts"}
    return render(request, "videos/account_form.html", context, status=form_status(form))


def _to_card(account) -> HttpResponseRedirect:
    return redirect(reverse("accounts") + f"#account-{account.pk}")


@require_POST
@login_required
def account_toggle(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    services.account_update(account=account, enabled=not account.enabled)
    if account.enabled:
        messages.success(request, f"{account.name} is enabled and takes videos from the queue.")
    else:
        messages.success(request, f"{account.name} is disabled; videos running on it finish.")
    return _to_card(account)


@require_POST
@login_required
def account_resume(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    services.account_resume(account=account)
    messages.success(request, f"{account.name} is no longer paused.")
    return _to_card(account)


@require_POST
@login_required
def account_delete(request, account_id: int):
    account = access.get_account_for_admin(require_admin(request), account_id)
    try:
        services.account_delete(account=account)
        messages.success(request, f"{account.name} was deleted; its videos stay in the gallery.")
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("accounts")


@require_POST
@login_required
def account_test(request, account_id: int):
    """One real call to the upstream. htmx swaps the result into the card; without JavaScript
    it comes back as a message on the accounts page."""
    account = access.get_account_for_admin(require_admin(request), account_id)
    result = services.account_test(account=account)
    if request.htmx:
        context = {"account": account, "result": result}
        return render(request, "videos/accounts.html#test-result", context)
    if result.ok:
        messages.success(request, f"{account.name}: {result.message}")
    else:
        messages.error(request, f"{account.name}: connection failed. {result.message}")
    return redirect("accounts")  # the top of the page, where the message is


# API tokens (every member: their own tokens in the current team)


# Webhooks and API settings (team admins)


# Upstream callbacks (no session: MiniMax calls these; the token in the URL is the secret)


@csrf_exempt
@require_POST
def minimax_callback(request, token: str):
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        payload = None
    problem = _callback_problem(payload)
    if problem:
        return JsonResponse({"error": problem}, status=400)
    answer = services.video_upstream_callback(token=token, payload=payload)
    if answer is None:
        raise Http404("Unknown callback")
    return JsonResponse(answer)


def _callback_problem(payload) -> str | None:
    if not isinstance(payload, dict):
        return "Send a JSON object."
    limit = Attempt._meta.get_field("upstream_id").max_length  # where task_id is kept
    if len(str(payload.get("task_id") or "")) > limit:
        return f"task_id is longer than a MiniMax task id ({limit} characters)."
    return textguard.json_problem(payload)
