"""HTTP plumbing shared by the remote providers: timeouts, error classes, streamed downloads."""

import base64
import mimetypes
from pathlib import Path

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from videos.providers.base import InDoubt, ProviderError

CHUNK = 1024 * 1024
# (connect, read) seconds. A create that takes longer than this is treated as in doubt.
TIMEOUT = (5.0, 30.0)
USER_AGENT = "studio/1.0 (+self-hosted MiniMax team studio)"


def session() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    # Never read proxy settings or .netrc from the environment: credentials go where we say.
    s.trust_env = False
    return s


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request surely did not reach the upstream (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen = exc
    while seen is not None:
        if isinstance(seen, NewConnectionError | ConnectTimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args else None)
        if not isinstance(seen, BaseException):
            return False
    return False


def send(
    s: requests.Session, method: str, url: str, *, upstream: str, creating: bool = False, **kw
) -> requests.Response:
    """One request. Failures become ProviderErrors; for a create, InDoubt whenever the request
    may have reached the upstream, so the caller reconciles instead of blindly resending."""
    try:
        return s.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kw)
    except requests.RequestException as exc:
        what = "did not answer in time" if isinstance(exc, requests.Timeout) else "dropped"
        if never_sent(exc):
            raise ProviderError(f"{upstream} could not be reached: {_why(exc)}") from exc
        if creating:
            raise InDoubt(f"{upstream} {what} while the video was being sent") from exc
        raise ProviderError(f"{upstream} {what}: {_short(exc)}") from exc


def json_body(resp: requests.Response, *, upstream: str, creating: bool = False) -> dict:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        message = f"{upstream} answered HTTP {resp.status_code} with a body that is not JSON"
        raise (InDoubt if creating else ProviderError)(message)
    return data


def download(s: requests.Session, url: str, target: Path, *, upstream: str) -> Path:
    """Streams a file to disk in 1 MiB chunks; never holds it whole in memory."""
    try:
        with s.get(url, stream=True, timeout=TIMEOUT, allow_redirects=True) as resp:
            if resp.status_code != 200:
                raise ProviderError(
                    f"Downloading the result from {upstream} failed with HTTP {resp.status_code}"
                    + (" (the link has expired)" if resp.status_code in (403, 410) else "")
                )
            with target.open("wb") as out:
                for chunk in resp.iter_content(CHUNK):
                    out.write(chunk)
    except requests.RequestException as exc:
        message = f"Downloading the result from {upstream} failed: {_short(exc)}"
        raise ProviderError(message) from exc
    if target.stat().st_size == 0:
        raise ProviderError(f"{upstream} sent an empty file")
    return target


def data_url(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _why(exc: Exception) -> str:
    """The cause in plain words, not urllib3's nested repr."""
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return "the host did not answer within 5 s (check the base URL and the network)"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "its host name does not resolve (check the base URL and DNS)"
    if "Connection refused" in text:
        return "the connection was refused (nothing listens at that address and port)"
    if "Network is unreachable" in text:
        return "the network is unreachable from the studio"
    return _short(exc)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."
