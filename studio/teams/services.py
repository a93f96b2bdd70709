"""Writes about teams, their members and invites."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from studio import conf
from studio.lib.errors import ServiceError
from studio.lib.tokens import token_hash
from studio.teams import hooks, selectors
from studio.teams.models import Invite, Membership, Team

User = get_user_model()
TEAM_NAME_MAX = Team._meta.get_field("name").max_length


def team_create(*, name: str, admin: AbstractBaseUser) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name)
        Membership.objects.create(user=admin, team=team, role=Membership.Role.ADMIN)
        hooks.run(hooks.team_created, team)
    return team


def team_rename(*, team: Team, name: str) -> None:
    """An admin renames the team (access.require_admin checks who). Names are unique on the
    server; the refusal does not say which team holds one, only that it is taken."""
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the team a name.", field="name")
    if len(name) > TEAM_NAME_MAX:
        raise ServiceError(f"Keep the name under {TEAM_NAME_MAX + 1} characters.", field="name")
    taken = ServiceError("That name is taken on this studio; choose another.", field="name")
    if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
        raise taken
    try:
        with transaction.atomic():
            Team.objects.filter(pk=team.pk).update(name=name)
    except IntegrityError:  # the same name taken a moment ago
        raise taken from None
    team.name = name


def _lock_team(team_id: int) -> Team:
    # Serialises role changes within a team: two admins demoting each other at the same moment
    # would otherwise each see the other as "the remaining admin" and leave the team with none.
    # NO KEY: a lock that blocks no foreign-key check on the team (videos, tokens being written).
    return Team.objects.select_for_update(no_key=True).get(pk=team_id)


def _ensure_admin_left(team: Team, *, losing: Membership) -> None:
    others = Membership.objects.filter(team=team, role=Membership.Role.ADMIN).exclude(pk=losing.pk)
    if not others.exists():
        raise ServiceError("A team needs at least one admin. Make someone else admin first.")


def membership_set_role(*, membership: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ServiceError(f"Unknown role {role!r}.", field="role")
    with transaction.atomic():
        team = _lock_team(membership.team_id)
        if membership.is_admin and role != Membership.Role.ADMIN:
            _ensure_admin_left(team, losing=membership)
        Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role
    return membership


def membership_remove(*, membership: Membership) -> None:
    """Takes the person out of the team; their videos stay in the gallery, their API tokens
    for the team are revoked (see member_leaving)."""
    with transaction.atomic():
        team = _lock_team(membership.team_id)
        if membership.is_admin:
            _ensure_admin_left(team, losing=membership)
        hooks.run(hooks.member_leaving, membership)
        membership.delete()


def membership_leave(*, user: AbstractBaseUser, team: Team) -> None:
    """Takes the user out of the team at their own request. Their videos stay in the gallery;
    their API tokens for the team are revoked, so rejoining later does not wake them."""
    with transaction.atomic():
        _lock_team(team.pk)
        membership = Membership.objects.filter(user=user, team=team).select_related("team").first()
        if membership is None:
            raise ServiceError(f"You are not in {team.name}.")
        refusal = selectors.membership_leave_refusal(membership=membership)
        if refusal:
            raise ServiceError(refusal)
        hooks.run(hooks.member_leaving, membership)
        membership.delete()


def user_update_profile(*, user: AbstractBaseUser, email: str) -> None:
    user.email = User.objects.normalize_email(email.strip())
    user.save(update_fields=["email"])


def invite_create(*, team: Team, by: AbstractBaseUser, label: str, role: str) -> tuple[Invite, str]:
    """Returns the invite and its token; only the token's hash is kept, so show it once."""
    if role not in Membership.Role.values:
        raise ServiceError(f"Unknown role {role!r}.", field="role")
    token = secrets.token_urlsafe(32)
    invite = Invite.objects.create(
        team=team,
        role=role,
        label=label.strip(),
        token_hash=token_hash(token),
        created_by=by,
        expires_at=timezone.now() + timedelta(days=conf.INVITE_DAYS),
    )
    return invite, token


def invite_find(*, token: str) -> Invite | None:
    return (
        Invite.objects.select_related("team")
        .filter(token_hash=token_hash(token), accepted_at=None, expires_at__gt=timezone.now())
        .first()
    )


def invite_accept(*, invite: Invite, user: AbstractBaseUser) -> Membership:
    with transaction.atomic():
        # The link is single-use: of two people opening it at once, one wins this UPDATE.
        won = Invite.objects.filter(pk=invite.pk, accepted_at=None).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not won:
            raise ServiceError("This invite link has already been used.")
        membership, created = Membership.objects.get_or_create(
            user=user, team=invite.team, defaults={"role": invite.role}
        )
        if not created and invite.role == Membership.Role.ADMIN and not membership.is_admin:
            membership.role = Membership.Role.ADMIN
            membership.save(update_fields=["role"])
    return membership


def user_join_by_invite(*, invite: Invite, username: str, password: str) -> AbstractBaseUser:
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password)
        invite_accept(invite=invite, user=user)
    return user


def invite_revoke(*, invite: Invite) -> None:
    Invite.objects.filter(pk=invite.pk, accepted_at=None).delete()
