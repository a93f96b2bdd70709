"""The refusals particular to submitting a video (ServiceError is in studio.lib.errors)."""

from studio.lib.errors import ServiceError


class QueueFull(ServiceError):
    """No room for another video now (HTTP 429): a queue limit, or in strict mode every
    account's slots. `running` are the videos in the way; `upstream` is set when the upstream
    itself said "too many" (useapi.net's second 429 flavour)."""

    def __init__(self, message: str, *, running: list | None = None, upstream: str = ""):
        super().__init__(message)
        self.running = running or []
        self.upstream = upstream


class Refused(ServiceError):
    """The upstream refused the prompt for moderation (HTTP 422); nothing was kept."""


class AccountUnavailable(ServiceError):
    """The account a create is pinned to cannot take it for hours: out of credits (`status`
    412) or on hold (596), useapi.net's codes, so a batch script moves on to another one."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message, field="account")
        self.status = status


class QuotaExceeded(ServiceError):
    """The member's quota is used up (HTTP 429 in the API); `retry_after` is the seconds until
    the quota that refused resets (midnight, or the first of the month)."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
