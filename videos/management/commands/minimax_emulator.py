import signal
import threading

from django.core.management.base import BaseCommand, CommandParser

from videos.emulator import Emulator, EmulatorConfig


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve the MiniMax + useapi.net emulator until Ctrl-C (see videos/emulator)."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = EmulatorConfig()
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument(
            "--seconds",
            type=float,
            default=defaults.processing_s,
            help="time a task spends Processing",
        )
        parser.add_argument("--preparing", type=float, default=defaults.preparing_s)
        parser.add_argument("--queueing", type=float, default=defaults.queueing_s)
        parser.add_argument("--rpm", type=int, default=defaults.rpm)
        parser.add_argument("--rate-window", type=float, default=defaults.rate_window_s)
        parser.add_argument(
            "--rate-limit-429",
            action="store_true",
            help="answer the rate limit with HTTP 429 instead of HTTP 200 + 1002",
        )
        parser.add_argument("--max-concurrent", type=int, default=0, help="per key; 0 = unlimited")
        parser.add_argument("--max-jobs", type=int, default=defaults.useapi_max_jobs)
        parser.add_argument("--download-ttl", type=float, default=defaults.download_ttl_s)
        parser.add_argument("--cache-dir", default=None)
        parser.add_argument(
            "--render-now", action="store_true", help="render the clip before serving"
        )
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args, **options) -> None:
        config = EmulatorConfig(
            preparing_s=options["preparing"],
            queueing_s=options["queueing"],
            processing_s=options["seconds"],
            rpm=options["rpm"],
            rate_window_s=options["rate_window"],
            rate_limit_http_429=options["rate_limit_429"],
            max_concurrent=options["max_concurrent"],
            useapi_max_jobs=options["max_jobs"],
            download_ttl_s=options["download_ttl"],
        )
        emulator = Emulator(
            host=options["host"],
            port=options["port"],
            config=config,
            cache_dir=options["cache_dir"],
            verbose=options["verbose"],
        )
        # SIGTERM too: `kill <pid>` must stop the server as cleanly as Ctrl-C does.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        emulator.start(render=options["render_now"])
        self.stdout.write(emulator.url)
        self.stdout.write(
            f"MiniMax global {emulator.url}  mainland {emulator.url}/cn  "
            f"useapi {emulator.url}/v1/minimax  control {emulator.url}/_emulator/stats"
        )
        self.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            emulator.stop()
