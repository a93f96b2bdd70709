"""MiniMax's official video API, v1 (reference/minimax-api.md §1-7).

create → poll the task → retrieve the file for a fresh download URL → stream the MP4.
Business errors arrive as HTTP 200 with a non-zero base_resp.status_code; each is mapped to
what the scheduler should do about it (§6).
"""

from pathlib import Path

from videos.providers import http
from videos.providers.base import (
    AccountConfig,
    AccountPaused,
    AccountRejected,
    InDoubt,
    Job,
    Progress,
    ProviderError,
    RateLimited,
)
from videos.providers.catalog import MODELS, job_options

HOSTS = {"global": "https://api.minimax.io", "cn": "https://api.minimaxi.com"}
RETRYABLE = {1000, 1001, 1013, 1024, 1033, 1039, 1041}
RATE = {1002, 2045}
REJECTED = {1004, 2049}
OUT_OF_FUNDS = {1008: "out of balance", 2056: "over its usage quota", 1028: "out of quota"}
MODERATED = {1026: "MiniMax refused the prompt or image", 1027: "MiniMax flagged the result"}
STATES = {
    "preparing": ("pending", 5, "Preparing at MiniMax"),
    "queueing": ("pending", 10, "Waiting in MiniMax's queue"),
    "processing": ("processing", 20, "MiniMax is generating"),
    "success": ("success", 100, "Done"),
    "fail": ("failed", 0, "MiniMax could not make this video"),
    "failed": ("failed", 0, "MiniMax could not make this video"),
}


class MiniMaxProvider:
    kind = "minimax"
    label = "MiniMax API"
    # v1 has no way to list a key's tasks; a lost create is found through its callback instead.
    can_find = False

    def __init__(self, account: AccountConfig):
        self.account = account
        self.base = (account.base_url or HOSTS.get(account.region, HOSTS["global"])).rstrip("/")
        self.name = f"MiniMax ({account.name})"
        self.http = http.session()
        self.http.headers["Authorization"] = f"Bearer {account.credentials.get('api_key', '')}"

    def check(self) -> str:
        # Querying a task that does not exist is free and tells a good key from a bad one.
        data = self._get("/v1/query/video_generation", params={"task_id": "0"}, strict=False)
        code = _code(data)
        if code in REJECTED or code in OUT_OF_FUNDS or code in RATE:
            self._raise(data)
        return f"Connected: {self.base} accepted the API key."

    def submit(self, job: Job) -> str:
        if job.model and job.model not in MODELS:
            # The scheduler keeps these off MiniMax accounts; should one slip through, MiniMax
            # would refuse it with 2013 anyway, and no retry here can help.
            raise ProviderError(
                f"{job.model} runs only on useapi.net accounts, not on {self.name}.",
                permanent=True,
            )
        options = job_options(job, default_model=self.account.default_model)
        body: dict = {"model": options.model, "prompt_optimizer": job.prompt_optimization}
        if job.prompt:
            body["prompt"] = job.prompt
        if MODELS[options.model].sends_options:
            body["duration"], body["resolution"] = options.duration, options.resolution
        if job.image_path:
            body["first_frame_image"] = http.data_url(job.image_path)
        if job.last_image_path:
            body["last_frame_image"] = http.data_url(job.last_image_path)
        if job.subject_image_path:
            # S2V-01 (reference §2): one character, one face image; it takes no frames.
            face = http.data_url(job.subject_image_path)
            body["subject_reference"] = [{"type": "character", "image": [face]}]
        if job.callback_url:
            body["callback_url"] = job.callback_url
        resp = http.send(
            self.http, "POST", self.base + "/v1/video_generation", json=body,
            upstream=self.name, provider=self.kind, creating=True,
        )  # fmt: skip
        data = self._json(resp, creating=True)
        if _code(data) == 2013 and job.callback_url and "callback" in _message(data, ""):
            # MiniMax could not reach our callback URL (a wrong PUBLIC_URL, a firewall). That
            # create made no task, so send it again without one and rely on polling.
            body.pop("callback_url")
            resp = http.send(
                self.http, "POST", self.base + "/v1/video_generation", json=body,
                upstream=self.name, provider=self.kind, creating=True,
            )  # fmt: skip
            data = self._json(resp, creating=True)
        if _code(data) != 0:
            self._raise(data)
        task_id = str(data.get("task_id") or "")
        if not task_id:
            raise InDoubt(f"{self.name} accepted the video but sent no task id")
        return task_id

    def find(self, job: Job, *, known_ids: set[str]) -> str | None:
        raise ProviderError("MiniMax's v1 API cannot look a task up without its id")

    def poll(self, upstream_id: str) -> Progress:
        data = self._get(
            "/v1/query/video_generation", params={"task_id": upstream_id}, strict=False
        )
        status = str(data.get("status", "")).lower()
        if _code(data) == 1027:
            return Progress("moderated", message=_message(data, MODERATED[1027]))
        if not status:
            self._raise(data)  # no status: the query itself was refused
        if status not in STATES:
            raise ProviderError(f"{self.name} reported an unknown status {status!r}")
        state, percent, message = STATES[status]
        if state == "failed" and _code(data) not in (0, -1):
            message = f"{message}: {_message(data, 'no reason given')}"
        if state == "success":
            file_id = str(data.get("file_id") or "")
            if not file_id:
                raise ProviderError(f"{self.name} reported success without a file")
            return Progress(
                state, 100, message, file_id, data.get("video_width"), data.get("video_height")
            )
        return Progress(state, percent, message)

    def fetch(self, upstream_id: str, file_ref: str, *, workdir: Path) -> Path:
        # Download URLs expire (1 h or 9 h, reference §5): retrieve a fresh one every time.
        data = self._get("/v1/files/retrieve", params={"file_id": file_ref})
        url = (data.get("file") or {}).get("download_url")
        if not url:
            raise ProviderError(f"{self.name} gave no download URL for file {file_ref}")
        return http.download(
            self.http,
            url,
            workdir / "video.mp4",
            upstream=self.name,
            provider=self.kind,
            origin=self.base,
        )

    def _get(self, path: str, *, params: dict, strict: bool = True) -> dict:
        resp = http.send(
            self.http, "GET", self.base + path, params=params, upstream=self.name,
            provider=self.kind,
        )  # fmt: skip
        data = self._json(resp)
        if strict and _code(data) not in (0, 1027):
            self._raise(data)
        return data

    def _json(self, resp, *, creating: bool = False) -> dict:
        if resp.status_code == 429:
            raise RateLimited(f"{self.name} is rate limiting this key (HTTP 429)")
        if resp.status_code in (401, 403):
            raise AccountRejected(f"{self.name} refused the API key (HTTP {resp.status_code})")
        if resp.status_code >= 500:
            raise ProviderError(f"{self.name} had a server error (HTTP {resp.status_code})")
        return http.json_body(resp, upstream=self.name, creating=creating)

    def _raise(self, data: dict) -> None:
        code = _code(data)
        text = f"{_message(data, 'error')} (MiniMax code {code})"
        if code in RATE:
            raise RateLimited(f"{self.name} rate limit: {text}", seconds=20.0)
        if code in REJECTED:
            hint = " — check the key, and that the host matches the key's region"
            raise AccountRejected(f"{self.name} refused the key: {text}{hint}")
        if code in OUT_OF_FUNDS:
            raise AccountPaused(f"{self.name} is {OUT_OF_FUNDS[code]}: {text}", seconds=3600)
        if code in MODERATED:
            raise ProviderError(f"{MODERATED[code]}: {text}", moderated=True)
        if code == 2013:
            raise ProviderError(f"{self.name} refused the request: {text}", permanent=True)
        raise ProviderError(f"{self.name} failed: {text}")


def _code(data: dict) -> int:
    try:
        return int((data.get("base_resp") or {}).get("status_code", -1))
    except (TypeError, ValueError):
        return -1


def _message(data: dict, default: str) -> str:
    return str((data.get("base_resp") or {}).get("status_msg") or default)[:300]
