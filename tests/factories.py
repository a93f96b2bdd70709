"""Plain factory functions: each makes one thing, with sensible defaults, and returns it."""

import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from studio.teams.models import Membership, Team
from videos.models import Attempt, ProviderAccount, Video
from videos.services import account_ensure_local

PASSWORD = "correct horse battery staple"


def make_user(username: str):
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


def make_team(name: str, *, admin=None, local_slots: int = 2) -> Team:
    team = Team.objects.create(name=name)
    if admin is not None:
        add_member(team, admin, role=Membership.Role.ADMIN)
    account = account_ensure_local(team=team)
    ProviderAccount.objects.filter(pk=account.pk).update(max_jobs=local_slots)
    return team


def add_member(team: Team, user, *, role: str = Membership.Role.MEMBER) -> Membership:
    return Membership.objects.create(team=team, user=user, role=role)


# Fields of a video's current try: given to make_video, they go on its Attempt.
# What only an Attempt has; a name both have (error, created_at) is the video's, what the team sees.
ATTEMPT_FIELDS = (
    {f.name for f in Attempt._meta.get_fields() if f.concrete}
    - {f.name for f in Video._meta.get_fields() if f.concrete}
    - {"id", "video"}
)


def make_video(team: Team, author, **fields) -> Video:
    """A video; `account=` or any other Attempt field gives it a current attempt (a claim)."""
    fields.setdefault("prompt", "A lighthouse at dusk, waves rolling in")
    tried = {name: fields.pop(name) for name in list(fields) if name in ATTEMPT_FIELDS}
    video = Video.objects.create(team=team, author=author, **fields)
    if tried:
        if tried.get("started_at") and "started_on" not in tried:
            tried["started_on"] = timezone.localdate(tried["started_at"])  # as the workers do
        video.attempt = Attempt.objects.create(video=video, **tried)
        video.save(update_fields=["attempt"])
    return video


def image_bytes(
    width: int = 640, height: int = 480, fmt: str = "PNG", color=(200, 80, 40)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str = "frame.png", content: bytes | None = None, content_type: str = "image/png"):
    return SimpleUploadedFile(name, content if content is not None else image_bytes(), content_type)
