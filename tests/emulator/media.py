"""The one real MP4 the emulator serves, and the checks on images clients send.

Every finished task downloads the same clip: rendering is not what the emulator tests. The clip is
rendered once by the local renderer and kept on disk, shared by every emulator in every process.
"""

import base64
import binascii
import contextlib
import io
import os
import shutil
import tempfile
import threading
from pathlib import Path

from PIL import Image

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows; the in-process lock still applies
    fcntl = None  # type: ignore[assignment]

# Outside the repository, and per user so two accounts on one machine do not share a lock file;
# the clip survives between runs (rendering it takes a few seconds), like any other cache.
_USER = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / f"studio-emulator-cache-{_USER}"
# Bump when the renderer's output changes, so stale clips are not reused.
CLIP_NAME = "clip-v1-1280x720.mp4"
POSTER_NAME = "clip-v1-1280x720.jpg"
PROMPT = "MiniMax emulator"


class ClipCache:
    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory else DEFAULT_CACHE_DIR
        self._lock = threading.Lock()

    @property
    def video(self) -> Path:
        self.ensure()
        return self.directory / CLIP_NAME

    @property
    def poster(self) -> Path:
        self.ensure()
        return self.directory / POSTER_NAME

    def size(self) -> int:
        return self.video.stat().st_size

    def ready(self) -> bool:
        return (self.directory / CLIP_NAME).exists() and (self.directory / POSTER_NAME).exists()

    def ensure(self) -> None:
        """Renders the clip unless a previous run or another process already did."""
        if self.ready():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock, self._process_lock():
            if not self.ready():  # another thread or process may have finished meanwhile
                self._render()

    @contextlib.contextmanager
    def _process_lock(self):
        # A file lock keeps parallel test processes from rendering the same clip at once.
        if fcntl is None:
            yield
            return
        with (self.directory / ".render.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _render(self) -> None:
        # Imported here: PyAV is slow to import and only needed the first time ever.
        from videos.providers.base import Job
        from videos.providers.local import LocalRenderer

        workdir = Path(tempfile.mkdtemp(prefix="render-", dir=self.directory))
        try:
            result = LocalRenderer(min_seconds=0).render(
                Job(video_id=0, prompt=PROMPT), workdir=workdir, on_progress=lambda p, m: None
            )
            # Same filesystem, so os.replace is atomic: readers see no file or a whole one.
            # The poster goes first because ready() only trusts the clip once both exist.
            os.replace(result.poster_path, self.directory / POSTER_NAME)
            os.replace(result.video_path, self.directory / CLIP_NAME)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


class BadImage(ValueError):
    pass


def decode_data_url(value: str) -> bytes:
    """The bytes of a `data:image/...;base64,` URL; BadImage if it is not one."""
    header, _, payload = value.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64") or not payload:
        raise BadImage("must be an http(s) URL or a data:image/<type>;base64, URL")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadImage("data URL is not valid base64") from exc


def inspect_image(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of a JPEG, PNG or WebP image; BadImage for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format or "", image.size
            image.verify()  # catches truncated and corrupt files, not just a plausible header
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage("is not a readable image") from exc
    if image_format not in ("JPEG", "PNG", "WEBP"):
        raise BadImage(f"format {image_format} is not supported (JPG, JPEG, PNG, WebP)")
    return image_format, width, height


def check_minimax_image(name: str, value: object) -> None:
    """MiniMax's documented limits for frame and subject images; BadImage with the reason."""
    if not isinstance(value, str) or not value:
        raise BadImage(f"{name} must be a non-empty string")
    if value.startswith(("http://", "https://")):
        return  # the real service fetches it later; the emulator takes it on trust
    try:
        data = decode_data_url(value)
        _format, width, height = inspect_image(data)
    except BadImage as exc:
        raise BadImage(f"{name} {exc}") from exc
    if len(data) >= 20 * 1024 * 1024:
        raise BadImage(f"{name} must be smaller than 20MB")
    if min(width, height) <= 300:
        raise BadImage(f"{name} short side must be greater than 300 pixels")
    if not 2 / 5 <= width / height <= 5 / 2:
        raise BadImage(f"{name} aspect ratio must be between 2:5 and 5:2")
