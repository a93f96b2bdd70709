"""Outgoing HTTP: the callback_url challenge and the status pushes that follow it.

Uses urllib, not requests, on purpose: a test that mocks requests in-process (e.g. with
`responses`) must not swallow the emulator's own calls to a real receiver.
"""

import json
import queue
import secrets
import threading
import time
import urllib.request
import zlib
from typing import Any

from tests.emulator.state import State


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not the challenge echoed: urllib would follow a POST's 301 as a
    GET (to https:// on a plain-HTTP port, behind SECURE_SSL_REDIRECT), which no upstream does."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError for the 3xx itself


# No proxies: receivers are on loopback, and a proxy from the environment would only get in the way.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
PUSH_TIMEOUT_S = 3.0


def _post(url: str, body: dict[str, Any], timeout: float) -> bytes:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "minimax-emulator"},
        method="POST",
    )
    with _OPENER.open(request, timeout=timeout) as response:
        return response.read(65536)


def check_challenge(url: str, timeout: float) -> bool:
    """True if the receiver echoes a fresh challenge within `timeout` seconds."""
    challenge = secrets.token_urlsafe(16)
    started = time.monotonic()
    try:
        reply = json.loads(_post(url, {"challenge": challenge}, timeout))
    except (OSError, ValueError):
        return False  # unreachable, HTTP error, timeout or not JSON: all mean "not verified"
    in_time = time.monotonic() - started <= timeout
    return in_time and isinstance(reply, dict) and reply.get("challenge") == challenge


class CallbackSender:
    """Background threads posting pushes; receiver errors are recorded, not raised.

    Like a real upstream, pushes for different tasks go out side by side, while each task's
    pushes (one callback URL) stay in order on the same thread.
    """

    THREADS = 8

    def __init__(self, state: State):
        self.state = state
        self._queues: list[queue.Queue[tuple[str, dict[str, Any], str] | None]] = [
            queue.Queue() for _ in range(self.THREADS)
        ]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n, q in enumerate(self._queues):
            thread = threading.Thread(
                target=self._run, args=(q,), name=f"emulator-callbacks-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout=PUSH_TIMEOUT_S + 1)
        self._threads = []

    def send(self, url: str, body: dict[str, Any], status: str) -> None:
        self._queues[zlib.crc32(url.encode()) % self.THREADS].put((url, body, status))

    def _run(self, q: "queue.Queue[tuple[str, dict[str, Any], str] | None]") -> None:
        while True:
            item = q.get()
            if item is None:
                return
            url, body, status = item
            try:
                _post(url, body, PUSH_TIMEOUT_S)
            except (OSError, ValueError) as exc:
                self.state.record_callback(url, status, ok=False, error=str(exc))
            else:
                self.state.record_callback(url, status, ok=True)
