from django.core.management.base import BaseCommand

from videos.services import studio_bootstrap


class Command(BaseCommand):
    help = "First run: create a team, its admin (password printed once) and a local renderer."

    def add_arguments(self, parser):
        parser.add_argument("--team", default="Studio", help="Name of the first team.")
        parser.add_argument("--username", default="admin", help="Username of its admin.")

    def handle(self, *args, team: str, username: str, **options):
        result = studio_bootstrap(team_name=team, username=username)
        if result.password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created team {result.team.name!r} and its admin.\n"
                    f"  username: {result.username}\n"
                    f"  password: {result.password}\n"
                    "This password is shown only now. After signing in, change it on your "
                    "profile (your name, top right) under Change password: /settings/password/"
                )
            )
