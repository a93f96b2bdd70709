"""The embedded default's first team, admin and local account."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from studio.teams.models import Team
from studio.teams.services import team_create
from videos.services.accounts import account_ensure_local
from videos.services.dispatch import schedules_ensure

User = get_user_model()


@dataclass
class Bootstrap:
    team: Team
    username: str = ""
    password: str = ""  # set only when the admin was created just now


def studio_bootstrap(*, team_name: str = "My team", username: str = "admin") -> Bootstrap:
    """First run: a team, an admin with a generated password, and a local renderer account."""
    with transaction.atomic():
        schedules_ensure()
        team = Team.objects.order_by("id").first()
        if team is not None:
            account_ensure_local(team=team)
            return Bootstrap(team=team)
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_user(username=username, password=password)
        team = team_create(name=team_name, admin=admin)
    return Bootstrap(team=team, username=username, password=password)
