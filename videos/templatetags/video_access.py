"""Ownership in templates: who sees Cancel, Delete and Restore, and the Trash's Undo without
JavaScript. The rule itself is access.may_manage_video; templates only ask it."""

from django import template

from studio.teams.models import Membership
from videos.access import may_manage_video
from videos.models import Video
from videos.selectors_trash import UNDO_SESSION_KEY, trash_undo_video

register = template.Library()


@register.filter
def may_manage(membership: Membership | None, video: Video) -> bool:
    """`{% if membership|may_manage:video %}`: the card's Cancel and Delete, the Trash's Restore."""
    return membership is not None and may_manage_video(membership, video)


@register.simple_tag(takes_context=True)
def trash_undo(context) -> Video | None:
    """The video just deleted without JavaScript, for the gallery's "Moved to trash · Undo".
    Taken from the session once, as a message is: a reload no longer offers it."""
    request = context.get("request")
    membership = context.get("membership")
    if request is None or membership is None or UNDO_SESSION_KEY not in request.session:
        return None
    return trash_undo_video(membership=membership, video_id=request.session.pop(UNDO_SESSION_KEY))
