"""A private PostgreSQL cluster in a temporary directory, on a free loopback port, that a test
or a bench may stop and start at will (the shared server on 5432 is never touched)."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in versions:
        if (folder / name).exists():
            return str(folder / name)
    raise FileNotFoundError(f"{name} not found: install PostgreSQL's server binaries")


def available() -> bool:
    try:
        _bin("initdb")
        _bin("pg_ctl")
    except FileNotFoundError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """initdb, start, restart, stop. As root, the server runs as the `postgres` user, since
    PostgreSQL refuses to run as root."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="studio-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o755)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/studio"

    def _run(self, *argv: str) -> None:
        command = [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), *argv]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)

    def init(self) -> "PrivatePostgres":
        self._run(
            _bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"
        )
        self.start()
        self._run(
            _bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "studio"
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
