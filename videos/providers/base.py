"""The one small interface every upstream sits behind.

A provider turns a Job into a Result. It is the only code that talks to its upstream; the service
layer owns the database, storage and slots, and hands the provider plain values and a workdir.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Job:
    video_id: int
    prompt: str
    prompt_optimization: bool = True
    # A local copy of the first-frame image, already validated and re-encoded.
    image_path: Path | None = None
    model: str = ""
    resolution: str = ""
    duration: int | None = None


@dataclass(frozen=True)
class Result:
    # Files inside the workdir; the service streams them into storage.
    video_path: Path
    poster_path: Path
    width: int
    height: int
    duration: float


# Called with (percent 0..100, short message). It may raise to stop the provider, e.g. when the
# video was cancelled or taken over by another worker; the provider must let that propagate.
ProgressFn = Callable[[int, str], None]


class ProviderError(Exception):
    """An upstream refused or failed the job.

    permanent: retrying the same job will not help (bad input, refused content).
    moderated: the upstream refused the content itself.
    """

    def __init__(self, message: str, *, permanent: bool = False, moderated: bool = False):
        super().__init__(message)
        self.permanent = permanent or moderated
        self.moderated = moderated


class Provider(Protocol):
    kind: str
    label: str

    def render(self, job: Job, *, workdir: Path, on_progress: ProgressFn) -> Result: ...
