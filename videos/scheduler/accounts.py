"""Account state the scheduler keeps: the provider for an account, the rate record (every
upstream call, and the creates counted against the account's rate), pauses, errors and
disabling an account an admin must fix."""

import json
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from studio import conf
from videos.models import ProviderAccount, UpstreamCall, Video
from videos.providers import AccountConfig, LocalProvider, RemoteProvider, get_provider

USEAPI = ProviderAccount.Kind.USEAPI


def provider_for(account: ProviderAccount) -> LocalProvider | RemoteProvider:
    return get_provider(account_config(account))


def account_config(account: ProviderAccount) -> AccountConfig:
    try:
        credentials = json.loads(account.credentials or "{}")
    except ValueError:
        credentials = {}
    return AccountConfig(
        name=account.name,
        kind=account.kind,
        credentials=credentials,
        base_url=account.base_url,
        region=account.region,
        default_model=account.default_model,
        upstream_account=account.upstream_account,
        max_jobs=account.max_jobs,
    )


def record_call(account: ProviderAccount, kind: str, at=None) -> None:
    UpstreamCall.objects.create(account=account, kind=kind, at=at or timezone.now())


def creates_left(account: ProviderAccount, now) -> int:
    """Creates the account may still send in the current rate window."""
    since = now - timedelta(seconds=conf.RATE_WINDOW_SECONDS)
    recent = UpstreamCall.objects.filter(
        account=account, kind=UpstreamCall.Kind.CREATE, at__gt=since
    ).count()
    return account.rpm - recent


def calls_prune() -> None:
    """The rate window and the accounts page look back a minute; an hour is plenty to keep."""
    UpstreamCall.objects.filter(at__lt=timezone.now() - timedelta(hours=1)).delete()


def account_pause(account: ProviderAccount, seconds: float, reason: str, *, kind: str) -> None:
    """Holds new work back for `seconds`; `kind` is "rate", "credits" or "hold" (see
    ProviderAccount.pause_kind)."""
    until = timezone.now() + timedelta(seconds=seconds)
    # Only ever lengthens a pause: a short "slow down" must not cut a longer one short.
    ProviderAccount.objects.filter(pk=account.pk).filter(
        Q(paused_until=None) | Q(paused_until__lt=until)
    ).update(paused_until=until, pause_reason=reason[:200], pause_kind=kind)
    account_error(account, reason)


def account_error(account: ProviderAccount, error: str) -> None:
    ProviderAccount.objects.filter(pk=account.pk).update(
        last_error=error[:1000], last_error_at=timezone.now()
    )


def account_disable(*, account: ProviderAccount, reason: str) -> None:
    """Stops new work on an account an admin must fix; its queued work goes to other accounts."""
    ProviderAccount.objects.filter(pk=account.pk).update(
        enabled=False, last_error=reason[:1000], last_error_at=timezone.now()
    )
    useapi_orphans_fail(team_id=account.team_id)


def useapi_orphans_fail(*, team_id: int) -> int:
    """Fails the team's queued videos that only a useapi.net account can run (Veo, Sora,
    Seedance) once it has no enabled one left: no other account will ever take them, and a
    script polling them must get a final answer, not wait for ever. A create checks the same
    (videos.services.submit), so this covers accounts disabled or deleted after it.

    An admin enabling a useapi.net account at the same moment may see these fail needlessly;
    they are only queued, so creating them again costs nothing upstream."""
    if ProviderAccount.objects.filter(team_id=team_id, kind=USEAPI, enabled=True).exists():
        return 0
    return Video.objects.filter(
        team_id=team_id, status=Video.Status.QUEUED, useapi_only=True
    ).update(
        status=Video.Status.FAILED,
        error="No useapi.net account is enabled in the team any more, and only one can run this "
        "model. An admin can add or enable one under Accounts; then create the video again.",
        message="No account can run this model",
        finished_at=timezone.now(),
    )
