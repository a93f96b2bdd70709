from django.core.management.base import BaseCommand

from videos.services import studio_bootstrap


class Command(BaseCommand):
    help = "First run: create a team, its admin (password printed once) and a local renderer."

    def add_arguments(self, parser):
        parser.add_argument("--team", default="My team", help="Name of the first team.")
        parser.add_argument("--username", default="admin", help="Username of its admin.")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the studio will be served."
        )

    def handle(self, *args, team: str, username: str, url: str, **options):
        result = studio_bootstrap(team_name=team, username=username)
        if result.password:
            # Last, and framed: `./run` prints this after the install and migration output, so
            # the one-time password is not lost in it.
            self.stdout.write(
                self.style.SUCCESS(
                    framed(
                        [
                            f"The studio is ready: {url}",
                            "",
                            f"  username  {result.username}",
                            f"  password  {result.password}",
                            "",
                            "The password is shown only this once. Change it after signing in",
                            "(your name, top right > Change password), or set a new one with:",
                            f"  .venv/bin/python manage.py changepassword {result.username}",
                            f"Team {result.team.name!r}: rename it on the Team page.",
                        ]
                    )
                )
            )


def framed(lines: list[str]) -> str:
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 4) + "+"
    body = [f"|  {line.ljust(width)}  |" for line in lines]
    return "\n".join(["", rule, *body, rule, ""])
