import os
import sys

from django.core.management.base import BaseCommand

from videos.supervisor import Child, Supervisor, run_supervised, worker_child


class Command(BaseCommand):
    help = (
        "Run the web server and the django-q2 task cluster under a supervisor that restarts "
        "either when it stops or the cluster is stuck; Ctrl-C stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--web-workers", default=os.environ.get("WEB_WORKERS", "2"))

    def handle(self, *args, host: str, port: str, web_workers: str, **options):
        web = Child(
            "web server",
            [
                sys.executable, "-m", "gunicorn", "studio.wsgi",
                "--bind", f"{host}:{port}",
                "--workers", web_workers,
                "--threads", "4",
                "--access-logfile", "-",
                "--graceful-timeout", "10",
            ],
        )  # fmt: skip
        run_supervised(
            self,
            Supervisor(web=web, worker=worker_child()),
            f"Studio running on http://{host}:{port}/ (Ctrl-C stops)",
        )
