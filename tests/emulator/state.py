"""Everything the emulator remembers, behind one lock.

Task status is a function of time: each task keeps the timings it was created with, and
`advance()` moves stored statuses forward whenever anything reads them (and on a background
tick), recording each change as an event for the callback sender.
"""

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.config import EmulatorConfig, check_fault

RUNNING = ("Preparing", "Queueing", "Processing")
FINAL = ("Success", "Fail")
WINDOW_S = 60.0  # for requests_last_minute, whatever the rate window is
KEEP_BODIES = 50  # create bodies remembered for create_bodies(), newest last

# Width and height of the output per resolution (MiniMax and useapi names alike).
DIMENSIONS = {
    "480P": (854, 480),
    "512P": (910, 512),
    "720P": (1280, 720),
    "768P": (1366, 768),
    "1080P": (1920, 1080),
    "4K": (3840, 2160),
}


@dataclass
class Task:
    task_id: str
    key: str  # the MiniMax API key, or the useapi account id
    protocol: str  # "minimax" | "useapi"
    prompt: str
    model: str
    resolution: str
    duration: int
    outcome: str  # "success" | "fail" | "moderated", decided at create from the prompt
    preparing_s: float
    queueing_s: float
    processing_s: float
    has_first_frame: bool = False
    has_subject: bool = False
    callback_url: str | None = None
    created_at: float = field(default_factory=time.time)
    created_mono: float = field(default_factory=time.monotonic)
    status: str = "Preparing"
    finished_at: float | None = None
    file_id: str | None = None
    # useapi only
    token: str = ""
    video_id: str = ""
    options: str = ""
    reply_ref: str | None = None
    origin_files: list[dict[str, str]] = field(default_factory=list)

    @property
    def dimensions(self) -> tuple[int, int]:
        return DIMENSIONS.get(self.resolution, (1280, 720))

    def status_at(self, now: float) -> str:
        elapsed = now - self.created_mono
        if elapsed < self.preparing_s:
            return "Preparing"
        if elapsed < self.preparing_s + self.queueing_s:
            return "Queueing"
        if elapsed < self.preparing_s + self.queueing_s + self.processing_s:
            return "Processing"
        return "Success" if self.outcome == "success" else "Fail"

    def percent_at(self, now: float) -> int:
        if self.status in FINAL:
            return 100
        into = now - self.created_mono - self.preparing_s - self.queueing_s
        if into <= 0 or self.processing_s <= 0:
            return 0
        return max(1, min(99, int(into / self.processing_s * 100)))

    def summary(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "key": self.key,
            "protocol": self.protocol,
            "prompt": self.prompt,
            "model": self.model,
            "resolution": self.resolution,
            "duration": self.duration,
            "status": self.status,
            "outcome": self.outcome,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "file_id": self.file_id,
            "has_first_frame": self.has_first_frame,
            "has_subject": self.has_subject,
            "callback_url": self.callback_url,
            "video_id": self.video_id or None,
        }


@dataclass
class Fault:
    route: str
    kind: str
    remaining: int
    seconds: float


@dataclass(frozen=True)
class Event:
    """A status change, handed to the callback sender outside the lock."""

    task: Task
    status: str


class State:
    def __init__(self, config: EmulatorConfig):
        self.lock = threading.Lock()
        self.initial_config = config
        self.config = config
        self._clear()

    def _clear(self) -> None:
        self.tasks: dict[str, Task] = {}
        self.unfinished: set[str] = set()
        self.files: dict[str, Task] = {}  # file_id -> task
        self.videos: dict[str, Task] = {}  # useapi videoId -> task
        self.uploads: dict[str, dict[str, Any]] = {}  # useapi upload id -> {bytes, type, account}
        self.accounts: dict[str, int | None] = {"100001": None}  # account -> maxJobs override
        self.faults: list[Fault] = []
        self.events: list[Event] = []
        self.creates = 0
        self.create_attempts = 0
        self.requests: dict[str, int] = {}
        self.create_window: dict[str, deque[float]] = {}
        self.request_window: dict[str, deque[float]] = {}
        self.peak: dict[str, int] = {}
        self.callbacks: list[dict[str, Any]] = []
        self.downloads = 0
        # Every create body that parsed as JSON, accepted or not, so a test can see exactly
        # what a client sent (stats() leaves them out: image data URLs make them large).
        self.create_bodies: deque[dict[str, Any]] = deque(maxlen=KEEP_BODIES)

    # Config and faults

    def configure(self, changes: dict[str, Any]) -> EmulatorConfig:
        with self.lock:
            self.config = self.config.with_changes(changes)
            return self.config

    def reset(self) -> None:
        with self.lock:
            self.config = self.initial_config
            self._clear()

    def add_fault(self, route: str, kind: str, count: int, seconds: float) -> None:
        check_fault(route, kind, count, seconds)
        with self.lock:
            self.faults.append(Fault(route, kind, count, seconds))

    def take_fault(self, route: str) -> Fault | None:
        """Consumes one use of the oldest fault aimed at `route` (or at any route)."""
        with self.lock:
            for fault in self.faults:
                if fault.route in (route, "any"):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                    return Fault(fault.route, fault.kind, 1, fault.seconds)
        return None

    # Counting

    def count_request(self, route: str, key: str | None) -> None:
        now = time.monotonic()
        with self.lock:
            self.requests[route] = self.requests.get(route, 0) + 1
            if route == "create":
                self.create_attempts += 1
            if key:
                _push(self.request_window.setdefault(key, deque()), now, WINDOW_S)

    def record_callback(self, url: str, status: str, ok: bool, error: str = "") -> None:
        with self.lock:
            self.callbacks.append({"url": url, "status": status, "ok": ok, "error": error})

    def record_create(self, protocol: str, body: Any) -> None:
        with self.lock:
            self.create_bodies.append({"protocol": protocol, "body": body})

    def created_bodies(self, protocol: str | None) -> list[dict[str, Any]]:
        with self.lock:
            return [r["body"] for r in self.create_bodies if protocol in (None, r["protocol"])]

    def count_download(self) -> None:
        with self.lock:
            self.downloads += 1

    # Tasks

    def advance(self) -> None:
        """Moves every running task to its status for now; call with the lock held."""
        now = time.monotonic()
        for task_id in list(self.unfinished):
            task = self.tasks[task_id]
            status = task.status_at(now)
            if status == task.status:
                continue
            if status in FINAL:
                # file_id and finished_at first: readers outside the lock trust them once
                # they see the final status.
                if status == "Success":
                    task.file_id = self._new_id(15, self.files)
                    self.files[task.file_id] = task
                task.finished_at = time.time()
                self.unfinished.discard(task_id)
            task.status = status
            self.events.append(Event(task, status))

    def take_events(self) -> list[Event]:
        with self.lock:
            self.advance()
            events, self.events = self.events, []
            return events

    def running_count(self, key: str) -> int:
        """Unfinished tasks of `key`; call with the lock held."""
        self.advance()
        return sum(1 for task_id in self.unfinished if self.tasks[task_id].key == key)

    def rate_used(self, key: str) -> int:
        """Accepted creates of `key` within the rate window; call with the lock held."""
        window = self.create_window.get(key)
        if not window:
            return 0
        _push(window, None, self.config.rate_window_s)
        return len(window)

    def refusal(self, key: str, max_running: int) -> str | None:
        """'rate' or 'busy' if `key` may not create now; call with the lock held."""
        if self.rate_used(key) >= self.config.rpm:
            return "rate"
        if max_running and self.running_count(key) >= max_running:
            return "busy"
        return None

    def admit(self, task: Task, max_running: int) -> str | None:
        """Checks the limits and stores the task in one step, so racing creates cannot both
        slip under a limit. Returns the refusal, or None once the task exists."""
        with self.lock:
            refused = self.refusal(task.key, max_running)
            if refused:
                return refused
            self.tasks[task.task_id] = task
            self.unfinished.add(task.task_id)
            if task.video_id:
                self.videos[task.video_id] = task
            self.creates += 1
            _push(self.create_window.setdefault(task.key, deque()), time.monotonic(), 0)
            running = self.running_count(task.key)
            self.peak[task.key] = max(self.peak.get(task.key, 0), running)
            return None

    def new_id(self, digits: int) -> str:
        with self.lock:
            return self._new_id(digits, self.tasks)

    def _new_id(self, digits: int, taken: dict[str, Any]) -> str:
        # Random rather than sequential, like the real ids: a client must not do arithmetic on them.
        while True:
            value = str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
            if value not in taken and value not in self.tasks and value not in self.files:
                return value

    def get_task(self, task_id: str) -> Task | None:
        with self.lock:
            self.advance()
            return self.tasks.get(task_id)

    def get_file(self, file_id: str) -> Task | None:
        with self.lock:
            self.advance()
            return self.files.get(file_id)

    def get_video(self, video_id: str) -> Task | None:
        with self.lock:
            self.advance()
            return self.videos.get(video_id)

    def useapi_tasks(self, token: str, account: str | None) -> list[Task]:
        """The token's useapi tasks, newest first."""
        with self.lock:
            self.advance()
            found = [
                task
                for task in self.tasks.values()
                if task.protocol == "useapi"
                and task.token == token
                and (account is None or task.key == account)
            ]
        return sorted(found, key=lambda task: task.created_mono, reverse=True)

    # useapi accounts and uploads

    def touch_account(self, account: str, max_jobs: int | None = None) -> None:
        with self.lock:
            if max_jobs is not None or account not in self.accounts:
                self.accounts[account] = max_jobs if max_jobs is not None else None

    def account_max_jobs(self, account: str) -> int:
        with self.lock:
            return self.accounts.get(account) or self.config.useapi_max_jobs

    def account_list(self) -> list[str]:
        with self.lock:
            return list(self.accounts)

    def add_upload(self, data: bytes, content_type: str, account: str) -> str:
        with self.lock:
            upload_id = self._new_id(15, self.uploads)
            self.uploads[upload_id] = {"data": data, "type": content_type, "account": account}
            return upload_id

    def get_upload(self, upload_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.uploads.get(upload_id)

    # Stats

    def stats(self) -> dict[str, Any]:
        with self.lock:
            self.advance()
            for window in self.request_window.values():
                _push(window, None, WINDOW_S)
            tasks = sorted(self.tasks.values(), key=lambda task: task.created_mono)
            return {
                "creates": self.creates,
                "create_attempts": self.create_attempts,
                "requests": dict(self.requests),
                "tasks": [task.summary() for task in tasks],
                "running": {
                    key: sum(1 for tid in self.unfinished if self.tasks[tid].key == key)
                    for key in {self.tasks[tid].key for tid in self.unfinished}
                },
                "peak_concurrent": dict(self.peak),
                "requests_last_minute": {k: len(w) for k, w in self.request_window.items() if w},
                "creates_in_rate_window": {
                    key: self.rate_used(key) for key in list(self.create_window)
                },
                "downloads": self.downloads,
                "callbacks": list(self.callbacks),
                "faults_pending": [vars(fault).copy() for fault in self.faults],
                "config": self.config.as_dict(),
            }


def _push(window: deque[float], now: float | None, span: float) -> None:
    """Appends `now` (if given) and drops entries older than `span` seconds (0 = keep all)."""
    current = time.monotonic()
    if now is not None:
        window.append(now)
    if span:
        while window and window[0] <= current - span:
            window.popleft()
