"""The plain request and reply values the protocol modules work with, free of socket details."""

import json
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # without the /cn region prefix and without the query string
    region: str  # "global" or "cn" (the api.minimaxi.com host)
    query: dict[str, str]
    headers: Message
    body: bytes
    base_url: str  # where this emulator answers, for URLs it hands out

    @property
    def bearer(self) -> str:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # streamed instead of body, with Range support

    @classmethod
    def json(cls, data: Any, status: int = 200) -> "Reply":
        return cls(status=status, body=json.dumps(data).encode())


def base_resp(code: int, message: str, **extra: Any) -> Reply:
    """A MiniMax v1 answer: HTTP 200 whatever happened, the verdict in base_resp."""
    return Reply.json({**extra, "base_resp": {"status_code": code, "status_msg": message}})


def useapi_error(code: int, message: str, **extra: Any) -> Reply:
    """A useapi.net answer: the HTTP status is the verdict, repeated in the body."""
    return Reply.json({"error": message, "code": code, **extra}, status=code)
