"""Standard Webhooks v1 signatures (https://www.standardwebhooks.com/).

A receiver checks `webhook-signature` with any Standard Webhooks library, so we follow the spec
to the byte rather than inventing a scheme.
"""

import base64
import hashlib
import hmac
import secrets as random_source
import time
from collections.abc import Mapping

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh endpoint secret, shown to the team once."""
    return PREFIX + base64.b64encode(random_source.token_bytes(SECRET_BYTES)).decode()


def sign(secrets: list[str], *, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` per secret; several are space-separated so a rotation has no gap."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(f"v1,{_digest(secret, signed)}" for secret in secrets)


def headers(secrets: list[str], *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def verify(
    secret: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = 300,
    now: int | None = None,
) -> bool:
    """What a receiver does; lives here so tests (and our docs) can check our own output."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not raw_timestamp or not signatures:
        return False
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        return False
    # A tolerance window limits replays of a captured request (receivers dedupe on webhook-id).
    if abs((int(time.time()) if now is None else now) - timestamp) > tolerance:
        return False
    # Sign the header text as sent, not a re-formatted number.
    expected = _digest(secret, f"{msg_id}.{raw_timestamp}.".encode() + body).encode()
    found = False
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        # Compare every candidate in constant time, so timing reveals nothing about the digest.
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            found = True
    return found


def _digest(secret: str, signed: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
