"""The one small interface every upstream sits behind.

A provider is built for one account and is the only code that talks to its upstream; the
service layer owns the database, storage and slots, and hands it plain values and a workdir.

Two shapes: the local renderer does the whole job in `render`; a remote provider (MiniMax,
useapi.net) is driven step by step — `submit`, `poll` until final, `fetch` — so no worker waits
out the minutes an upstream takes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Job:
    video_id: int
    prompt: str
    prompt_optimization: bool = True
    # Local copies of the first- and last-frame images, already validated and re-encoded.
    image_path: Path | None = None
    last_image_path: Path | None = None
    model: str = ""
    resolution: str = ""
    duration: int | None = None
    # Subject reference (S2V-01): a local copy of the face image.
    subject_image_path: Path | None = None
    # useapi.net only: its own create fields for a model only it runs (Video.passthrough),
    # with local copies of the extra reference images (fileID2..) in `reference_paths`.
    passthrough: dict = field(default_factory=dict)
    reference_paths: tuple[Path, ...] = ()
    # Remote providers: where the upstream should push status changes, if anywhere.
    callback_url: str = ""


@dataclass(frozen=True)
class Result:
    # Files inside the workdir; the service streams them into storage.
    video_path: Path
    poster_path: Path
    width: int
    height: int
    duration: float


@dataclass(frozen=True)
class AccountConfig:
    """What a provider needs to know about its account: plain values, secrets decrypted."""

    name: str
    kind: str
    credentials: dict = field(repr=False, default_factory=dict)
    base_url: str = ""
    region: str = "global"
    default_model: str = ""
    upstream_account: str = ""
    max_jobs: int = 1


@dataclass(frozen=True)
class Progress:
    """One poll's answer, in the studio's words."""

    state: str  # "pending" | "processing" | "success" | "failed" | "moderated"
    percent: int = 0
    message: str = ""
    file_ref: str = ""  # what `fetch` needs to download the result
    width: int | None = None
    height: int | None = None

    @property
    def final(self) -> bool:
        return self.state in ("success", "failed", "moderated")


# Called with (percent 0..100, short message). It may raise to stop the provider, e.g. when the
# video was cancelled or taken over by another worker; the provider must let that propagate.
ProgressFn = Callable[[int, str], None]


class ProviderError(Exception):
    """An upstream refused or failed the job. Plain ProviderErrors are transient: retry later.

    permanent: retrying the same job will not help (bad input, refused content).
    moderated: the upstream refused the content itself.
    """

    def __init__(self, message: str, *, permanent: bool = False, moderated: bool = False):
        super().__init__(message)
        self.permanent = permanent or moderated
        self.moderated = moderated


class RateLimited(ProviderError):
    """Too many requests for this account: hold its new work back for `seconds`."""

    kind = "rate"

    def __init__(self, message: str, *, seconds: float = 20.0):
        super().__init__(message)
        self.seconds = seconds


class AccountPaused(ProviderError):
    """The account cannot take work for a while: `kind` "credits" (out of balance or quota,
    useapi.net's 412) or "hold" (useapi.net's 596)."""

    def __init__(self, message: str, *, seconds: float = 3600.0, kind: str = "credits"):
        super().__init__(message)
        self.seconds = seconds
        self.kind = kind


class AccountRejected(ProviderError):
    """The upstream refuses the account's credentials: it needs an admin, so disable it."""


class InDoubt(ProviderError):
    """The request went out but no usable answer came back (timeout, dropped connection,
    garbled body, a gateway error): the upstream may or may not have acted on it."""


class Provider(Protocol):
    kind: str
    label: str


class LocalProvider(Provider, Protocol):
    def render(self, job: Job, *, workdir: Path, on_progress: ProgressFn) -> Result: ...


class RemoteProvider(Provider, Protocol):
    # Whether `find` can look up a create whose answer was lost.
    can_find: bool

    def check(self) -> str:
        """One cheap authenticated call; returns a line for the admin, raises ProviderError."""
        ...

    def submit(self, job: Job) -> str:
        """Sends the create; returns the upstream's id for the new video."""
        ...

    def find(self, job: Job, *, known_ids: set[str]) -> str | None:
        """Looks for a create whose answer was lost; None when it is not upstream."""
        ...

    def poll(self, upstream_id: str) -> Progress: ...

    def fetch(self, upstream_id: str, file_ref: str, *, workdir: Path) -> Path:
        """Downloads the finished MP4 into workdir (minting a fresh URL each time)."""
        ...
