from django.http import HttpRequest

from videos.access import current_membership


def team(request: HttpRequest) -> dict:
    """The current membership for the header (team name, switcher, admin links)."""
    return {"membership": current_membership(request)}
