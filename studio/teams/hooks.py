"""What other apps do when a team changes shape.

studio.teams sits below videos and the API (see the import-linter contracts in pyproject.toml),
so it cannot call them. They register here, in their AppConfig.ready(); the team services call
every registered function inside their transaction, so a failing hook undoes the change.
"""

from collections.abc import Callable

from studio.lib.hooks import run  # noqa: F401 (re-exported: hooks.run(hooks.x, ...))
from studio.teams.models import Membership, Team

# Called with the new team, e.g. to give it the local renderer account.
team_created: list[Callable[[Team], None]] = []
# Called with the team whose page is shown; each returns more context for the page (videos adds
# the team's accounts).
team_page: list[Callable[[Team], dict]] = []
# Called with a membership about to end (the member left or was removed), e.g. to revoke the
# member's API tokens for that team.
member_leaving: list[Callable[[Membership], None]] = []


def context(hooks: list[Callable[[Team], dict]], team: Team) -> dict:
    merged: dict = {}
    for hook in hooks:
        merged.update(hook(team))
    return merged
