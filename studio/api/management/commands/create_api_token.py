from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studio.api import services
from studio.teams.models import Membership


class Command(BaseCommand):
    help = "Prints a new API token for a user, for scripts (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--team", help="The team the token acts in (default: the user's only team)."
        )
        parser.add_argument("--name", default="Command line", help="A name to recognise it by.")

    def handle(self, *args, username: str, team: str | None, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        memberships = Membership.objects.filter(user=user).select_related("team")
        if team:
            memberships = memberships.filter(team__name=team)
        found = list(memberships[:2])
        if not found:
            where = f"a team called {team!r}" if team else "any team"
            raise CommandError(f"{username} is not in {where}.")
        if len(found) > 1:
            names = ", ".join(m.team.name for m in memberships.order_by("team__name"))
            raise CommandError(f"{username} is in several teams ({names}); pick one with --team.")
        _, raw = services.api_token_create(user=user, team=found[0].team, name=name)
        self.stdout.write(raw)
