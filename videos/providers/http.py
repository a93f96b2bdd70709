"""HTTP plumbing shared by the remote providers: timeouts, error classes, streamed downloads.

Every connection goes through the outbound guard (studio.lib.netguard): a base URL, a download link
or a redirect hop that points at an internal address is refused before anything is sent.
"""

import base64
import mimetypes
from pathlib import Path
from urllib.parse import urljoin

import requests
from requests.utils import requote_uri
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from studio.lib import metrics, netguard
from videos.providers.base import AccountRejected, InDoubt, ProviderError

CHUNK = 1024 * 1024
# (connect, read) seconds. A create that takes longer than this is treated as in doubt.
TIMEOUT = (5.0, 30.0)
USER_AGENT = "studio/1.0 (+self-hosted MiniMax team studio)"
# A CDN link may redirect once or twice; a chain longer than this is a loop or a trap.
MAX_REDIRECTS = 5


def session() -> requests.Session:
    # The guard's session: no proxies or .netrc from the environment, and every connection
    # checked and pinned to the address that was checked.
    s = netguard.session()
    s.headers["User-Agent"] = USER_AGENT
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
    s: requests.Session,
    method: str,
    url: str,
    *,
    upstream: str,
    provider: str,
    creating: bool = False,
    **kw,
) -> requests.Response:
    """One request. Failures become ProviderErrors; for a create, InDoubt whenever the request
    may have reached the upstream, so the caller reconciles instead of blindly resending.
    Counted in studio_upstream_calls by `provider` (the account kind) and what came of it."""
    call = "create" if creating else ("query" if method == "GET" else "other")
    try:
        resp = s.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kw)
    except netguard.Refused as exc:
        _count(provider, call, "refused")
        # Nothing was sent. Only an admin (a new base URL) or an operator (the allow-list) can
        # change that, so the account is set aside like one whose key is refused.
        raise AccountRejected(str(exc.about("Base URL"))) from None
    except netguard.Unresolvable as exc:
        _count(provider, call, "unresolvable")
        raise ProviderError(
            f"{upstream} could not be reached: its host name does not resolve "
            "(check the base URL and DNS)"
        ) from exc
    except requests.RequestException as exc:
        timed_out = isinstance(exc, requests.Timeout)
        what = "did not answer in time" if timed_out else "dropped"
        if never_sent(exc):
            _count(provider, call, "unreachable")
            raise ProviderError(f"{upstream} could not be reached: {_why(exc)}") from exc
        _count(provider, call, "timeout" if timed_out else "dropped")
        if creating:
            raise InDoubt(f"{upstream} {what} while the video was being sent") from exc
        raise ProviderError(f"{upstream} {what}: {_short(exc)}") from exc
    _count(provider, call, metrics.upstream_result(resp.status_code))
    return resp


def _count(provider: str, call: str, result: str) -> None:
    metrics.UPSTREAM_CALLS.labels(provider=provider, call=call, result=result).inc()


def json_body(resp: requests.Response, *, upstream: str, creating: bool = False) -> dict:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        message = f"{upstream} answered HTTP {resp.status_code} with a body that is not JSON"
        raise (InDoubt if creating else ProviderError)(message)
    return data


def download(
    s: requests.Session, url: str, target: Path, *, upstream: str, provider: str, origin: str
) -> Path:
    """Streams a file to disk in 1 MiB chunks; never holds it whole in memory.

    Redirects are followed here, one hop at a time, each through the guard, at most
    MAX_REDIRECTS of them. The session's Authorization goes only to `origin` (the account's
    base URL): a download link or a redirect elsewhere gets none, by requests' own rule.
    """
    failed = f"Downloading the result from {upstream} failed"
    keep_auth = not _strips_auth(s, origin, url)
    for hop in range(MAX_REDIRECTS + 1):
        link = "the download link" if hop == 0 else f"redirect {hop} of the download link"
        headers = {} if keep_auth else {"Authorization": None}  # None drops a session header
        try:
            # urllib3 would take port 0 for the default port, and user:pass@ as credentials.
            netguard.parse(url, field=link, allow_http=True)
            resp = s.get(url, stream=True, timeout=TIMEOUT, allow_redirects=False, headers=headers)
        except netguard.UnsafeURL as exc:
            _count(provider, "download", "refused")
            raise ProviderError(f"{failed}: {exc.about(link)}") from None
        except requests.RequestException as exc:
            _count(
                provider, "download", "timeout" if isinstance(exc, requests.Timeout) else "dropped"
            )
            raise ProviderError(f"{failed}: {_short(exc)}") from exc
        _count(provider, "download", metrics.upstream_result(resp.status_code))
        with resp:
            location = s.get_redirect_target(resp)
            if location is not None:
                # Closed unread: a redirect's body is of no use, and it could be any size.
                next_url = urljoin(url, requote_uri(location))
                keep_auth = keep_auth and not _strips_auth(s, url, next_url)
                url = next_url
                continue
            _save(resp, target, failed=failed)
        if target.stat().st_size == 0:
            raise ProviderError(f"{upstream} sent an empty file")
        return target
    raise ProviderError(f"{failed}: the link redirected more than {MAX_REDIRECTS} times.")


def _save(resp: requests.Response, target: Path, *, failed: str) -> None:
    if resp.status_code != 200:
        raise ProviderError(
            f"{failed} with HTTP {resp.status_code}"
            + (" (the link has expired)" if resp.status_code in (403, 410) else "")
        )
    try:
        with target.open("wb") as out:
            for chunk in resp.iter_content(CHUNK):
                out.write(chunk)
    except requests.RequestException as exc:
        raise ProviderError(f"{failed}: {_short(exc)}") from exc


def _strips_auth(s: requests.Session, old_url: str, new_url: str) -> bool:
    try:
        return s.should_strip_auth(old_url, new_url)
    except ValueError:  # a port out of range: the request itself will say so
        return True


def data_url(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _why(exc: Exception) -> str:
    """The cause in plain words, not urllib3's nested repr."""
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return "the host did not answer within 5 s (check the base URL and the network)"
    if "Connection refused" in text:
        return "the connection was refused (nothing listens at that address and port)"
    if "Network is unreachable" in text:
        return "the network is unreachable from the studio"
    return _short(exc)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."
