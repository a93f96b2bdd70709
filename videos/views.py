import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
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
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from videos import access, callbacks, scheduler, selectors, services, textguard
from videos.forms import (
    AccountForm,
    ApiTokenForm,
    GalleryForm,
    InviteForm,
    JoinForm,
    ProfileForm,
    RoleForm,
    SwitchTeamForm,
    TeamApiForm,
    VideoForm,
)
from videos.models import Video
from videos.streaming import serve_file

# Gallery and videos


@require_GET
@login_required
def gallery(request):
    membership = access.current_membership(request)
    if membership is None:
        return render(request, "videos/no_team.html", status=403)
    query = GalleryForm(request.GET)
    if not query.is_valid():
        return _bad_cursor(request, query)
    page = selectors.gallery_page(
        team=membership.team, before=query.cleaned_data["before"], size=settings.GALLERY_PAGE_SIZE
    )
    template = "videos/gallery.html#page" if request.htmx else "videos/gallery.html"
    return render(
        request, template, {"page": page, "form": VideoForm(), "limit": settings.PROMPT_MAX_CHARS}
    )


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
    membership = access.require_membership(request)
    form = VideoForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        video = services.video_submit(
            team=membership.team,
            user=request.user,
            prompt=data["prompt"],
            prompt_optimization=data["prompt_optimization"],
            image=data["image"],
            image_name=request.FILES["image"].name if data["image"] else "",
            last_image=data["last_image"],
            last_image_name=request.FILES["last_image"].name if data["last_image"] else "",
            model=data["model"],
            resolution=data["resolution"],
            duration=data["duration"],
        )
        if not request.htmx:
            messages.success(request, "Queued. It will appear below as it renders.")
            return redirect("gallery")
        video = selectors.video_with_position(video=video)
        context = {"video": video, "form": VideoForm(), "limit": settings.PROMPT_MAX_CHARS}
        return render(request, "videos/gallery.html#created", context)
    context = {"form": form, "limit": settings.PROMPT_MAX_CHARS}
    if request.htmx:
        return reswap(
            retarget(render(request, "videos/gallery.html#form", context), "#new-video"),
            "outerHTML",
        )
    page = selectors.gallery_page(team=membership.team, size=settings.GALLERY_PAGE_SIZE)
    return render(request, "videos/gallery.html", {**context, "page": page}, status=400)


@require_GET
@login_required
def video_card(request, video_id: int):
    """The progress fragment a running card polls; has no side effects."""
    membership = access.require_membership(request)
    return _card(request, access.get_video_for_member(membership, video_id))


def _card(request, video):
    video = selectors.video_with_position(video=video)
    return render(request, "videos/gallery.html#card", {"video": video})


@require_POST
@login_required
def video_cancel(request, video_id: int):
    membership = access.require_membership(request)
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
    membership = access.require_membership(request)
    video = access.get_video_for_member(membership, video_id)
    try:
        services.video_delete(video=video)
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return HttpResponse("")
    return redirect("gallery")


@require_GET
@login_required
def video_file(request, video_id: int, kind: str):
    video = access.get_video_for_member(access.require_membership(request), video_id)
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
    image = access.get_image_for_member(access.require_membership(request), image_id)
    content_type = f"image/{image.format.lower()}"
    return serve_file("", image.file, content_type=content_type)


# Team


@require_GET
@login_required
def team(request):
    membership = access.require_membership(request)
    return render(request, "videos/team.html", _team_context(membership))


def _team_context(membership, **extra) -> dict:
    team = membership.team
    return {
        "members": selectors.team_members(team=team),
        "invites": selectors.team_open_invites(team=team) if membership.is_admin else [],
        "accounts": selectors.team_accounts(team=team),
        "invite_form": InviteForm(),
        **extra,
    }


@require_POST
@login_required
def invite_create(request):
    membership = access.require_admin(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return render(
            request, "videos/team.html", _team_context(membership, invite_form=form), status=400
        )
    invite, token = services.invite_create(
        team=membership.team,
        by=request.user,
        label=form.cleaned_data["label"],
        role=form.cleaned_data["role"],
    )
    link = request.build_absolute_uri(reverse("join", args=[token]))
    return render(
        request, "videos/team.html", _team_context(membership, new_invite=invite, new_link=link)
    )


@require_POST
@login_required
def invite_revoke(request, invite_id: int):
    invite = access.get_invite_for_admin(access.require_membership(request), invite_id)
    services.invite_revoke(invite=invite)
    messages.success(request, f"The invite for {invite.label} no longer works.")
    return redirect("team")


@require_POST
@login_required
def member_role(request, membership_id: int):
    target = access.get_membership_for_admin(access.require_membership(request), membership_id)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise services.ServiceError("Choose admin or member.")
        services.membership_set_role(membership=target, role=form.cleaned_data["role"])
        messages.success(
            request, f"{target.user.get_username()} is now {target.get_role_display().lower()}."
        )
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("team")


@require_POST
@login_required
def member_remove(request, membership_id: int):
    target = access.get_membership_for_admin(access.require_membership(request), membership_id)
    try:
        services.membership_remove(membership=target)
        messages.success(request, f"{target.user.get_username()} was removed from the team.")
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("team" if target.user != request.user else "gallery")


@require_POST
@login_required
def team_switch(request):
    form = SwitchTeamForm(request.POST)
    if form.is_valid():
        team = access.get_team_for_member(request.user, form.cleaned_data["team"])
        request.session[access.SESSION_TEAM_KEY] = team.pk
    return redirect("gallery")


@require_http_methods(["GET", "POST"])
def join(request, token: str):
    invite = services.invite_find(token=token)
    if invite is None:
        return render(request, "videos/join.html", {"invalid": True}, status=404)
    form = JoinForm(request.POST or None) if not request.user.is_authenticated else None
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                services.invite_accept(invite=invite, user=request.user)
            elif form.is_valid():
                user = services.user_join_by_invite(
                    invite=invite,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                return render(
                    request, "videos/join.html", {"invite": invite, "form": form}, status=400
                )
        except services.ServiceError as exc:
            return render(
                request, "videos/join.html", {"invalid": True, "reason": str(exc)}, status=410
            )
        request.session[access.SESSION_TEAM_KEY] = invite.team_id
        messages.success(request, f"Welcome to {invite.team.name}.")
        return redirect("gallery")
    return render(request, "videos/join.html", {"invite": invite, "form": form})


# Your own account: profile, and leaving a team


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    """Where password reset mail goes, the teams you are in, and the way to your password."""
    form = ProfileForm(request.POST or None, initial={"email": request.user.email})
    if form.is_bound and form.is_valid():
        services.user_update_profile(user=request.user, email=form.cleaned_data["email"])
        messages.success(request, "Your profile was saved.")
        return redirect("profile")
    context = {"form": form, "memberships": selectors.user_teams(user=request.user)}
    return render(request, "videos/profile.html", context, status=_status(form))


@require_http_methods(["GET", "POST"])
@login_required
def team_leave(request, team_id: int):
    """Leaving is confirmed on a page of its own (GET), so it needs no JavaScript."""
    leaving = access.get_own_membership(request.user, team_id)
    if request.method == "GET":
        refusal = selectors.membership_leave_refusal(membership=leaving)
        return render(request, "videos/team_leave.html", {"leaving": leaving, "refusal": refusal})
    try:
        services.membership_leave(user=request.user, team=leaving.team)
    except services.ServiceError as exc:
        context = {"leaving": leaving, "refusal": str(exc)}
        return render(request, "videos/team_leave.html", context, status=409)
    if request.session.get(access.SESSION_TEAM_KEY) == leaving.team_id:
        del request.session[access.SESSION_TEAM_KEY]  # the gallery falls back to another team
    messages.success(request, f"You left {leaving.team.name}.")
    return redirect("gallery")


# Provider accounts (team admins)


@require_GET
@login_required
def accounts(request):
    """The team's accounts and their live slots; the slots part is polled, so no side effects."""
    membership = access.require_admin(request)
    slots, queued = selectors.account_slots(team=membership.team)
    context = {
        "slots": slots,
        "queued": queued,
        "busy": sum(len(s.running) for s in slots),
        "capacity": sum(
            s.account.max_jobs for s in slots if s.account.enabled and not s.account.is_paused
        ),
    }
    template = "videos/accounts.html#slots" if request.htmx else "videos/accounts.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
def account_new(request):
    membership = access.require_admin(request)
    form = AccountForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            account = services.account_create(team=membership.team, **form.cleaned_data)
        except (services.ServiceError, ValidationError) as exc:
            _account_form_error(form, exc)
        else:
            messages.success(request, f"{account.name} was added. Test its connection below.")
            return _to_card(account)
    return render(request, "videos/account_form.html", {"form": form}, status=_status(form))


@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request, account_id: int):
    account = access.get_account_for_admin(access.require_admin(request), account_id)
    form = AccountForm(request.POST if request.method == "POST" else None, account=account)
    if form.is_bound and form.is_valid():
        try:
            services.account_update(account=account, **form.cleaned_data)
        except (services.ServiceError, ValidationError) as exc:
            _account_form_error(form, exc)
        else:
            messages.success(request, f"{account.name} was saved.")
            return _to_card(account)
    context = {"form": form, "account": account}
    return render(request, "videos/account_form.html", context, status=_status(form))


def _to_card(account) -> HttpResponseRedirect:
    return redirect(reverse("accounts") + f"#account-{account.pk}")


def _status(form) -> int:
    return 400 if form.errors else 200


def _account_form_error(form, exc: Exception) -> None:
    """Shows a refusal next to the field it concerns. Model validation names its fields; of the
    service's own refusals only a duplicate name is about one field the form cannot check."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(exc, services.ServiceError) and "with this name" in str(exc):
        form.add_error("name", str(exc))
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))


@require_POST
@login_required
def account_toggle(request, account_id: int):
    account = access.get_account_for_admin(access.require_admin(request), account_id)
    services.account_update(account=account, enabled=not account.enabled)
    if account.enabled:
        messages.success(request, f"{account.name} is enabled and takes videos from the queue.")
    else:
        messages.success(request, f"{account.name} is disabled; videos running on it finish.")
    return _to_card(account)


@require_POST
@login_required
def account_resume(request, account_id: int):
    account = access.get_account_for_admin(access.require_admin(request), account_id)
    services.account_resume(account=account)
    messages.success(request, f"{account.name} is no longer paused.")
    return _to_card(account)


@require_POST
@login_required
def account_delete(request, account_id: int):
    account = access.get_account_for_admin(access.require_admin(request), account_id)
    try:
        services.account_delete(account=account)
        messages.success(request, f"{account.name} was deleted; its videos stay in the gallery.")
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("accounts")


@require_POST
@login_required
def account_test(request, account_id: int):
    """One real call to the upstream. htmx swaps the result into the card; without JavaScript
    it comes back as a message on the accounts page."""
    account = access.get_account_for_admin(access.require_admin(request), account_id)
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


@require_GET
@login_required
def api_tokens(request):
    membership = access.require_membership(request)
    return render(request, "videos/api_tokens.html", _tokens_context(request, membership))


def _tokens_context(request, membership, **extra) -> dict:
    base = settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")
    return {
        "tokens": selectors.user_api_tokens(user=request.user, team=membership.team),
        "form": ApiTokenForm(),
        "api_base": f"{base}/v1/minimax/",
        "openapi_url": base + reverse("api_openapi"),
        **extra,
    }


@never_cache  # the answer holds the token in clear; no cache or back button may keep it
@require_POST
@login_required
def api_token_create(request):
    membership = access.require_membership(request)
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        context = _tokens_context(request, membership, form=form)
        return render(request, "videos/api_tokens.html", context, status=400)
    token, raw = services.api_token_create(
        user=request.user, team=membership.team, name=form.cleaned_data["name"]
    )
    context = _tokens_context(request, membership, new_token=token, raw_token=raw)
    return render(request, "videos/api_tokens.html", context)


@require_POST
@login_required
def api_token_revoke(request, token_id: int):
    token = access.get_token_for_owner(request.user, token_id)
    services.api_token_revoke(token=token)
    messages.success(request, f"{token.name} ({token.prefix}…) no longer works.")
    return redirect("api_tokens")


# Webhooks and API settings (team admins)


@never_cache  # shows the signing secret
@require_GET
@login_required
def webhooks(request):
    """The team's API settings, signing secret and recent deliveries. The deliveries part is
    polled, and that request has no side effects (the full page makes the secret on first use)."""
    membership = access.require_admin(request)
    deliveries = selectors.team_deliveries(team=membership.team)
    if request.htmx:
        return render(request, "videos/webhooks.html#deliveries", {"deliveries": deliveries})
    return render(request, "videos/webhooks.html", _webhooks_context(membership, deliveries))


def _webhooks_context(membership, deliveries=None, **extra) -> dict:
    team = membership.team
    settings_form = TeamApiForm(
        initial={
            "api_strict": team.api_strict,
            "webhook_progress": team.webhook_progress,
            "user_queue_limit": team.user_queue_limit,
            "team_queue_limit": team.team_queue_limit,
            "default_reply_url": team.default_reply_url,
        }
    )
    return {
        "form": settings_form,
        "secret": services.team_webhook_secret(team=team),
        "previous_signs": len(callbacks.team_signing_secrets(team)) > 1,
        "deliveries": selectors.team_deliveries(team=team) if deliveries is None else deliveries,
        **extra,
    }


@require_POST
@login_required
def team_api_settings(request):
    membership = access.require_admin(request)
    form = TeamApiForm(request.POST)
    if form.is_valid():
        try:
            services.team_api_settings(team=membership.team, **form.cleaned_data)
        except services.ServiceError as exc:
            form.add_error("default_reply_url", str(exc))
        else:
            messages.success(request, "API settings saved.")
            return redirect("webhooks")
    messages.error(request, "The API settings were not saved; see the form.")
    context = _webhooks_context(membership, form=form)
    return render(request, "videos/webhooks.html", context, status=400)


@require_POST
@login_required
def webhook_rotate(request):
    membership = access.require_admin(request)
    services.team_webhook_rotate(team=membership.team)
    messages.success(
        request, "New signing secret. The old one keeps signing beside it for 24 hours."
    )
    return redirect("webhooks")


@require_POST
@login_required
def webhook_redeliver(request, delivery_id: int):
    membership = access.require_admin(request)
    delivery = selectors.delivery_for_admin(team=membership.team, delivery_id=delivery_id)
    callbacks.callback_redeliver(delivery=delivery)
    messages.success(
        request, f"{delivery.get_event_display()} callback {delivery.msg_id} is being sent again."
    )
    return redirect(reverse("webhooks") + "#deliveries")


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
    answer = scheduler.video_callback(token=token, payload=payload)
    if answer is None:
        raise Http404("Unknown callback")
    return JsonResponse(answer)


def _callback_problem(payload) -> str | None:
    if not isinstance(payload, dict):
        return "Send a JSON object."
    limit = Video._meta.get_field("upstream_id").max_length  # where task_id is kept
    if len(str(payload.get("task_id") or "")) > limit:
        return f"task_id is longer than a MiniMax task id ({limit} characters)."
    return textguard.json_problem(payload)
