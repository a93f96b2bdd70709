"""Whole batches played the way useapi.net's own batch script plays them (github.com/useapi/
minimax-api video/videos.mjs; reference/useapi-minimax.md §6, §8), over real HTTP against the
live server, with a real worker and the emulator upstream, on a member's token.

The script lists the accounts and skips any carrying `error`, asks scheduler/available before
each create and pins the create to `available[0]` (waiting while the list is empty), sleeps on a
429 and retries, marks an account exhausted on 412 and moves on, pauses one on 596, polls GET
videos/{videoId} until statusFinal and downloads `downloadURL ?? videoURL` without the token.
`BatchClient` below is that script in plain Python.
"""

import io
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import requests
from PIL import Image, ImageDraw

from studio.api import services as api_services
from tests.conftest import wait_for
from tests.videos.test_scheduler_remote import add_account
from tests.videos.test_worker_remote import FAST
from videos import services
from videos.models import ProviderAccount, Video

pytestmark = pytest.mark.slow

# What useapi.net's script sleeps on a 429 that does not say how long (SLEEP_429).
SCRIPT_SLEEP_429 = 20.0
USEAPI_ONLY_PREFIXES = ("Sora-", "Veo-", "Seedance-")
# The upstream accounts the emulator answers 412 (no credits) and 596 (on hold) for.
BROKE_UPSTREAM, HELD_UPSTREAM = "300003", "400004"


class BatchError(AssertionError):
    """The batch could not go on: an answer the script does not handle, or it ran out of time."""


@dataclass
class Seen429:
    method: str
    path: str
    error: str
    retry_after: str | None  # the header as sent; None when it was missing
    at: float
    retried_after: float | None = None  # seconds until the client's next request

    @property
    def honoured(self) -> bool:
        waited, asked = self.retried_after, self.retry_after
        return waited is not None and asked is not None and waited >= float(asked)

    @property
    def rate_limited(self) -> bool:
        """A token budget ran out (studio/api/errors.py), not a full queue."""
        return self.error.startswith("Too many ")


@dataclass
class Prompt:
    """One entry of the script's prompts file: `fields` go to videos/create as they are; the
    images are uploaded to the chosen account first (the script's `file`)."""

    fields: dict
    image: tuple[str, bytes] | None = None  # -> fileID
    end_image: tuple[str, bytes] | None = None  # -> end_frame_fileID
    account: str = ""  # a prompt that names its account, as the script lets one do

    @property
    def useapi_only(self) -> bool:
        return str(self.fields.get("model") or "").startswith(USEAPI_ONLY_PREFIXES)


@dataclass
class Done:
    prompt: Prompt
    video_id: str
    account: str
    record: dict
    mp4_head: bytes
    mp4_bytes: int


@dataclass
class BatchClient:
    """useapi.net's videos.mjs as a plain-Python client, on the studio's /v1/minimax/."""

    base_url: str
    token: str
    empty_wait: float = 0.25  # the script sleeps 20 s; a test cannot
    poll_every: float = 0.25  # the script polls every 30 s
    time_budget: float = 150.0
    seen_429: list[Seen429] = field(default_factory=list)
    available_answers: list[dict] = field(default_factory=list)
    refusals: list[tuple[str, int, dict]] = field(default_factory=list)  # 412s and 596s
    out_of_credits: set[str] = field(default_factory=set)
    on_hold: set[str] = field(default_factory=set)
    usable: set[str] = field(default_factory=set)
    uploads: dict[tuple[str, str], dict] = field(default_factory=dict)

    def __post_init__(self):
        self.api = self.base_url.rstrip("/") + "/v1/minimax/"
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        )
        self.started = time.monotonic()

    # HTTP

    def request(self, method: str, path: str, *, retry: bool = True, **kwargs):
        """One API call; a 429 is recorded and waited out (Retry-After, else the script's
        20 s), then sent again, or handed back with `retry=False`."""
        while True:
            if time.monotonic() - self.started > self.time_budget:
                raise BatchError(f"the batch took longer than {self.time_budget:.0f} s")
            if self.seen_429 and self.seen_429[-1].retried_after is None:
                self.seen_429[-1].retried_after = time.monotonic() - self.seen_429[-1].at
            response = self.session.request(method, self.api + path, timeout=30, **kwargs)
            if response.status_code != 429:
                return response
            retry_after = response.headers.get("Retry-After")
            body = _json(response)
            self.seen_429.append(
                Seen429(method, path, str(body.get("error", "")), retry_after, time.monotonic())
            )
            time.sleep(float(retry_after) if retry_after else SCRIPT_SLEEP_429)
            if not retry:
                return response

    # The script's steps

    def accounts(self) -> dict[str, dict]:
        """GET accounts/: the script goes on with the video accounts that carry no `error`."""
        response = self.request("GET", "accounts/")
        if response.status_code != 200:
            raise BatchError(f"GET accounts/ answered {response.status_code}: {response.text}")
        found = response.json()
        self.usable = {
            ref for ref, a in found.items() if a.get("supportVideo") and "error" not in a
        }
        return found

    def available(self, *, kind: str = "") -> list[dict]:
        """GET scheduler/available, less the accounts this batch learnt to avoid."""
        response = self.request("GET", "scheduler/available")
        if response.status_code != 200:
            raise BatchError(f"scheduler/available answered {response.status_code}")
        answer = response.json()
        self.available_answers.append(answer)
        skip = self.out_of_credits | self.on_hold
        return [
            a
            for a in answer["available"]
            if a["account"] in self.usable
            and a["account"] not in skip
            and (not kind or a["kind"] == kind)
        ]

    def upload(self, account: str, name: str, data: bytes) -> str:
        """POST files/?account= with the raw bytes, typed image/jpeg as useapi.net tells its
        users to send a WebP; once per account and file, as the script does."""
        if (account, name) not in self.uploads:
            response = self.request(
                "POST",
                f"files/?account={account}",
                data=data,
                headers={"Content-Type": "image/jpeg"},
            )
            if response.status_code != 200:
                raise BatchError(
                    f"upload of {name} answered {response.status_code}: {response.text}"
                )
            self.uploads[account, name] = response.json()
        return self.uploads[account, name]["fileID"]

    def submit(self, prompt: Prompt) -> tuple[str, str]:
        """(videoId, account) of one prompt, after as many rounds as it takes."""
        pinned = prompt.account
        while True:
            if pinned:
                account = pinned
            else:
                choices = self.available(kind="useapi" if prompt.useapi_only else "")
                if not choices:
                    time.sleep(self.empty_wait)
                    continue
                account = choices[0]["account"]
            body = {"account": account}
            if prompt.image:
                body["fileID"] = self.upload(account, *prompt.image)
            if prompt.end_image:
                body["end_frame_fileID"] = self.upload(account, *prompt.end_image)
            body.update(prompt.fields)
            response = self.request("POST", "videos/create", json=body, retry=False)
            if response.status_code == 200:
                return response.json()["videoId"], account
            if response.status_code == 429:
                continue  # waited out; look at scheduler/available again
            if response.status_code in (412, 596):
                self.refusals.append((account, response.status_code, _json(response)))
                (self.out_of_credits if response.status_code == 412 else self.on_hold).add(account)
                pinned = ""
                continue
            raise BatchError(f"create {body} answered {response.status_code}: {response.text}")

    def wait(self, video_id: str) -> dict:
        """GET videos/{videoId} until statusFinal."""
        while True:
            response = self.request("GET", f"videos/{video_id}")
            if response.status_code != 200:
                raise BatchError(f"GET videos/{video_id} answered {response.status_code}")
            record = response.json()
            if record["statusFinal"]:
                return record
            time.sleep(self.poll_every)

    def download(self, record: dict) -> bytes:
        """`downloadURL ?? videoURL`, fetched as the script does: no Authorization header."""
        url = record.get("downloadURL") or record.get("videoURL")
        if not url:
            raise BatchError(f"{record['videoId']} ended {record['statusLabel']} with no URL")
        response = requests.get(url, timeout=60)
        if response.status_code != 200:
            raise BatchError(f"download of {record['videoId']} answered {response.status_code}")
        return response.content

    def run(self, prompts: list[Prompt]) -> list[Done]:
        self.accounts()
        sent = [(prompt, *self.submit(prompt)) for prompt in prompts]
        done = []
        for prompt, video_id, account in sent:
            record = self.wait(video_id)
            mp4 = self.download(record)
            done.append(Done(prompt, video_id, account, record, mp4[:16], len(mp4)))
        return done

    def list_video_ids(self) -> set[str]:
        """Every videoId GET videos/ lists, page by page (lastVideoId)."""
        ids, cursor = set(), ""
        while True:
            params = {"limit": 100, **({"lastVideoId": cursor} if cursor else {})}
            page = self.request("GET", "videos/", params=params).json()
            ids |= {v["videoId"] for v in page["videos"]}
            cursor = page["lastVideoId"]
            if not cursor:
                return ids


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def webp(n: int, *, size=(480, 320)) -> tuple[str, bytes]:
    """A WebP picture, named .jpeg as useapi.net's docs say to send one (short side ≥ 320)."""
    image = Image.new("RGB", size, ((40 * n) % 256, (90 + 17 * n) % 256, (200 - 13 * n) % 256))
    ImageDraw.Draw(image).ellipse((60, 40, 60 + size[1] - 80, size[1] - 40), fill=(250, 240, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=80)
    return f"frame-{n}.jpeg", buffer.getvalue()


def is_mp4(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


# The studio under test


def useapi_account(team, emu, name: str, upstream: str, **fields) -> ProviderAccount:
    return add_account(
        team, emu, "useapi", name=name, secret=f"tok-{name}", upstream_account=upstream, **fields
    )


@pytest.fixture
def studio(cast, emulator, worker_factory, live_server):
    """Acme with its local renderer, a MiniMax and a useapi.net account on the emulator, one
    disabled by an admin, one out of credits and one on hold, as the studio learns of those:
    the upstream answering 412 and 596 to a create sent to them. A real worker; bob's token."""
    emulator.configure(
        preparing_s=0.05,
        queueing_s=0.05,
        processing_s=0.3,
        rpm=10000,
        useapi_max_jobs=10,
        no_balance_keys=[BROKE_UPSTREAM],
        on_hold_keys=[HELD_UPSTREAM],
    )
    acme = cast.acme
    accounts = SimpleNamespace(
        local=ProviderAccount.objects.get(team=acme, kind=ProviderAccount.Kind.LOCAL),
        minimax=add_account(acme, emulator, name="MiniMax", secret="key-mm", max_jobs=5, rpm=1000),
        useapi=useapi_account(acme, emulator, "useapi", "200002", max_jobs=5, rpm=1000),
        disabled=add_account(acme, emulator, name="Switched off", secret="key-off"),
        broke=useapi_account(acme, emulator, "Broke", BROKE_UPSTREAM),
        held=useapi_account(acme, emulator, "Held", HELD_UPSTREAM),
    )
    services.account_update(account=accounts.disabled, enabled=False)
    _, token = api_services.api_token_create(user=cast.bob, team=acme, name="batch")
    worker_factory(**FAST, Q_WORKERS="3")
    setup = BatchClient(live_server.url, token)
    probes = []
    for account in (accounts.broke, accounts.held):
        body = {"account": str(account.pk), "prompt": f"Probe of {account.name}"}
        response = setup.request("POST", "videos/create", json=body)
        assert response.status_code == 200, response.text
        probes.append(response.json()["videoId"])

    def paused(account, kind):
        account.refresh_from_db()
        return account.is_paused and account.pause_kind == kind

    wait_for(
        lambda: paused(accounts.broke, "credits") and paused(accounts.held, "hold"),
        timeout=60,
        what="the upstream's 412 and 596 to pause the two accounts",
    )
    for video_id in probes:  # pinned to accounts that cannot take them, they would wait
        response = setup.request("POST", "videos/cancel", json={"videoId": video_id})
        assert response.status_code == 200, response.text
    return SimpleNamespace(url=live_server.url, token=token, emu=emulator, **vars(accounts))


def ref(account: ProviderAccount) -> str:
    return str(account.pk)


def client_for(studio, **knobs) -> BatchClient:
    return BatchClient(studio.url, studio.token, **knobs)


def assert_available_answers_sound(client: BatchClient, *never: ProviderAccount) -> None:
    """Every scheduler/available answer listed only accounts with a free slot, never one of
    `never`."""
    barred = {ref(a) for a in never}
    for answer in client.available_answers:
        for slot in answer["available"]:
            assert slot["account"] not in barred, answer
            assert slot["enabled"] and not slot["paused"], answer
            assert 0 < slot["available"] <= slot["maxJobs"] - slot["executing"] - slot["queued"]


# The tests


def test_a_member_runs_a_small_batch_through_every_documented_create_field(studio):
    client = client_for(studio)
    accounts = client.accounts()
    errors = {ref: "error" in a for ref, a in accounts.items()}
    assert errors == {
        ref(studio.local): False,
        ref(studio.minimax): False,
        ref(studio.useapi): False,
        ref(studio.disabled): True,
        ref(studio.broke): True,
        ref(studio.held): True,
    }, accounts
    assert "out of credits" in accounts[ref(studio.broke)]["error"]
    assert "on hold" in accounts[ref(studio.held)]["error"]
    assert "disabled" in accounts[ref(studio.disabled)]["error"]

    # One slot on the local renderer, taken by a prompt that names it: while that video waits
    # or renders, the account is full and scheduler/available must leave it out.
    ProviderAccount.objects.filter(pk=studio.local.pk).update(max_jobs=1)
    lantern = Prompt(
        {"prompt": "A paper lantern drifting over a dark lake"}, account=ref(studio.local)
    )
    lantern_id, _ = client.submit(lantern)
    listed = {
        slot["account"] for slot in client.request("GET", "scheduler/available").json()["available"]
    }
    assert ref(studio.local) not in listed
    assert {ref(studio.minimax), ref(studio.useapi)} <= listed

    first, last = webp(1), webp(2)
    everything = Prompt(
        {
            "prompt": "A red robot walks from the first frame to the last",
            "model": "02",
            "options": "768p-6sec",
            "promptOptimization": False,
            "replyRef": "batch-1/robot",
            "maxJobs": 3,
        },
        image=first,
        end_image=last,
    )
    # Blank and null fields, as clients that fill every key of a form send them.
    blanks = Prompt(
        {
            "prompt": "Rain on a tin roof at night, close up",
            "model": "",
            "options": None,
            "aspectRatio": "",
            "resolution": "",
            "duration": None,
            "videoFileID1": "",
            "audioFileID1": None,
            "fileID2": "",
            "end_frame_fileID": None,
            "replyUrl": "",
            "replyRef": "",
            "maxJobs": None,
            "promptOptimization": None,
        }
    )
    veo = Prompt(
        {
            "prompt": "A hummingbird hovering over a flower, slow motion",
            "model": "Veo-3.1",
            "options": "veo-720p-8sec",
            "aspectRatio": "9:16",
            "promptOptimization": True,
            "replyRef": "batch-1/veo",
        }
    )
    done = client.run([everything, blanks, veo])
    lantern_record = client.wait(lantern_id)

    assert_available_answers_sound(client, studio.disabled, studio.broke, studio.held)
    for name in (first[0], last[0]):
        upload = next(u for (a, n), u in client.uploads.items() if n == name)
        assert upload["file_type"] == "webp", upload
        assert upload["width"] == 480 and upload["height"] == 320
    for (account, _), upload in client.uploads.items():
        assert f"-minimax:{account}-file:" in upload["fileID"]

    listed_ids = client.list_video_ids()
    records = [*(d.record for d in done), lantern_record]
    for record in records:
        assert record["statusLabel"] == "completed", record
        assert record["videoId"] in listed_ids
    for item in done:
        assert item.record["videoId"] == item.video_id, "the videoId never changes"
        assert item.record["account"] == item.account
        assert is_mp4(item.mp4_head) and item.mp4_bytes > 1000
    robot, rain, bird = (d.record for d in done)
    assert robot["replyRef"] == "batch-1/robot"
    assert robot["model"] == "MiniMax-Hailuo-02"
    assert len(robot["originFiles"]) == 2, "the first and the last frame"
    assert rain["replyRef"] == "" and rain["originFiles"] == []
    assert bird["account"] == ref(studio.useapi), "Veo runs only on a useapi.net account"
    assert bird["replyRef"] == "batch-1/veo"
    assert lantern_record["account"] == ref(studio.local)
    assert is_mp4(client.download(lantern_record)[:16])
    assert not client.refusals and not client.seen_429


def test_a_create_pinned_to_an_account_out_of_credits_is_a_412_and_the_batch_moves_on(studio):
    client = client_for(studio)
    client.accounts()
    before = Video.objects.count()
    direct = client.request(
        "POST", "videos/create", json={"account": ref(studio.broke), "prompt": "Pinned to Broke"}
    )
    assert direct.status_code == 412, direct.text
    body = direct.json()
    assert set(body) == {"error", "code"} and body["code"] == 412, body
    assert ref(studio.broke) in body["error"] and "Broke" in body["error"]
    held = client.request(
        "POST", "videos/create", json={"account": ref(studio.held), "prompt": "Pinned to Held"}
    )
    assert held.status_code == 596 and held.json()["code"] == 596, held.text
    assert Video.objects.count() == before, "a refused create keeps nothing"

    # The script's way: a prompt naming the exhausted account is refused, the account is
    # marked and the same prompt goes to the first available account instead.
    prompts = [
        Prompt({"prompt": "A fox in the snow"}, account=ref(studio.broke)),
        Prompt({"prompt": "A heron in the reeds"}, account=ref(studio.held)),
        Prompt({"prompt": "An owl at dusk"}, image=webp(3)),
    ]
    done = client.run(prompts)

    assert [(a, status) for a, status, _ in client.refusals] == [
        (ref(studio.broke), 412),
        (ref(studio.held), 596),
    ]
    assert all(set(b) == {"error", "code"} for _, _, b in client.refusals)
    assert client.out_of_credits == {ref(studio.broke)} and client.on_hold == {ref(studio.held)}
    assert [d.record["statusLabel"] for d in done] == ["completed"] * 3
    assert not {d.account for d in done} & {ref(studio.broke), ref(studio.held)}
    assert all(is_mp4(d.mp4_head) for d in done)


def test_a_batch_of_a_hundred_prompts_finishes_within_the_budgets_and_honours_every_429(studio):
    prompts = []
    for n in range(100):
        if n % 10 == 5:  # useapi.net-only: the script must pick a useapi.net account
            fields = {
                "prompt": f"Shot {n}: a kite over dunes",
                "model": "Sora-2",
                "options": "720p-4sec",
                "aspectRatio": "16:9",
            }
            prompts.append(Prompt(fields))
        elif n % 2:
            prompts.append(Prompt({"prompt": f"Shot {n}: a tram crossing a bridge at noon"}))
        else:
            prompts.append(Prompt({"prompt": f"Shot {n}: the picture comes alive"}, image=webp(n)))
    # Three slots a remote account: now and then the local renderer is the freest one.
    ProviderAccount.objects.filter(pk__in=[studio.minimax.pk, studio.useapi.pk]).update(max_jobs=3)
    client = client_for(studio, time_budget=170.0)
    started = time.monotonic()

    done = client.run(prompts)

    elapsed = time.monotonic() - started
    assert len(done) == 100 and len({d.video_id for d in done}) == 100
    assert [d.record["statusLabel"] for d in done] == ["completed"] * 100
    assert all(d.record["videoId"] == d.video_id and is_mp4(d.mp4_head) for d in done)
    assert {d.video_id for d in done} <= client.list_video_ids()
    assert all(d.account == ref(studio.useapi) for d in done if d.prompt.useapi_only)
    assert len(client.uploads) == 50, "one upload per image prompt"
    assert_available_answers_sound(client, studio.disabled, studio.broke, studio.held)
    assert [s for s in client.seen_429 if s.retry_after is None] == []
    assert [s for s in client.seen_429 if not s.honoured] == []
    assert [s for s in client.seen_429 if s.rate_limited] == [], "defaults fit a 100 batch"
    assert elapsed < 180, f"the batch took {elapsed:.0f} s"
