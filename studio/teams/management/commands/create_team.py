from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studio.teams.services import team_create


class Command(BaseCommand):
    help = "Create another team with an existing user as its admin."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--admin", required=True, help="Username of the team's first admin.")

    def handle(self, *args, name: str, admin: str, **options):
        user = get_user_model().objects.filter(username=admin).first()
        if user is None:
            raise CommandError(f"No user named {admin!r}.")
        team = team_create(name=name, admin=user)
        self.stdout.write(self.style.SUCCESS(f"Created team {team.name!r} with {admin} as admin."))
