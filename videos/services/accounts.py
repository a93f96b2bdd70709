"""Writes about the team's upstream accounts."""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from studio.lib import netguard
from studio.lib.errors import ServiceError
from studio.teams.models import Team
from videos.models import ProviderAccount, UpstreamCall, Video
from videos.providers import ProviderError
from videos.scheduler import provider_for, useapi_orphans_fail
from videos.services.dispatch import dispatch_request


def account_ensure_local_for(team: Team) -> ProviderAccount:
    """The team_created hook (studio.teams.hooks)."""
    return account_ensure_local(team=team)


def account_ensure_local(*, team: Team) -> ProviderAccount:
    """Every team starts with a local renderer, so a fresh install makes real MP4s at once."""
    account, _ = ProviderAccount.objects.get_or_create(
        team=team,
        kind=ProviderAccount.Kind.LOCAL,
        defaults={"name": "Local renderer", "max_jobs": settings.Q_CLUSTER["workers"]},
    )
    return account


SECRET_FIELD = {ProviderAccount.Kind.MINIMAX: "api_key", ProviderAccount.Kind.USEAPI: "token"}


def _account_fields(kind: str, fields: dict) -> dict:
    allowed = {"name", "max_jobs", "rpm", "enabled", "region", "base_url", "default_model"}
    allowed |= {"price_per_video", "price_per_second"}
    if kind == ProviderAccount.Kind.USEAPI:
        allowed.add("upstream_account")
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(
            f"{', '.join(sorted(unknown))} cannot be set on this kind of account.",
            field=sorted(unknown)[0],
        )
    if fields.get("base_url"):
        # Checked again at every connect; here so a bad address is refused when it is typed.
        try:
            netguard.check_url(fields["base_url"], field="Base URL", allow_http=True)
        except netguard.UnsafeURL as exc:
            raise ServiceError(str(exc), field="base_url") from None
    return fields


def account_create(*, team: Team, kind: str, secret: str = "", **fields) -> ProviderAccount:
    """Adds a MiniMax or useapi.net account. The secret (API key or token) is encrypted at rest
    and never shown again."""
    if kind not in SECRET_FIELD:
        raise ServiceError(
            "Choose MiniMax API or useapi.net; the local renderer is built in.", field="kind"
        )
    if not secret.strip():
        raise ServiceError(
            "Paste the account's API key: it is needed to send videos.", field="secret"
        )
    if kind == ProviderAccount.Kind.USEAPI and not fields.get("upstream_account", "").strip():
        raise ServiceError(
            "Give the hailuoai.video account id registered at useapi.net.",
            field="upstream_account",
        )
    if ProviderAccount.objects.filter(team=team, name=fields.get("name", "")).exists():
        raise ServiceError("The team already has an account with this name.", field="name")
    account = ProviderAccount(team=team, kind=kind, **_account_fields(kind, fields))
    account.credentials = json.dumps({SECRET_FIELD[kind]: secret.strip()})
    account.full_clean(exclude=["credentials"])
    account.save()
    dispatch_request(reason=f"dispatch after adding account {account.pk}")
    return account


def account_update(*, account: ProviderAccount, secret: str = "", **fields) -> ProviderAccount:
    """Changes an account; a blank secret keeps the stored one. Enabling it, or a new key,
    clears a pause, so an admin who topped up the balance does not wait out the hour."""
    for name, value in _account_fields(account.kind, fields).items():
        setattr(account, name, value)
    if secret.strip() and account.kind in SECRET_FIELD:
        account.credentials = json.dumps({SECRET_FIELD[account.kind]: secret.strip()})
    if secret.strip() or fields.get("enabled"):
        # The admin has dealt with it: scripts stop skipping it as "failing" (GET accounts/).
        account.paused_until, account.pause_reason, account.pause_kind = None, "", ""
        account.last_error, account.last_error_at = "", None
    if (
        ProviderAccount.objects.filter(team=account.team, name=account.name)
        .exclude(pk=account.pk)
        .exists()
    ):
        raise ServiceError("The team already has an account with this name.", field="name")
    account.full_clean(exclude=["credentials"])
    account.save()
    if not account.enabled:
        useapi_orphans_fail(team_id=account.team_id)
    dispatch_request(reason=f"dispatch after changing account {account.pk}")
    return account


def account_resume(*, account: ProviderAccount) -> None:
    """Lifts a pause (rate limit, balance, on hold) by hand; the error that paused it no
    longer marks it failing (GET accounts/), or scripts would go on skipping it."""
    ProviderAccount.objects.filter(pk=account.pk).update(
        paused_until=None, pause_reason="", pause_kind="", last_error="", last_error_at=None
    )
    dispatch_request(reason=f"dispatch after resuming account {account.pk}")


def account_delete(*, account: ProviderAccount) -> None:
    """Deletes an account with nothing running on it; its finished videos stay in the gallery."""
    with transaction.atomic():
        account = ProviderAccount.objects.select_for_update().get(pk=account.pk)
        running = Video.objects.filter(attempt__account=account, status__in=Video.RUNNING).count()
        if running:
            raise ServiceError(
                f"{account.name} has {running} video(s) running. Disable it, let them finish, "
                "then delete it."
            )
        account.delete()
        useapi_orphans_fail(team_id=account.team_id)


@dataclass
class ConnectionTest:
    ok: bool
    message: str


def account_test(*, account: ProviderAccount) -> ConnectionTest:
    """One cheap authenticated call to the upstream; the answer is recorded on the account."""
    if not account.is_remote:
        return ConnectionTest(True, "The local renderer runs on the studio's own workers.")
    UpstreamCall.objects.create(account=account, kind=UpstreamCall.Kind.OTHER, at=timezone.now())
    try:
        message = provider_for(account).check()
    except ProviderError as exc:
        ProviderAccount.objects.filter(pk=account.pk).update(
            last_error=str(exc)[:1000], last_error_at=timezone.now()
        )
        return ConnectionTest(False, str(exc))
    return ConnectionTest(True, message)
