"""`python -m tests.emulator --port 8765`: serve the MiniMax + useapi.net emulator until Ctrl-C.

It runs without Django: nothing here reads the studio's settings or database.
"""

import argparse
import signal
import threading
from collections.abc import Sequence

from tests.emulator import Emulator, EmulatorConfig


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator",
        description="Serve the MiniMax + useapi.net emulator until Ctrl-C (see tests/emulator).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--seconds", type=float, default=defaults.processing_s, help="time a task spends Processing"
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
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="where the rendered clip is kept (default: a directory under the system temp dir)",
    )
    parser.add_argument("--render-now", action="store_true", help="render the clip before serving")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_args(argv)
    config = EmulatorConfig(
        preparing_s=options.preparing,
        queueing_s=options.queueing,
        processing_s=options.seconds,
        rpm=options.rpm,
        rate_window_s=options.rate_window,
        rate_limit_http_429=options.rate_limit_429,
        max_concurrent=options.max_concurrent,
        useapi_max_jobs=options.max_jobs,
        download_ttl_s=options.download_ttl,
    )
    emulator = Emulator(
        host=options.host,
        port=options.port,
        config=config,
        cache_dir=options.cache_dir,
        verbose=options.verbose,
    )
    # SIGTERM too: `kill <pid>` must stop the server as cleanly as Ctrl-C does.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    emulator.start(render=options.render_now)
    print(emulator.url)
    print(
        f"MiniMax global {emulator.url}  mainland {emulator.url}/cn  "
        f"useapi {emulator.url}/v1/minimax  control {emulator.url}/_emulator/stats",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("Stopping…", flush=True)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
