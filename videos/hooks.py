"""What other apps do when videos change.

videos sits below studio.webhooks (see the import-linter contracts in pyproject.toml), so the
scheduler cannot call the webhook deliveries. studio.webhooks registers here, in its
AppConfig.ready(); the scheduler runs the hooks at the points named below.
"""

from collections.abc import Callable

from studio.lib.hooks import run  # noqa: F401 (re-exported: hooks.run(hooks.x, ...))

# Videos may have ended or moved on (after a dispatch pass, a few times a second in the
# scheduler loop, and as the loop stops): e.g. queue the replyUrl callbacks they owe.
videos_changed: list[Callable[[], object]] = []
# The periodic dispatch ran (at least once a minute): e.g. send deliveries whose retry is due.
dispatch_ran: list[Callable[[], object]] = []
