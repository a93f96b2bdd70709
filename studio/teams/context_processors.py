from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from studio.teams.access import current_membership
from studio.teams.forms import SwitchTeamForm
from studio.teams.selectors import user_teams


def team(request: HttpRequest) -> dict:
    """The current membership and the user's teams, for the header's team switcher."""
    membership = current_membership(request)
    teams = SimpleLazyObject(lambda: user_teams(user=request.user))
    return {
        "membership": membership,
        "teams": teams,
        "team_switch": SimpleLazyObject(lambda: SwitchTeamForm.for_member(membership, teams)),
    }
