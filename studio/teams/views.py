from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.lib.errors import ServiceError
from studio.lib.forms import add_service_error, form_status
from studio.teams import access, hooks, selectors, services
from studio.teams.forms import (
    InviteForm,
    JoinForm,
    ProfileForm,
    RoleForm,
    SwitchTeamForm,
    TeamNameForm,
)


@require_GET
@login_required
def team(request):
    membership = access.require_membership(request)
    return render(request, "teams/team.html", _team_context(membership))


def _team_context(membership, **extra) -> dict:
    team = membership.team
    members = selectors.team_members(team=team)
    return {
        "members": members,
        # Each row with its role select, which only admins see.
        "member_rows": [
            (m, RoleForm.for_member(m) if membership.is_admin else None) for m in members
        ],
        "invites": selectors.team_open_invites(team=team) if membership.is_admin else [],
        **hooks.context(hooks.team_page, team),
        "invite_form": InviteForm(),
        "name_form": TeamNameForm(initial={"name": team.name}),
        "nav": "team",
        **extra,
    }


@require_POST
@login_required
def invite_create(request):
    membership = access.require_admin(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return render(
            request, "teams/team.html", _team_context(membership, invite_form=form), status=400
        )
    invite, token = services.invite_create(
        team=membership.team,
        by=request.user,
        label=form.cleaned_data["label"],
        role=form.cleaned_data["role"],
    )
    link = request.build_absolute_uri(reverse("join", args=[token]))
    return render(
        request, "teams/team.html", _team_context(membership, new_invite=invite, new_link=link)
    )


@require_POST
@login_required
def team_rename(request):
    membership = access.require_admin(request)
    form = TeamNameForm(request.POST)
    if form.is_valid():
        try:
            services.team_rename(team=membership.team, name=form.cleaned_data["name"])
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"The team is now called “{membership.team.name}”.")
            return redirect("team")
    context = _team_context(membership, name_form=form, renaming=True)
    return render(request, "teams/team.html", context, status=400)


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
            raise ServiceError("Choose admin or member.")
        services.membership_set_role(membership=target, role=form.cleaned_data["role"])
        messages.success(
            request, f"{target.user.get_username()} is now {target.get_role_display().lower()}."
        )
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("team")


@require_POST
@login_required
def member_remove(request, membership_id: int):
    target = access.get_membership_for_admin(access.require_membership(request), membership_id)
    try:
        services.membership_remove(membership=target)
        messages.success(request, f"{target.user.get_username()} was removed from the team.")
    except ServiceError as exc:
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
        return render(request, "teams/join.html", {"invalid": True}, status=404)
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
                    request, "teams/join.html", {"invite": invite, "form": form}, status=400
                )
        except ServiceError as exc:
            return render(
                request, "teams/join.html", {"invalid": True, "reason": str(exc)}, status=410
            )
        request.session[access.SESSION_TEAM_KEY] = invite.team_id
        messages.success(request, f"Welcome to {invite.team.name}.")
        return redirect("gallery")
    return render(request, "teams/join.html", {"invite": invite, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    """Where password reset mail goes, the teams you are in, and the way to your password."""
    initial = {"username": request.user.get_username(), "email": request.user.email}
    form = ProfileForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        services.user_update_profile(user=request.user, email=form.cleaned_data["email"])
        messages.success(request, "Your profile was saved.")
        return redirect("profile")
    context = {
        "form": form,
        "memberships": selectors.user_teams(user=request.user),
        "nav": "profile",
    }
    return render(request, "teams/profile.html", context, status=form_status(form))


@require_http_methods(["GET", "POST"])
@login_required
def team_leave(request, team_id: int):
    """Leaving is confirmed on a page of its own (GET), so it needs no JavaScript."""
    leaving = access.get_own_membership(request.user, team_id)
    if request.method == "GET":
        refusal = selectors.membership_leave_refusal(membership=leaving)
        context = {"leaving": leaving, "refusal": refusal, "nav": "profile"}
        return render(request, "teams/team_leave.html", context)
    try:
        services.membership_leave(user=request.user, team=leaving.team)
    except ServiceError as exc:
        context = {"leaving": leaving, "refusal": str(exc), "nav": "profile"}
        return render(request, "teams/team_leave.html", context, status=409)
    if request.session.get(access.SESSION_TEAM_KEY) == leaving.team_id:
        del request.session[access.SESSION_TEAM_KEY]  # the gallery falls back to another team
    messages.success(request, f"You left {leaving.team.name}.")
    return redirect("gallery")
