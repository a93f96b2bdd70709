"""File names a person downloads: the day it was made and the prompt's first words, so a folder
of downloads sorts by date and reads like the gallery ("2026-12-03 red fox trots 412.mp4")."""

import re
import unicodedata

from videos.models import Video

_WORDS = 6
_NOT_A_NAME = re.compile(r"[^\w\- ]+")


def download_name(video: Video, *, ext: str = "mp4") -> str:
    """Safe on every filesystem: letters, digits, spaces and dashes only, at most six words,
    and the video's id last so two videos with the same prompt never collide."""
    text = unicodedata.normalize("NFKC", video.prompt or "")
    words = _NOT_A_NAME.sub(" ", text).split()[:_WORDS]
    title = " ".join(words)[:60].strip() or ("joined clips" if video.kind == "join" else "video")
    return f"{video.created_at:%Y-%m-%d} {title} {video.pk}.{ext}"
