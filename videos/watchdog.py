"""Kills the supervisor's process groups when the supervisor dies, however it dies.

`python -m videos.watchdog` reads lines "groups <pgid> <pgid> ..." on stdin from the supervisor,
which writes one whenever it starts or restarts a child. A supervisor that stops normally
stops its children itself; one that is killed (even with SIGKILL, which runs no handler)
closes the pipe by dying, and this process then stops each group: SIGTERM to its leader, a
grace period, SIGKILL to the group. Without it the web server and the task cluster, each the
leader of its own session, would live on as orphans. Pure standard library, so it starts in
milliseconds.
"""

import contextlib
import os
import signal
import sys
import time

GRACE_SECONDS = 10.0


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_groups(pgids: list[int], grace: float = GRACE_SECONDS) -> None:
    for pgid in pgids:
        # The group's leader first (its pid is the group's id): it stops the rest in order.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pgid) for pgid in pgids):
        time.sleep(0.1)
    for pgid in pgids:
        if _alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


def main() -> None:
    # Ctrl-C is the supervisor's to handle; this process only acts when the pipe closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    grace = float(sys.argv[1]) if len(sys.argv) > 1 else GRACE_SECONDS
    pgids: list[int] = []
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["groups"]:
            pgids = [int(word) for word in words[1:]]
    stop_groups(pgids, grace)


if __name__ == "__main__":
    main()
