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
# The API call that makes a video like this one again, shown on its detail page: called with the
# video and the site's address ("https://studio.example"), returns the command (studio.api
# registers it; videos cannot import the API). The first non-empty answer is shown.
video_api_call: list[Callable[..., str]] = []


def first_answer(hooks: list[Callable[..., str]], *args) -> str:
    for hook in hooks:
        answer = hook(*args)
        if answer:
            return answer
    return ""
