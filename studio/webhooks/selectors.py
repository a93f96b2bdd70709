from django.http import Http404

from studio.teams.models import Team
from studio.webhooks.models import WebhookDelivery


def team_deliveries(*, team: Team, limit: int = 50) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(team=team).order_by("-id")[:limit])


def delivery_for_admin(*, team: Team, delivery_id: int) -> WebhookDelivery:
    """One of the team's deliveries; another team's is a 404, like every lookup in access.py.
    The caller has checked that the user is the team's admin."""
    try:
        return WebhookDelivery.objects.get(pk=delivery_id, team=team)
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such delivery.") from None
