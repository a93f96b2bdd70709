"""The MiniMax / useapi.net emulator, exercised over real HTTP like a client would."""

import base64
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.emulator import Emulator
from tests.emulator.__main__ import parse_args

FAST = {"preparing_s": 0.05, "queueing_s": 0.05, "processing_s": 0.3}
KEY = "key-alpha"
TOKEN = "user:7-testtoken"
T2V = {"model": "MiniMax-Hailuo-2.3", "prompt": "A lighthouse at dusk"}


# Helpers


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def create(emu: Emulator, body: dict[str, Any], key: str = KEY, base: str = "") -> dict:
    url = f"{emu.url}{base}/v1/video_generation"
    response = requests.post(url, json=body, headers=_auth(key), timeout=10)
    assert response.status_code == 200
    return response.json()


def query(emu: Emulator, task_id: str, key: str = KEY, base: str = "") -> dict:
    url = f"{emu.url}{base}/v1/query/video_generation"
    response = requests.get(url, params={"task_id": task_id}, headers=_auth(key), timeout=10)
    assert response.status_code == 200
    return response.json()


def retrieve(emu: Emulator, file_id: str, key: str = KEY) -> dict:
    url = f"{emu.url}/v1/files/retrieve"
    response = requests.get(url, params={"file_id": file_id}, headers=_auth(key), timeout=10)
    assert response.status_code == 200
    return response.json()


def finish(emu: Emulator, task_id: str, key: str = KEY, base: str = "") -> dict:
    """Polls until the task is final; returns the last query answer."""
    return wait_until(
        lambda: _final(query(emu, task_id, key, base)), what=f"task {task_id} to finish"
    )


def _final(answer: dict) -> dict | None:
    return answer if answer.get("status") in ("Success", "Fail") else None


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def data_url(width: int = 640, height: int = 360, kind: str = "PNG") -> str:
    return "data:image/png;base64," + base64.b64encode(image_bytes(width, height, kind)).decode()


def image_bytes(width: int = 640, height: int = 360, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 90, 40)).save(buffer, kind)
    return buffer.getvalue()


def code(answer: dict) -> int:
    return answer["base_resp"]["status_code"]


class Receiver:
    """A tiny callback receiver: echoes the challenge (or not) and keeps every push."""

    def __init__(self, mode: str = "echo", delay: float = 0.0):
        self.mode, self.delay = mode, delay
        self.posts: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.posts.append(body)
                time.sleep(receiver.delay if "challenge" in body else 0)
                reply: dict[str, Any] = {"status": "success"}
                if "challenge" in body:
                    echo = body["challenge"] if receiver.mode == "echo" else "something else"
                    reply = {"challenge": echo}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pushes(self) -> list[dict]:
        return [post for post in self.posts if "challenge" not in post]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(mode: str = "echo", delay: float = 0.0) -> Receiver:
        made.append(Receiver(mode, delay))
        return made[-1]

    yield make
    for one in made:
        one.close()


# MiniMax v1: the happy path


def test_a_task_goes_from_preparing_to_success_and_its_mp4_downloads(emulator):
    emulator.configure(**FAST)
    answer = create(emulator, T2V)
    assert code(answer) == 0 and answer["base_resp"]["status_msg"] == "success"
    task_id = answer["task_id"]
    assert task_id.isdigit() and len(task_id) == 15
    seen = []

    def done() -> dict | None:
        status = query(emulator, task_id)
        if not seen or seen[-1] != status["status"]:
            seen.append(status["status"])
        return _final(status)

    final = wait_until(done)
    assert seen[0] == "Preparing" and seen[-1] == "Success"
    assert seen == sorted(seen, key=["Preparing", "Queueing", "Processing", "Success"].index)
    assert "Processing" in seen
    assert (final["video_width"], final["video_height"]) == (1366, 768)
    assert isinstance(final["file_id"], str) and final["file_id"].isdigit()

    file = retrieve(emulator, final["file_id"])["file"]
    assert file["file_id"] == int(final["file_id"])
    assert (file["filename"], file["purpose"]) == ("output.mp4", "video_generation")
    assert file["download_url"].startswith(emulator.url + "/download/")
    video = requests.get(file["download_url"], timeout=30)  # no Authorization header
    assert video.status_code == 200
    assert video.headers["Content-Type"] == "video/mp4"
    assert int(video.headers["Content-Length"]) == file["bytes"] == len(video.content)
    assert video.content[4:8] == b"ftyp"


def test_every_answer_carries_a_trace_id(emulator):
    response = requests.post(
        f"{emulator.url}/v1/video_generation", json=T2V, headers=_auth(KEY), timeout=5
    )
    assert len(response.headers["Trace-Id"]) == 32


@pytest.mark.parametrize(
    ("resolution", "size"),
    [("1080P", (1920, 1080)), ("768P", (1366, 768)), ("512P", (910, 512))],
)
def test_the_output_size_follows_the_resolution(emulator, resolution, size):
    emulator.configure(preparing_s=0, queueing_s=0, processing_s=0.05)
    body = {"model": "MiniMax-Hailuo-02", "first_frame_image": data_url(), "duration": 6}
    answer = create(emulator, {**body, "resolution": resolution})
    final = finish(emulator, answer["task_id"])
    assert (final["video_width"], final["video_height"]) == size


def test_the_01_series_makes_720p(emulator):
    emulator.configure(preparing_s=0, queueing_s=0, processing_s=0.05)
    answer = create(emulator, {"model": "T2V-01", "prompt": "A red kite"})
    final = finish(emulator, answer["task_id"])
    assert (final["video_width"], final["video_height"]) == (1280, 720)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "MiniMax-Hailuo-2.3-Fast", "first_frame_image": "https://x.test/a.jpg"},
        {"model": "MiniMax-Hailuo-02", "first_frame_image": data_url(), "resolution": "512P"},
        {
            "model": "MiniMax-Hailuo-02",
            "first_frame_image": "https://x.test/a.jpg",
            "last_frame_image": data_url(),
            "resolution": "1080P",
        },
        {
            "model": "S2V-01",
            "prompt": "A girl winks",
            "subject_reference": [{"type": "character", "image": ["https://x.test/f.jpg"]}],
        },
        {"model": "I2V-01-live", "first_frame_image": data_url(800, 800, "JPEG")},
        {**T2V, "duration": 10, "resolution": "768P", "prompt_optimizer": False},
    ],
)
def test_valid_create_bodies_are_accepted(emulator, body):
    answer = create(emulator, body)
    assert code(answer) == 0, answer
    assert emulator.stats()["tasks"][-1]["has_first_frame"] == ("first_frame_image" in body)


# MiniMax v1: refusals


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"prompt": "no model"}, "model is required"),
        ({"model": "video-99", "prompt": "x"}, "not supported"),
        ({"model": "MiniMax-Hailuo-2.3-Fast", "prompt": "x"}, "requires first_frame_image"),
        ({"model": "MiniMax-Hailuo-2.3"}, "prompt is required"),
        ({"model": "MiniMax-Hailuo-2.3", "prompt": "x" * 2001}, "at most 2000"),
        ({**T2V, "resolution": "1080P", "duration": 10}, "duration"),
        ({**T2V, "resolution": "512P"}, "resolution 512P"),
        ({**T2V, "resolution": "4K"}, "resolution"),
        ({**T2V, "duration": "6"}, "duration must be an integer"),
        ({"model": "T2V-01", "prompt": "x", "resolution": "768P"}, "resolution 768P"),
        ({"model": "I2V-01", "prompt": "x"}, "text-to-video"),
        (
            {"model": "MiniMax-Hailuo-2.3", "prompt": "x", "last_frame_image": data_url()},
            "only supported by MiniMax-Hailuo-02",
        ),
        (
            {
                "model": "MiniMax-Hailuo-02",
                "first_frame_image": data_url(),
                "last_frame_image": data_url(),
                "resolution": "512P",
            },
            "512P is not supported",
        ),
        ({**T2V, "first_frame_image": "ftp://x.test/a.jpg"}, "http(s) URL or a data:image"),
        ({**T2V, "first_frame_image": "data:image/png;base64,@@@@"}, "not valid base64"),
        (
            {
                **T2V,
                "first_frame_image": "data:image/png;base64," + base64.b64encode(b"hi").decode(),
            },
            "not a readable image",
        ),
        ({**T2V, "first_frame_image": data_url(200, 200)}, "short side"),
        ({**T2V, "first_frame_image": data_url(1600, 320)}, "aspect ratio"),
        ({"model": "S2V-01", "prompt": "x"}, "requires subject_reference"),
        ({**T2V, "callback_url": "not a url"}, "callback_url"),
        ({**T2V, "prompt_optimizer": "yes"}, "prompt_optimizer must be a boolean"),
    ],
)
def test_invalid_create_bodies_are_refused_with_2013(emulator, body, reason):
    answer = create(emulator, body)
    assert code(answer) == 2013
    assert answer["base_resp"]["status_msg"].startswith("invalid params")
    assert reason in answer["base_resp"]["status_msg"]
    assert answer["task_id"] == ""
    assert emulator.stats()["creates"] == 0


def test_a_body_that_is_not_json_is_refused_with_2013(emulator):
    response = requests.post(
        f"{emulator.url}/v1/video_generation", data=b"{nope", headers=_auth(KEY), timeout=5
    )
    assert response.status_code == 200 and code(response.json()) == 2013


def test_a_missing_or_invalid_key_is_refused_with_1004_over_http_200(emulator):
    emulator.configure(invalid_keys=["revoked"])
    for key in ("", "revoked"):
        answer = create(emulator, T2V, key=key)
        assert code(answer) == 1004 and answer["base_resp"]["status_msg"].startswith("login fail")
        assert code(query(emulator, "123456789012345", key=key)) == 1004
        assert code(retrieve(emulator, "123456789012345", key=key)) == 1004
    assert emulator.stats()["creates"] == 0


def test_keys_only_work_on_their_own_regions_host(emulator):
    emulator.configure(**FAST)
    assert code(create(emulator, T2V, key="cn-key", base="/cn")) == 0
    assert code(create(emulator, T2V, key=KEY)) == 0
    wrong_host = create(emulator, T2V, key=KEY, base="/cn")
    assert code(wrong_host) == 2049 and wrong_host["base_resp"]["status_msg"] == "invalid api key"
    assert code(create(emulator, T2V, key="cn-key")) == 2049
    task_id = emulator.stats()["tasks"][0]["task_id"]
    assert finish(emulator, task_id, key="cn-key", base="/cn")["status"] == "Success"


def test_creates_over_the_rate_limit_get_1002_or_http_429_when_toggled(emulator):
    emulator.configure(rpm=2)
    assert [code(create(emulator, T2V)) for _ in range(3)] == [0, 0, 1002]
    assert "rate limit" in create(emulator, T2V)["base_resp"]["status_msg"]
    assert code(create(emulator, T2V, key="another-key")) == 0  # limits are per key
    emulator.configure(rate_limit_http_429=True)
    response = requests.post(
        f"{emulator.url}/v1/video_generation", json=T2V, headers=_auth(KEY), timeout=5
    )
    assert response.status_code == 429 and code(response.json()) == 1002
    stats = emulator.stats()
    assert (stats["creates"], stats["create_attempts"]) == (3, 6)
    # Queries are counted but never limited.
    task_id = stats["tasks"][0]["task_id"]
    assert all(code(query(emulator, task_id)) == 0 for _ in range(5))


def test_the_rate_window_slides(emulator):
    emulator.configure(rpm=1, rate_window_s=0.3)
    assert code(create(emulator, T2V)) == 0
    assert code(create(emulator, T2V)) == 1002
    time.sleep(0.35)
    assert code(create(emulator, T2V)) == 0


def test_max_concurrent_refuses_creates_until_a_task_finishes(emulator):
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.4, max_concurrent=2)
    first = create(emulator, T2V)["task_id"]
    assert code(create(emulator, T2V)) == 0
    busy = create(emulator, T2V)
    assert code(busy) == 1002 and "in progress" in busy["base_resp"]["status_msg"]
    finish(emulator, first)
    assert code(create(emulator, T2V)) == 0
    assert emulator.stats()["peak_concurrent"][KEY] == 2


def test_balance_and_quota_keys_are_refused(emulator):
    emulator.configure(no_balance_keys=["poor"], quota_keys=["capped"])
    assert code(create(emulator, T2V, key="poor")) == 1008
    assert code(create(emulator, T2V, key="capped")) == 2056


def test_a_prompt_with_the_input_word_is_refused_with_1026(emulator):
    answer = create(emulator, {**T2V, "prompt": "Something FORBIDDEN here"})
    assert code(answer) == 1026 and answer["task_id"] == ""
    assert emulator.stats()["tasks"] == []


def test_a_prompt_with_the_output_word_ends_in_fail_with_1027(emulator):
    emulator.configure(**FAST)
    task_id = create(emulator, {**T2V, "prompt": "a nsfwresult scene"})["task_id"]
    final = finish(emulator, task_id)
    assert final["status"] == "Fail" and code(final) == 1027
    assert "file_id" not in final


def test_the_fail_word_ends_the_task_in_fail_with_a_message(emulator):
    emulator.configure(**FAST)
    task_id = create(emulator, {**T2V, "prompt": "please failme"})["task_id"]
    final = finish(emulator, task_id)
    assert final["status"] == "Fail" and code(final) != 0
    assert "failed" in final["base_resp"]["status_msg"]


def test_only_the_owner_key_sees_a_task_and_its_file(emulator):
    emulator.configure(**FAST)
    task_id = create(emulator, T2V)["task_id"]
    final = finish(emulator, task_id)
    other = query(emulator, task_id, key="someone-else")
    assert code(other) != 0 and "status" not in other
    assert code(retrieve(emulator, final["file_id"], key="someone-else")) != 0
    unknown = query(emulator, "999999999999999")
    assert code(unknown) == 2013 and "status" not in unknown
    assert code(retrieve(emulator, "999999999999999")) == 2013


# Downloads


def _finished_file(emulator: Emulator) -> dict:
    task_id = create(emulator, T2V)["task_id"]
    return retrieve(emulator, finish(emulator, task_id)["file_id"])["file"]


def test_download_urls_expire_and_a_new_retrieve_mints_a_fresh_one(emulator):
    emulator.configure(**FAST, download_ttl_s=0.2)
    file = _finished_file(emulator)
    time.sleep(0.25)
    expired = requests.get(file["download_url"], timeout=10)
    assert expired.status_code == 403
    assert b"<Code>AccessDenied</Code>" in expired.content
    fresh = retrieve(emulator, str(file["file_id"]))["file"]["download_url"]
    assert fresh != file["download_url"]
    assert requests.get(fresh, timeout=30).content[4:8] == b"ftyp"


def test_a_tampered_or_unknown_download_url_is_refused(emulator):
    emulator.configure(**FAST)
    url = _finished_file(emulator)["download_url"]
    assert requests.get(url.replace("sig=", "sig=0"), timeout=5).status_code == 403
    assert requests.get(url.split("?")[0], timeout=5).status_code == 403
    assert requests.get(f"{emulator.url}/download/1.mp4", timeout=5).status_code == 404


def test_a_range_request_gets_partial_content(emulator):
    emulator.configure(**FAST)
    file = _finished_file(emulator)
    part = requests.get(file["download_url"], headers={"Range": "bytes=0-11"}, timeout=30)
    assert part.status_code == 206 and len(part.content) == 12 and part.content[4:8] == b"ftyp"
    assert part.headers["Content-Range"] == f"bytes 0-11/{file['bytes']}"


# Callbacks


def test_a_callback_url_is_challenged_then_told_of_each_status_change(emulator, receiver):
    emulator.configure(**FAST)
    hook = receiver()
    task_id = create(emulator, {**T2V, "callback_url": hook.url})["task_id"]
    assert "challenge" in hook.posts[0]  # verified before the create answered
    wait_until(lambda: any(p["status"] == "success" for p in hook.pushes()), what="callback")
    pushes = hook.pushes()
    assert [p["status"] for p in pushes] == ["queueing", "processing", "success"]
    assert all(p["task_id"] == task_id for p in pushes)
    assert pushes[-1]["file_id"] == query(emulator, task_id)["file_id"]
    assert code(pushes[-1]) == 0
    assert emulator.stats()["tasks"][0]["callback_url"] == hook.url


def test_callbacks_use_query_casing_when_lowercase_is_off(emulator, receiver):
    emulator.configure(**FAST, callback_lowercase=False)
    hook = receiver()
    create(emulator, {**T2V, "prompt": "failme", "callback_url": hook.url})
    wait_until(lambda: any(p["status"] == "Fail" for p in hook.pushes()), what="callback")
    assert [p["status"] for p in hook.pushes()][-2:] == ["Processing", "Fail"]


@pytest.mark.parametrize(("mode", "delay"), [("wrong", 0.0), ("echo", 0.5)])
def test_a_callback_url_that_fails_the_challenge_refuses_the_create(
    emulator, receiver, mode, delay
):
    emulator.configure(callback_timeout_s=0.3)
    hook = receiver(mode, delay)
    answer = create(emulator, {**T2V, "callback_url": hook.url})
    assert code(answer) == 2013
    assert answer["base_resp"]["status_msg"] == "invalid params, fail to check callback url"
    assert emulator.stats()["creates"] == 0


def test_an_unreachable_callback_url_refuses_the_create(emulator, receiver):
    hook = receiver()
    url = hook.url
    hook.close()
    assert code(create(emulator, {**T2V, "callback_url": url})) == 2013


# Faults


@pytest.mark.parametrize("status", [500, 502, 504])
def test_an_http_error_fault_answers_with_that_status_and_creates_nothing(emulator, status):
    emulator.fault("create", f"http_{status}")
    url = f"{emulator.url}/v1/video_generation"
    response = requests.post(url, json=T2V, headers=_auth(KEY), timeout=5)
    assert response.status_code == status
    assert emulator.stats()["creates"] == 0
    assert code(create(emulator, T2V)) == 0  # one use, then gone


def test_a_slow_create_still_creates_the_task(emulator):
    emulator.fault("create", "slow", seconds=1.0)
    url = f"{emulator.url}/v1/video_generation"
    with pytest.raises(requests.Timeout):
        requests.post(url, json=T2V, headers=_auth(KEY), timeout=0.3)
    assert emulator.stats()["creates"] == 1


def test_a_slow_query_answers_late_but_normally(emulator):
    task_id = create(emulator, T2V)["task_id"]
    emulator.fault("query", "slow", seconds=0.3)
    started = time.monotonic()
    assert query(emulator, task_id)["status"] == "Preparing"
    assert time.monotonic() - started >= 0.3


def test_a_dropped_create_gets_no_answer_and_creates_nothing(emulator):
    emulator.fault("create", "drop")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{emulator.url}/v1/video_generation", json=T2V, headers=_auth(KEY), timeout=5
        )
    stats = emulator.stats()
    assert (stats["creates"], stats["create_attempts"]) == (0, 1)


def test_drop_after_creates_the_task_but_loses_the_answer(emulator):
    emulator.fault("create", "drop_after")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{emulator.url}/v1/video_generation", json=T2V, headers=_auth(KEY), timeout=5
        )
    assert [task["prompt"] for task in emulator.stats()["tasks"]] == [T2V["prompt"]]


def test_a_malformed_answer_is_not_json(emulator):
    emulator.fault("query", "malformed")
    url = f"{emulator.url}/v1/query/video_generation?task_id=1"
    response = requests.get(url, headers=_auth(KEY), timeout=5)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.parametrize(
    "number", [1000, 1001, 1002, 1004, 1008, 1013, 1024, 1033, 2013, 2049, 2056]
)
def test_a_code_fault_answers_http_200_with_that_code(emulator, number):
    emulator.fault("create", f"code_{number}")
    answer = create(emulator, T2V)
    assert code(answer) == number and answer["task_id"] == ""
    assert emulator.stats()["creates"] == 0


def test_a_fault_lasts_count_requests_and_can_target_any_route(emulator):
    emulator.configure(**FAST)
    file = _finished_file(emulator)
    emulator.fault("retrieve", "code_1013", count=2)
    assert [code(retrieve(emulator, str(file["file_id"]))) for _ in range(3)] == [1013, 1013, 0]
    emulator.fault("download", "http_502")
    assert requests.get(file["download_url"], timeout=10).status_code == 502
    assert requests.get(file["download_url"], timeout=30).status_code == 200
    emulator.fault("any", "http_500")
    assert requests.get(file["download_url"], timeout=10).status_code == 500
    assert emulator.stats()["faults_pending"] == []


def test_bad_faults_are_refused(emulator):
    with pytest.raises(ValueError):
        emulator.fault("everything", "http_500")
    with pytest.raises(ValueError):
        emulator.fault("create", "explode")


# Control over HTTP, for processes that only know the URL


def test_the_control_routes_configure_inject_faults_report_and_reset(emulator):
    control = f"{emulator.url}/_emulator"
    config = requests.post(f"{control}/config", json={"rpm": 1, "invalid_keys": ["x"]}).json()
    assert config["rpm"] == 1 and config["invalid_keys"] == ["x"]
    assert emulator.config.invalid_keys == ("x",)
    bad = requests.post(f"{control}/config", json={"no_such_field": 1})
    assert bad.status_code == 400
    fault = {"route": "create", "kind": "http_504", "count": 1, "seconds": 0}
    assert requests.post(f"{control}/fault", json=fault).status_code == 200
    assert requests.post(f"{control}/fault", json={"route": "x", "kind": "drop"}).status_code == 400
    url = f"{emulator.url}/v1/video_generation"
    assert requests.post(url, json=T2V, headers=_auth(KEY)).status_code == 504
    assert code(create(emulator, T2V)) == 0
    assert code(create(emulator, T2V)) == 1002
    stats = requests.get(f"{control}/stats").json()
    assert stats["creates"] == 1 and stats["create_attempts"] == 3
    assert stats["requests"]["create"] == 3 and stats["requests_last_minute"][KEY] == 3
    task = stats["tasks"][0]
    assert {"task_id", "key", "protocol", "prompt", "model", "status", "created_at"} <= set(task)
    assert {"finished_at", "has_first_frame", "callback_url"} <= set(task)
    assert requests.post(f"{control}/reset").json() == {"ok": True}
    assert emulator.stats()["tasks"] == [] and emulator.config.rpm == 5


def test_peak_concurrent_counts_unfinished_tasks_per_key(emulator):
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.3, rpm=10)
    ids = [create(emulator, T2V)["task_id"] for _ in range(3)]
    create(emulator, T2V, key="solo")
    for task_id in ids:
        finish(emulator, task_id)
    create(emulator, T2V)
    assert emulator.stats()["peak_concurrent"] == {KEY: 3, "solo": 1}


# useapi.net


def ua(emu: Emulator, method: str, path: str, token: str = TOKEN, **kwargs: Any):
    headers = {**kwargs.pop("headers", {}), **_auth(token)}
    return requests.request(
        method, f"{emu.url}/v1/minimax{path}", headers=headers, timeout=10, **kwargs
    )


def ua_create(emu: Emulator, **body: Any) -> requests.Response:
    return ua(emu, "POST", "/videos/create", json={"account": "200001", **body})


def ua_finish(emu: Emulator, video_id: str) -> dict:
    return wait_until(
        lambda: (item := ua(emu, "GET", f"/videos/{video_id}").json())["statusFinal"] and item,
        what="useapi video to finish",
    )


def test_a_useapi_video_is_created_polled_and_downloaded(emulator):
    emulator.configure(**FAST)
    response = ua_create(emulator, prompt="A fox in snow", model="T2V-2.3", options="1080p-6sec")
    assert response.status_code == 200
    video_id = response.json()["videoId"]
    assert video_id.startswith("user:7-minimax:200001-video:")
    percents = []

    def done() -> dict | None:
        item = ua(emulator, "GET", f"/videos/{video_id}").json()
        percents.append(item["percent"])
        return item if item["statusFinal"] else None

    item = wait_until(done)
    assert (item["status"], item["statusLabel"], item["percent"]) == (2, "completed", 100)
    assert (item["width"], item["height"]) == (1920, 1080)
    assert percents == sorted(percents) and any(0 < p < 100 for p in percents)
    video = requests.get(item["downloadURL"], timeout=30)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    assert requests.get(item["videoURL"], timeout=30).status_code == 200
    assert requests.get(item["coverURL"], timeout=10).headers["Content-Type"] == "image/jpeg"
    stats = emulator.stats()
    assert stats["tasks"][0]["protocol"] == "useapi" and stats["tasks"][0]["key"] == "200001"


def test_useapi_uploads_images_and_creates_from_them(emulator):
    upload = ua(
        emulator,
        "POST",
        "/files/?account=200001",
        data=image_bytes(),
        headers={"Content-Type": "image/png"},
    )
    assert upload.status_code == 200
    file_id = upload.json()["fileID"]
    assert file_id.startswith("user:7-minimax:200001-file:")
    assert requests.get(upload.json()["ossPath"], timeout=5).content == image_bytes()
    response = ua_create(emulator, fileID=file_id, model="I2V-2.3")
    assert response.status_code == 200
    assert response.json()["originFiles"][0]["id"] == file_id
    assert emulator.stats()["tasks"][0]["has_first_frame"] is True
    wrong = ua(emulator, "POST", "/files/?account=200001", data=b"GIF89a", headers={})
    assert wrong.status_code == 400 and wrong.json()["code"] == 400
    assert ua_create(emulator, fileID=file_id.replace("file:", "file:9")).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"prompt": "x" * 2001},
        {"prompt": "x", "model": "Nope-1"},
        {"prompt": "x", "model": "I2V-01"},
        {"prompt": "x", "model": "02", "options": "4k-6sec"},
        {"prompt": "x", "maxJobs": 11},
        {"prompt": "x", "replyUrl": "ftp://x"},
    ],
)
def test_useapi_refuses_bad_creates_with_400(emulator, body):
    response = ua_create(emulator, **body)
    assert response.status_code == 400 and response.json()["code"] == 400
    assert response.json()["error"]


def test_useapi_answers_429_when_the_account_is_at_max_jobs(emulator):
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.4, useapi_max_jobs=2)
    first = ua_create(emulator, prompt="one").json()["videoId"]
    second = ua_create(emulator, prompt="two")
    assert second.status_code == 200
    busy = ua_create(emulator, prompt="three")
    assert busy.status_code == 429 and "busy" in busy.json()["error"]
    assert ua_create(emulator, prompt="three", maxJobs=3).status_code == 200  # per-call override
    # Both earlier videos must be done: "three" still runs, so one free slot needs two ended
    # (waiting for the first alone raced the second on a loaded machine).
    ua_finish(emulator, first)
    ua_finish(emulator, second.json()["videoId"])
    assert ua_create(emulator, prompt="four").status_code == 200
    assert emulator.stats()["peak_concurrent"]["200001"] == 3


def test_useapi_answers_429_over_the_rate_limit(emulator):
    emulator.configure(rpm=1)
    assert ua_create(emulator, prompt="one").status_code == 200
    assert ua_create(emulator, prompt="two").status_code == 429


def test_useapi_refuses_by_token_or_account(emulator):
    emulator.configure(
        invalid_keys=["bad-token"], no_balance_keys=["200001"], on_hold_keys=["held-token"]
    )
    assert ua(emulator, "GET", "/accounts/", token="bad-token").json() == {
        "error": "Unauthorized",
        "code": 401,
    }
    assert ua(emulator, "GET", "/accounts/", token="").status_code == 401
    assert ua_create(emulator, prompt="x").status_code == 412
    held = ua(emulator, "POST", "/videos/create", token="held-token", json={"prompt": "x"})
    assert held.status_code == 596 and held.json()["error"] == "Account placed on hold"
    body = {"account": "100001", "prompt": "forbidden words"}
    moderated = ua(emulator, "POST", "/videos/create", json=body)
    assert moderated.status_code == 422 and moderated.json()["error"] == "Moderated prompt"
    assert emulator.stats()["creates"] == 0


def test_useapi_reports_moderated_and_failed_videos(emulator):
    emulator.configure(**FAST)
    flagged = ua_create(emulator, prompt="a nsfwresult").json()["videoId"]
    failed = ua_create(emulator, prompt="failme now").json()["videoId"]
    assert ua_finish(emulator, flagged)["status"] == 5
    item = ua_finish(emulator, failed)
    assert (item["status"], item["statusLabel"], item["canRetry"]) == (3, "failed", True)
    assert item["downloadURL"] == ""


def test_useapi_unknown_videos_are_404(emulator):
    response = ua(emulator, "GET", "/videos/user:7-minimax:200001-video:123")
    assert response.status_code == 404 and response.json() == {"error": "Not found.", "code": 404}
    mine = ua_create(emulator, prompt="mine").json()["videoId"]
    assert ua(emulator, "GET", f"/videos/{mine}", token="user:8-other").status_code == 404


def test_useapi_lists_videos_newest_first_which_finds_a_lost_create(emulator):
    for prompt in ("first", "second"):
        ua_create(emulator, prompt=prompt)
    emulator.fault("create", "drop_after")
    with pytest.raises(requests.ConnectionError):
        ua_create(emulator, prompt="third")
    listed = ua(emulator, "GET", "/videos/?account=200001&limit=2").json()["videos"]
    assert [item["desc"] for item in listed] == ["third", "second"]
    assert "percent" not in listed[0]
    after = listed[-1]["videoId"]
    rest = ua(emulator, "GET", f"/videos/?account=200001&lastVideoId={after}").json()
    assert [item["desc"] for item in rest["videos"]] == ["first"]
    assert ua(emulator, "GET", "/videos/?account=999").json()["videos"] == []


def test_useapi_faults_use_http_statuses(emulator):
    emulator.fault("create", "http_502")
    emulator.fault("create", "code_1002")
    emulator.fault("query", "http_504")
    assert ua_create(emulator, prompt="x").status_code == 502
    assert ua_create(emulator, prompt="x").status_code == 429
    video_id = ua_create(emulator, prompt="x").json()["videoId"]
    assert ua(emulator, "GET", f"/videos/{video_id}").status_code == 504
    assert ua(emulator, "GET", f"/videos/{video_id}").status_code == 200


def test_useapi_accounts_and_scheduler_show_capacity(emulator):
    emulator.configure(processing_s=5)
    accounts = ua(emulator, "GET", "/accounts/").json()
    assert accounts["100001"]["maxJobs"] == 3 and accounts["100001"]["supportVideo"] is True
    added = ua(emulator, "POST", "/accounts/200001", json={"maxJobs": 2})
    assert added.status_code == 201 and added.json()["jwt"]["user"]["id"] == "200001"
    ua_create(emulator, prompt="x", replyRef="ref-1")
    schedule = ua(emulator, "GET", "/scheduler/available").json()
    assert [e["replyRef"] for e in schedule["executing"]] == ["ref-1"]
    capacity = {entry["account"]: entry for entry in schedule["available"]}
    assert capacity["200001"] == {"account": "200001", "maxJobs": 2, "executing": 1, "available": 1}
    assert ua(emulator, "GET", "/accounts/300003").json()["account"] == "300003"


def test_useapi_calls_reply_url_once_when_the_video_is_final(emulator, receiver):
    emulator.configure(**FAST)
    hook = receiver()
    ua_create(emulator, prompt="x", replyUrl=hook.url, replyRef="order-9")
    wait_until(lambda: hook.posts, what="the replyUrl call")
    time.sleep(0.1)
    assert len(hook.posts) == 1
    assert hook.posts[0]["status"] == 2 and hook.posts[0]["replyRef"] == "order-9"


def test_the_command_line_serves_without_django_or_the_studios_settings(tmp_path):
    # No secrets, no settings module: the emulator is a stand-alone HTTP server.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS")
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--cache-dir", str(tmp_path)],
        cwd=Path(__file__).resolve().parent.parent,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/_emulator/stats", timeout=5).json()["tasks"] == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0
    assert "Stopping" in process.stdout.read()


def test_the_command_line_takes_the_old_management_commands_options():
    options = parse_args(["--port", "9000", "--seconds", "20", "--rate-limit-429"])
    assert (options.port, options.seconds, options.rate_limit_429) == (9000, 20.0, True)
