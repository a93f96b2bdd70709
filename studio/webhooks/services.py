from django.db import transaction
from django.utils import timezone

from studio.lib import netguard
from studio.lib.errors import ServiceError
from studio.teams.models import Team
from studio.webhooks.models import SigningSecret
from studio.webhooks.signing import new_secret


def signing_secret_ensure(*, team: Team) -> SigningSecret:
    """The team's signing secret row, made on first use."""
    found = SigningSecret.objects.filter(team=team).first()
    if found is not None:
        return found
    with transaction.atomic():
        # Two first callbacks (or a callback and the page) at the same moment: the team row
        # lock lets one make the secret and the other read it, never two different secrets.
        Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()
        row, _ = SigningSecret.objects.get_or_create(team=team, defaults={"secret": new_secret()})
    return row


def team_webhook_secret(*, team: Team) -> str:
    """The team's current signing secret, made on first use."""
    return signing_secret_ensure(team=team).secret


def team_webhook_rotate(*, team: Team) -> str:
    """A new signing secret; the old one keeps signing beside it for a day (SigningSecret)."""
    with transaction.atomic():
        # The lock: two admins rotating at once would otherwise both keep the same "previous"
        # and lose the secret in between (receivers on it would fail for a day).
        Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()
        row = SigningSecret.objects.filter(team=team).first()
        fresh = new_secret()
        SigningSecret.objects.update_or_create(
            team=team,
            defaults={
                "secret": fresh,
                "previous": row.secret if row else "",
                "rotated_at": timezone.now(),
            },
        )
    return fresh


def team_api_settings(
    *,
    team: Team,
    api_strict: bool,
    webhook_progress: bool,
    user_queue_limit: int | None,
    team_queue_limit: int | None,
    default_reply_url: str = "",
) -> Team:
    default_reply_url = default_reply_url.strip()
    if default_reply_url:
        try:
            netguard.check_url(default_reply_url, field="The default replyUrl")
        except netguard.UnsafeURL as exc:
            raise ServiceError(str(exc), field="default_reply_url") from None
    Team.objects.filter(pk=team.pk).update(
        api_strict=api_strict,
        webhook_progress=webhook_progress,
        user_queue_limit=user_queue_limit,
        team_queue_limit=team_queue_limit,
        default_reply_url=default_reply_url,
    )
    team.refresh_from_db()
    return team
