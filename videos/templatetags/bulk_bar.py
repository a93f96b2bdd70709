"""The gallery's bulk bar: the collections its select offers, and the one the gallery shows."""

from dataclasses import dataclass

from django import template
from django.db.models.functions import Lower

from studio.lib.forms import whole_number
from videos.models import Collection

register = template.Library()


@dataclass
class BulkChoices:
    collections: list[Collection]
    # The collection the gallery is filtered by (?collection=), whose cards "Remove" takes out.
    current: int | None


@register.simple_tag(takes_context=True)
def bulk_choices(context) -> BulkChoices:
    """`{% bulk_choices as bulk %}`. The collections the gallery's filters offer (the view's
    `choices`), else the team's, by name: one small query, whichever view renders the bar."""
    membership, request = context.get("membership"), context.get("request")
    collections = getattr(context.get("choices"), "collections", None)
    if collections is None:
        collections = (
            list(Collection.objects.filter(team_id=membership.team_id).order_by(Lower("name")))
            if membership is not None
            else []
        )
    current = whole_number(request.GET.get("collection", "")) if request is not None else None
    if current is not None and not any(c.pk == current for c in collections):
        current = None
    return BulkChoices(collections, current)
