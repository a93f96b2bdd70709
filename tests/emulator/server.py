"""The HTTP server: routing, fault injection, downloads, control routes, and the Emulator object.

One ThreadingHTTPServer in a background thread serves both protocols; a second thread moves task
statuses along in time and hands status changes to the callback sender.
"""

import contextlib
import hashlib
import hmac
import re
import secrets
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.emulator import minimax, useapi
from tests.emulator.callbacks import CallbackSender
from tests.emulator.config import EmulatorConfig
from tests.emulator.faults import fault_reply
from tests.emulator.media import ClipCache
from tests.emulator.state import State, Task
from tests.emulator.wire import Reply, Request

TICK_S = 0.02
CHUNK = 64 * 1024
MINIMAX_ROUTES = {
    ("POST", "/v1/video_generation"): ("create", minimax.create),
    ("GET", "/v1/query/video_generation"): ("query", minimax.query),
    ("GET", "/v1/files/retrieve"): ("retrieve", minimax.retrieve),
}
DOWNLOAD = re.compile(r"^/download/(\d+)\.mp4$")
COVER = re.compile(r"^/cover/(\d+)\.jpg$")


class Emulator:
    """A fake MiniMax (api.minimax.io, api.minimaxi.com under /cn) and useapi.net on one port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: EmulatorConfig | None = None,
        cache_dir: Path | str | None = None,
        verbose: bool = False,
    ):
        self.host, self.port, self.verbose = host, port, verbose
        self.state = State(config or EmulatorConfig())
        self.media = ClipCache(Path(cache_dir) if cache_dir else None)
        self.callbacks = CallbackSender(self.state)
        # Per instance: download URLs minted by one emulator are worthless to another.
        self._secret = secrets.token_bytes(32)
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def start(self, render: bool = False) -> "Emulator":
        """Starts serving; `render` makes the clip now instead of on the first download."""
        if render:
            self.media.ensure()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.emulator = self
        self.port = self._server.server_address[1]
        self._stopping.clear()
        self.callbacks.start()
        self._threads = [
            threading.Thread(target=self._serve_forever, name="emulator-http", daemon=True),
            threading.Thread(target=self._tick, name="emulator-clock", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.callbacks.stop()
        self._server = None

    def _serve_forever(self) -> None:
        # A short poll interval keeps stop() quick, which adds up over a test suite.
        assert self._server is not None
        self._server.serve_forever(poll_interval=0.05)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def configure(self, **changes: Any) -> EmulatorConfig:
        return self.state.configure(changes)

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    def fault(self, route: str, kind: str, count: int = 1, seconds: float = 0) -> None:
        self.state.add_fault(route, kind, count, seconds)

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def create_bodies(self, protocol: str | None = None) -> list[dict[str, Any]]:
        """The JSON bodies of the last creates received (oldest first, at most 50), accepted
        or refused; `protocol` "minimax" or "useapi" keeps only that API's."""
        return self.state.created_bodies(protocol)

    def last_create(self, protocol: str | None = None) -> dict[str, Any] | None:
        """The body of the last create received, exactly as the client sent it."""
        bodies = self.create_bodies(protocol)
        return bodies[-1] if bodies else None

    def reset(self) -> None:
        """Forgets every task, fault and counter, and restores the config given at start."""
        self.state.reset()

    # Signed, expiring download URLs, like a CDN's.

    def download_url(self, base_url: str, task: Task) -> str:
        # Millisecond expiry, so sub-second TTLs can be tested.
        expires = f"{time.time() + self.state.config.download_ttl_s:.3f}"
        sig = self._sign(task.file_id or "", expires)
        return f"{base_url}/download/{task.file_id}.mp4?expires={expires}&sig={sig}"

    def _sign(self, file_id: str, expires: str) -> str:
        return hmac.new(self._secret, f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def download(self, req: Request, file_id: str) -> Reply:
        expires, sig = req.query.get("expires", ""), req.query.get("sig", "")
        if self.state.get_file(file_id) is None:
            return _cdn_error(404, "NoSuchKey", "The specified key does not exist.")
        if not hmac.compare_digest(sig, self._sign(file_id, expires)):
            return _cdn_error(403, "SignatureDoesNotMatch", "The request signature is invalid.")
        if float(expires) < time.time():
            return _cdn_error(403, "AccessDenied", "Request has expired")
        self.state.count_download()
        return Reply(file=self.media.video, content_type="video/mp4")

    def cover(self, file_id: str) -> Reply:
        if self.state.get_file(file_id) is None:
            return _cdn_error(404, "NoSuchKey", "The specified key does not exist.")
        return Reply(file=self.media.poster, content_type="image/jpeg")

    # Time passing

    def _tick(self) -> None:
        while not self._stopping.wait(TICK_S):
            for event in self.state.take_events():
                try:
                    self._push(event.task, event.status)
                except Exception:  # one bad push must not stop time for every task
                    traceback.print_exc(file=sys.stderr)

    def _push(self, task: Task, status: str) -> None:
        if not task.callback_url:
            return
        if task.protocol == "minimax":
            lowercase = self.state.config.callback_lowercase
            body = minimax.query_body(task, status, lowercase=lowercase)
            self.callbacks.send(task.callback_url, body, status)
        elif status in ("Success", "Fail"):  # useapi calls replyUrl once, on the final state
            body = useapi.final_callback(self, self.url, task)
            self.callbacks.send(task.callback_url, body, status)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    emulator: Emulator

    def __init__(self, *args: Any, **kwargs: Any):
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def close_connections(self) -> None:
        # Kept-alive connections would otherwise go on being served after stop().
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a requests.Session expects
    server_version = "minimax-emulator"
    timeout = 60  # an idle kept-alive connection gives up its thread after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def _handle(self) -> None:
        emu = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        path, region = parts.path, "global"
        if path == "/cn" or path.startswith("/cn/"):
            path, region = path[3:] or "/", "cn"
        host = self.headers.get("Host") or emu.url.removeprefix("http://")
        req = Request(
            method=self.command,
            path=path,
            region=region,
            query=dict(parse_qsl(parts.query)),
            headers=self.headers,
            body=body,
            # URLs handed out use the host the client dialled, so they work through any alias.
            base_url=f"http://{host}",
        )
        try:
            if path.startswith("/_emulator/"):
                self._send(_control(emu, req))
                return
            self._serve(emu, req)
        except Exception:  # an emulator bug must show up as a 500, not a hung client
            traceback.print_exc(file=sys.stderr)
            self._send(Reply.json({"error": "emulator error", "code": 500}, status=500))

    def _serve(self, emu: Emulator, req: Request) -> None:
        route, run = _route(emu, req)
        emu.state.count_request(route, _stats_key(req, route))
        fault = emu.state.take_fault(route)
        if fault is None:
            self._send(run())
            return
        if fault.kind not in ("slow", "drop_after") and fault.seconds:
            time.sleep(fault.seconds)
        if fault.kind == "drop":
            self._drop()
        elif fault.kind == "drop_after":
            run()  # the work is done; only the answer is lost
            time.sleep(fault.seconds)
            self._drop()
        elif fault.kind == "slow":
            # Processed first, so a client that times out meanwhile still left its mark.
            reply = run()
            time.sleep(fault.seconds)
            self._send(reply)
        else:
            self._send(fault_reply(fault.kind, route, req.path.startswith(useapi.PREFIX)))

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, reply: Reply) -> None:
        size = reply.file.stat().st_size if reply.file else len(reply.body)
        start, end, status = 0, size - 1, reply.status
        ranged = _range(self.headers.get("Range"), size) if reply.file else None
        if ranged:
            (start, end), status = ranged, 206
        try:
            self.send_response(status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(max(0, end - start + 1)))
            self.send_header("Trace-Id", secrets.token_hex(16))
            if reply.file:
                self.send_header("Accept-Ranges", "bytes")
            if ranged:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command == "HEAD":
                return
            if reply.file is None:
                self.wfile.write(reply.body)
                return
            with reply.file.open("rb") as handle:
                handle.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = handle.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except OSError:
            # The client went away (or stop() shut the socket); there is nobody to tell.
            self.close_connection = True


def _route(emu: Emulator, req: Request) -> tuple[str, Any]:
    """(route name for faults and stats, a callable producing the reply)."""
    known = MINIMAX_ROUTES.get((req.method, req.path.rstrip("/") or "/"))
    if known:
        name, handler = known
        return name, lambda: handler(emu, req)
    if req.path.startswith(useapi.PREFIX + "/"):
        return _useapi_route(req), lambda: useapi.handle(emu, req)
    match = DOWNLOAD.match(req.path)
    if match and req.method in ("GET", "HEAD"):
        return "download", lambda: emu.download(req, match.group(1))
    match = COVER.match(req.path)
    if match and req.method in ("GET", "HEAD"):
        return "cover", lambda: emu.cover(match.group(1))
    if req.path.startswith("/oss/") and req.method in ("GET", "HEAD"):
        return "oss", lambda: useapi.oss(emu, req.path.removeprefix("/oss/"))
    return "other", lambda: Reply.json({"error": "Not found.", "code": 404}, status=404)


def _useapi_route(req: Request) -> str:
    parts = [part for part in req.path[len(useapi.PREFIX) :].split("/") if part]
    if req.method == "POST" and parts == ["videos", "create"]:
        return "create"
    if req.method == "GET" and parts[:1] == ["videos"]:
        return "query" if len(parts) > 1 else "list"
    if req.method == "POST" and parts == ["files"]:
        return "files"
    return parts[0] if parts else "other"


def _stats_key(req: Request, route: str) -> str | None:
    if req.path.startswith(useapi.PREFIX + "/"):
        return useapi.request_key(req) or None
    if route in ("create", "query", "retrieve"):
        return req.bearer or None
    return None


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single `bytes=a-b` range within the file, else None (whole file)."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", (header or "").strip())
    if not match or size == 0 or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        return max(0, size - int(last)), size - 1
    start, end = int(first), min(int(last) if last else size - 1, size - 1)
    return (start, end) if start <= end else None


def _cdn_error(status: int, code: str, message: str) -> Reply:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{secrets.token_hex(12).upper()}</RequestId></Error>"
    )
    return Reply(status=status, body=body.encode(), content_type="application/xml")


def _control(emu: Emulator, req: Request) -> Reply:
    """/_emulator/*: the Python API for processes that only know the URL."""
    action = (req.method, req.path.rstrip("/").removeprefix("/_emulator/"))
    try:
        data = req.json() if req.body else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        if action == ("GET", "stats"):
            return Reply.json(emu.stats())
        if action == ("GET", "creates"):
            return Reply.json(emu.create_bodies(req.query.get("protocol") or None))
        if action == ("GET", "config"):
            return Reply.json(emu.config.as_dict())
        if action == ("POST", "config"):
            return Reply.json(emu.configure(**data).as_dict())
        if action == ("POST", "fault"):
            emu.fault(
                str(data.get("route", "")),
                str(data.get("kind", "")),
                int(data.get("count", 1)),
                float(data.get("seconds", 0)),
            )
            return Reply.json({"ok": True, "faults_pending": emu.stats()["faults_pending"]})
        if action == ("POST", "reset"):
            emu.reset()
            return Reply.json({"ok": True})
        if action == ("POST", "render"):
            emu.media.ensure()
            return Reply.json({"ok": True, "bytes": emu.media.size()})
    except (ValueError, TypeError) as exc:
        return Reply.json({"error": str(exc), "code": 400}, status=400)
    return Reply.json({"error": "Not found.", "code": 404}, status=404)
