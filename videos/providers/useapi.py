"""useapi.net's MiniMax API (reference/useapi-minimax.md), for hailuoai.video accounts
registered there: upload the image through POST /files, create, poll GET /videos/{videoId}.

Errors are real HTTP statuses with a {"error", "code"} body (§8): 412 out of credits, 422
moderated, 429 busy, 502/504 site busy (the job may still have been queued), 596 on hold.
"""

import mimetypes
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
from videos.providers.catalog import MODELS, job_options, useapi_request

DEFAULT_BASE = "https://api.useapi.net"
STATES = {
    0: "pending",
    11: "pending",
    1: "processing",
    12: "processing",
    2: "success",
    3: "failed",
    5: "moderated",
    7: "moderated",
    14: "moderated",
}
# useapi.net uploads .webp as image/jpeg (§3).
CONTENT_TYPES = {"image/png": "image/png", "image/jpeg": "image/jpeg", "image/webp": "image/jpeg"}


class UseapiProvider:
    kind = "useapi"
    label = "useapi.net"
    # GET /videos lists the account's history, so a create whose answer was lost can be found.
    can_find = True

    def __init__(self, account: AccountConfig):
        self.account = account
        self.base = (account.base_url or DEFAULT_BASE).rstrip("/") + "/v1/minimax"
        self.name = f"useapi.net ({account.name})"
        self.http = http.session()
        self.http.headers["Authorization"] = f"Bearer {account.credentials.get('token', '')}"

    def check(self) -> str:
        data = self._call("GET", f"/accounts/{self.account.upstream_account}")
        jobs = data.get("maxJobs", "?")
        account = data.get("account")
        return f"Connected: useapi.net knows hailuoai.video account {account} (maxJobs {jobs})."

    def submit(self, job: Job) -> str:
        body: dict = {
            **self._model_fields(job),
            "account": self.account.upstream_account,
            "promptOptimization": job.prompt_optimization,
            "maxJobs": self.account.max_jobs,
        }
        if job.prompt:
            body["prompt"] = job.prompt
        if job.image_path:
            body["fileID"] = self._upload(job.image_path)
        elif job.subject_image_path:
            body["fileID"] = self._upload(job.subject_image_path)  # S2V-01: fileID is the face
        if job.last_image_path:
            body["end_frame_fileID"] = self._upload(job.last_image_path)
        for slot, path in enumerate(job.reference_paths, 2):
            body[f"fileID{slot}"] = self._upload(path)
        data = self._call("POST", "/videos/create", json=body, creating=True)
        video_id = data.get("videoId")
        if not isinstance(video_id, str) or not video_id:
            raise InDoubt(f"{self.name} accepted the video but sent no videoId")
        return video_id

    def _model_fields(self, job: Job) -> dict:
        """`model` and its options. A model only useapi.net runs goes as named with its own
        fields as the API took them (it checked them then); MiniMax's are checked here."""
        if job.model and job.model not in MODELS:
            # Spread first, so passthrough (options, aspectRatio, resolution, duration) can
            # never replace the model, the account or any field the provider itself sets.
            return {**job.passthrough, "model": job.model}
        options = job_options(job, default_model=self.account.default_model)
        return useapi_request(options)

    def find(self, job: Job, *, known_ids: set[str]) -> str | None:
        # Newest first; a lost create is among the last few, with our prompt as its `desc`.
        data = self._call(
            "GET", "/videos/", params={"account": self.account.upstream_account, "limit": 30}
        )
        items = data.get("videos", data.get("items", [])) if isinstance(data, dict) else data
        for item in items or []:
            video_id = item.get("videoId", "")
            if video_id and video_id not in known_ids and item.get("desc", "") == job.prompt:
                return video_id
        return None

    def poll(self, upstream_id: str) -> Progress:
        try:
            data = self._call("GET", f"/videos/{upstream_id}")
        except _NotFound:
            # §5: a 404 here most often means the video was moderated and removed afterwards.
            return Progress("moderated", message="useapi.net no longer has this video (removed)")
        state = STATES.get(data.get("status"))
        if state is None:
            raise ProviderError(f"{self.name} reported an unknown status {data.get('status')!r}")
        percent = int(data.get("percent") or 0)
        message = str(data.get("message") or data.get("statusLabel") or "")[:200]
        if state == "success":
            return Progress(state, 100, "Done", upstream_id, data.get("width"), data.get("height"))
        return Progress(state, percent, message)

    def fetch(self, upstream_id: str, file_ref: str, *, workdir: Path) -> Path:
        data = self._call("GET", f"/videos/{upstream_id}")
        # useapi's own script prefers the clean download and falls back to the watermarked one.
        url = data.get("downloadURL") or data.get("videoURL")
        if not url:
            raise ProviderError(f"{self.name} gave no download URL for {upstream_id}")
        return http.download(
            self.http,
            url,
            workdir / "video.mp4",
            upstream=self.name,
            provider=self.kind,
            origin=self.base,
        )

    def _upload(self, path: Path) -> str:
        mime = CONTENT_TYPES.get(mimetypes.guess_type(path.name)[0] or "", "image/jpeg")
        data = self._call(
            "POST",
            "/files/",
            params={"account": self.account.upstream_account},
            data=path.read_bytes(),
            headers={"Content-Type": mime},
        )
        if not data.get("fileID"):
            raise ProviderError(f"{self.name} stored the image but sent no fileID")
        return data["fileID"]

    def _call(self, method: str, path: str, *, creating: bool = False, **kw) -> dict:
        resp = http.send(
            self.http,
            method,
            self.base + path,
            upstream=self.name,
            provider=self.kind,
            creating=creating,
            **kw,
        )
        status = resp.status_code
        if status == 200 or status == 201:
            return http.json_body(resp, upstream=self.name, creating=creating)
        error = _error(resp)
        if status == 400:
            raise ProviderError(f"{self.name} refused the request: {error}", permanent=True)
        if status in (401, 403):
            raise AccountRejected(f"{self.name} refused the API token: {error}")
        if status == 404:
            raise _NotFound(f"{self.name}: {error}")
        if status == 412:
            raise AccountPaused(f"{self.name}: out of credits ({error})", seconds=3600)
        if status == 422:
            raise ProviderError(f"Moderated: {error}", moderated=True)
        if status == 429:
            raise RateLimited(f"{self.name} is busy: {error}", seconds=20.0)
        if status == 596:
            raise AccountPaused(
                f"{self.name}: the account is on hold ({error})", seconds=3600, kind="hold"
            )
        if creating and status in (502, 504):
            # §8: the site may still have queued the job; reconcile before sending it again.
            raise InDoubt(f"{self.name} answered HTTP {status}: {error}")
        raise ProviderError(f"{self.name} failed with HTTP {status}: {error}")


class _NotFound(ProviderError):
    pass


def _error(resp) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason or ""
    return str(body.get("error") if isinstance(body, dict) else body)[:300]
