import contextlib
import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the web server and the django-q2 worker together; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--web-workers", default=os.environ.get("WEB_WORKERS", "2"))

    def handle(self, *args, host: str, port: str, web_workers: str, **options):
        python = sys.executable
        # Explicit handlers: a shell that starts us in the background ignores SIGINT, and
        # `kill <pid>` sends SIGTERM; either way both children must be stopped, not orphaned.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        web = [
            python, "-m", "gunicorn", "studio.wsgi",
            "--bind", f"{host}:{port}",
            "--workers", web_workers,
            "--threads", "4",
            "--access-logfile", "-",
            "--graceful-timeout", "10",
        ]  # fmt: skip
        # Each child leads its own process group, so a Ctrl-C reaches only this process, which
        # then stops each child in order. When the terminal's SIGINT hit every process of the
        # worker at once, django-q2's sentinel could outlive its parent as an orphan.
        children = [
            subprocess.Popen(web, start_new_session=True),
            subprocess.Popen([python, "manage.py", "qcluster"], start_new_session=True),
        ]
        self.stdout.write(
            self.style.SUCCESS(f"Studio running on http://{host}:{port}/ (Ctrl-C stops)")
        )
        code = 0
        try:
            # If either process dies, the studio is broken: stop the other one too.
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            code = next(child.returncode for child in children if child.poll() is not None) or 1
            self.stderr.write("A studio process stopped unexpectedly; shutting down.")
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            self._stop(children)
        sys.exit(code)

    def _stop(self, children: list[subprocess.Popen]) -> None:
        # SIGTERM lets gunicorn finish its requests and the worker finish or hand back the tasks
        # it holds; whatever of a child's group is still there after the grace period is killed.
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            # ProcessLookupError: the whole group is gone already.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
