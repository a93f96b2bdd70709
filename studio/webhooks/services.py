from django.db import transaction
from django.utils import timezone

from studio.lib import netguard
from studio.lib.errors import ServiceError
from studio.teams.models import Team
from studio.webhooks.signing import new_secret


def team_webhook_secret(*, team: Team) -> str:
    """The team's signing secret, made on first use."""
    if not team.webhook_secret:
        with transaction.atomic():
            locked = Team.objects.select_for_update().get(pk=team.pk)
            if not locked.webhook_secret:
                locked.webhook_secret = new_secret()
                locked.save(update_fields=["webhook_secret"])
        team.refresh_from_db()
    return team.webhook_secret


def team_webhook_rotate(*, team: Team) -> str:
    """A new signing secret; the old one keeps signing beside it for a day (see callbacks)."""
    from studio.webhooks.signing import new_secret

    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        locked.webhook_secret_previous = locked.webhook_secret
        locked.webhook_secret = new_secret()
        locked.webhook_rotated_at = timezone.now()
        locked.save(
            update_fields=["webhook_secret", "webhook_secret_previous", "webhook_rotated_at"]
        )
    team.refresh_from_db()
    return team.webhook_secret


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
            raise ServiceError(str(exc)) from None
    Team.objects.filter(pk=team.pk).update(
        api_strict=api_strict,
        webhook_progress=webhook_progress,
        user_queue_limit=user_queue_limit,
        team_queue_limit=team_queue_limit,
        default_reply_url=default_reply_url,
    )
    team.refresh_from_db()
    return team
