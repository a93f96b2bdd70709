from studio.api.models import ApiToken
from studio.teams.models import Team


def user_api_tokens(*, user, team: Team) -> list[ApiToken]:
    """The user's own tokens in the team, newest first, revoked ones included."""
    return list(
        ApiToken.objects.filter(user=user, team=team).select_related("team").order_by("-id")
    )
