"""The emulator's knobs: one frozen dataclass, replaced whole whenever a setting changes.

Frozen, so a handler that took a snapshot keeps a consistent view while another thread (or the
/_emulator/config route) swaps in a new one.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

FAULT_ROUTES = ("create", "query", "retrieve", "download", "files", "any")
FAULT_KINDS = (
    "http_500",
    "http_502",
    "http_504",
    # useapi.net's own statuses: 412 out of credits, 596 account on hold.
    "http_412",
    "http_596",
    "slow",
    "drop",
    "drop_after",
    "malformed",
    "code_1000",
    "code_1001",
    "code_1002",
    "code_1004",
    "code_1008",
    "code_1013",
    "code_1024",
    "code_1033",
    "code_2013",
    "code_2049",
    "code_2056",
)


@dataclass(frozen=True)
class EmulatorConfig:
    # Status progression of every new task: Preparing, then Queueing, then Processing.
    preparing_s: float = 0.5
    queueing_s: float = 0.5
    processing_s: float = 4.0
    # Accepted creates per key (MiniMax) or per account (useapi) within the sliding window.
    rpm: int = 5
    rate_window_s: float = 60.0
    # MiniMax answers its rate limit with HTTP 200 + 1002; True answers HTTP 429 instead.
    rate_limit_http_429: bool = False
    # Unfinished tasks per key; 0 = unlimited.
    max_concurrent: int = 0
    # A prompt containing this word is refused at create (1026 / useapi 422).
    moderate_input_word: str = "forbidden"
    # A prompt containing this word is accepted but its video is flagged (Fail + 1027 / status 5).
    moderate_output_word: str = "nsfwresult"
    # A prompt containing this word ends in Fail with a message.
    fail_word: str = "failme"
    download_ttl_s: float = 3600.0
    invalid_keys: tuple[str, ...] = ()
    no_balance_keys: tuple[str, ...] = ()
    quota_keys: tuple[str, ...] = ()
    on_hold_keys: tuple[str, ...] = ()
    useapi_max_jobs: int = 3
    callback_lowercase: bool = True
    # How long the callback receiver has to echo the challenge (3 s in MiniMax's docs).
    callback_timeout_s: float = 3.0

    def __post_init__(self) -> None:
        # Lists arrive from JSON and from careless callers; tuples keep the config hashable.
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("_keys") and not isinstance(value, tuple):
                if isinstance(value, str):
                    value = (value,)
                object.__setattr__(self, field.name, tuple(str(v) for v in value))

    def with_changes(self, changes: dict[str, Any]) -> "EmulatorConfig":
        """A copy with `changes` applied; unknown names or wrong types raise ValueError."""
        known = {field.name: field for field in dataclasses.fields(self)}
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown config field {name!r}")
            clean[name] = _coerce(name, getattr(self, name), value)
        return dataclasses.replace(self, **clean)

    def as_dict(self) -> dict[str, Any]:
        return {name: list(v) if isinstance(v, tuple) else v for name, v in vars(self).items()}


def _coerce(name: str, current: Any, value: Any) -> Any:
    # Type follows the default, so JSON numbers and lists land as the field expects.
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(current, int | float) and not isinstance(current, bool):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
        return type(current)(value)
    if isinstance(current, tuple):
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} must be a list of strings")
        return tuple(str(v) for v in value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def check_fault(route: str, kind: str, count: int, seconds: float) -> None:
    if route not in FAULT_ROUTES:
        raise ValueError(f"route must be one of {', '.join(FAULT_ROUTES)}")
    if kind not in FAULT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    if count < 1:
        raise ValueError("count must be at least 1")
    if seconds < 0:
        raise ValueError("seconds must not be negative")
