"""The emulator's subject reference (S2V-01) and useapi.net-only models (Sora, Veo, Seedance):
what it accepts and refuses, the create bodies it records, and useapi.net's 412 and 596 faults.

Kept apart from test_emulator.py, which covers everything else the emulator does.
"""

import base64
import io
from typing import Any

import pytest
import requests
from PIL import Image

KEY = "key-alpha"
TOKEN = "user:7-testtoken"
ACCOUNT = "200001"


def image_bytes(width: int = 640, height: int = 640) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def data_url(width: int = 640, height: int = 640) -> str:
    return "data:image/png;base64," + base64.b64encode(image_bytes(width, height)).decode()


def mm_create(emu, body: dict[str, Any]) -> dict:
    headers = {"Authorization": f"Bearer {KEY}"}
    url = f"{emu.url}/v1/video_generation"
    return requests.post(url, json=body, headers=headers, timeout=10).json()


def ua(emu, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {TOKEN}"}
    url = f"{emu.url}/v1/minimax{path}"
    return requests.request(method, url, headers=headers, timeout=10, **kwargs)


def ua_create(emu, **body: Any) -> requests.Response:
    return ua(emu, "POST", "/videos/create", json={"account": ACCOUNT, **body})


def upload(emu) -> str:
    headers = {"Content-Type": "image/png"}
    answer = ua(emu, "POST", f"/files/?account={ACCOUNT}", data=image_bytes(), headers=headers)
    return answer.json()["fileID"]


def subject(*images: str, kind: str = "character") -> list[dict]:
    return [{"type": kind, "image": list(images)}]


# MiniMax: S2V-01


def test_minimax_takes_s2v_01_with_one_face_and_records_the_body(emulator):
    body = {"model": "S2V-01", "prompt": "She winks", "subject_reference": subject(data_url())}

    answer = mm_create(emulator, body)

    assert answer["base_resp"]["status_code"] == 0, answer
    task = emulator.stats()["tasks"][-1]
    assert (task["model"], task["has_subject"], task["has_first_frame"]) == ("S2V-01", True, False)
    assert (task["resolution"], task["duration"]) == ("720P", 6)
    assert emulator.last_create() == body
    assert emulator.last_create("useapi") is None


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        (subject(data_url()) * 2, "exactly one character"),
        ({"type": "character", "image": [data_url()]}, "exactly one character"),
        (subject(data_url(), kind="object"), "type must be 'character'"),
        (subject(data_url(), data_url()), "exactly one image"),
        ([{"type": "character", "image": data_url()}], "exactly one image"),
        (subject("ftp://x.test/face.jpg"), "http(s) URL or a data:image"),
        (subject(data_url(200, 200)), "short side"),
    ],
)
def test_minimax_refuses_a_malformed_subject_reference_with_2013(emulator, reference, reason):
    body = {"model": "S2V-01", "prompt": "She winks", "subject_reference": reference}

    answer = mm_create(emulator, body)

    assert answer["base_resp"]["status_code"] == 2013
    assert reason in answer["base_resp"]["status_msg"]
    assert emulator.stats()["creates"] == 0
    assert emulator.last_create() == body, "refused creates are recorded too"


def test_minimax_refuses_a_frame_alongside_the_subject(emulator):
    body = {
        "model": "S2V-01",
        "prompt": "She winks",
        "subject_reference": subject("https://x.test/face.jpg"),
        "first_frame_image": data_url(),
    }

    answer = mm_create(emulator, body)

    assert answer["base_resp"]["status_code"] == 2013
    assert "no first or last frame" in answer["base_resp"]["status_msg"]


# useapi.net: S2V-01 and the models only it runs


def test_useapi_takes_s2v_01_with_the_face_as_file_id(emulator):
    face = upload(emulator)

    answer = ua_create(emulator, model="S2V-01", prompt="She winks", fileID=face)

    assert answer.status_code == 200, answer.json()
    task = emulator.stats()["tasks"][-1]
    assert (task["model"], task["has_subject"], task["resolution"]) == ("S2V-01", True, "720P")
    assert ua_create(emulator, model="S2V-01", prompt="No face").status_code == 400


def test_useapi_takes_veo_with_options_aspect_ratio_and_an_end_frame(emulator):
    first, last = upload(emulator), upload(emulator)
    fields = {"options": "veo-1080p-8sec", "aspectRatio": "9:16"}

    answer = ua_create(
        emulator,
        model="Veo-3.1",
        prompt="A drone shot",
        fileID=first,
        end_frame_fileID=last,
        **fields,
    )

    assert answer.status_code == 200, answer.json()
    record = answer.json()
    assert (record["model"], record["options"]) == ("Veo-3.1", "veo-1080p-8sec")
    assert [item["id"] for item in record["originFiles"]] == [first, last]
    assert emulator.last_create("useapi")["aspectRatio"] == "9:16"


def test_useapi_takes_veo_s2v_reference_images_in_order(emulator):
    ids = [upload(emulator) for _ in range(3)]

    answer = ua_create(
        emulator,
        model="Veo-3.1-S2V",
        prompt="Two friends",
        fileID=ids[0],
        fileID2=ids[1],
        fileID3=ids[2],
    )

    assert answer.status_code == 200, answer.json()
    assert [item["id"] for item in answer.json()["originFiles"]] == ids


def test_useapi_takes_seedance_resolution_duration_and_aspect_ratio(emulator):
    fields = {"resolution": "1080", "duration": 8, "aspectRatio": "Auto"}

    answer = ua_create(emulator, model="Seedance-2.0", prompt="x" * 7000, **fields)

    assert answer.status_code == 200, answer.json()
    task = emulator.stats()["tasks"][-1]
    assert (task["model"], task["resolution"], task["duration"]) == ("Seedance-2.0", "1080P", 8)
    assert (answer.json()["width"], answer.json()["height"]) == (1920, 1080)
    assert {k: emulator.last_create()[k] for k in fields} == fields


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"model": "Veo-9"}, "Unsupported model Veo-9"),
        ({"model": "Veo-3.1", "options": "veo-1080p-6sec"}, "not valid for Veo-3.1"),
        ({"model": "Veo-3.1", "aspectRatio": "21:9"}, "aspectRatio '21:9' is not valid"),
        ({"model": "02", "aspectRatio": "16:9"}, "02 does not support aspectRatio"),
        ({"model": "Veo-3.1", "resolution": "1080"}, "for Seedance models only"),
        ({"model": "Seedance-2.0", "options": "720p-8sec"}, "not options"),
        ({"model": "Seedance-2.0-Fast", "resolution": "1080"}, "not valid for Seedance-2.0-Fast"),
        ({"model": "Seedance-2.0", "duration": 20}, "from 4 to 15"),
        ({"model": "Sora-2", "prompt": "x" * 2001}, "maximum is 2000"),
    ],
)
def test_useapi_refuses_what_a_model_does_not_take_with_400(emulator, body, reason):
    answer = ua_create(emulator, **{"prompt": "A shot", **body})

    assert answer.status_code == 400
    assert answer.json()["code"] == 400 and reason in answer.json()["error"]
    assert emulator.stats()["creates"] == 0


def test_useapi_refuses_reference_images_a_model_cannot_take_or_with_gaps(emulator):
    ids = [upload(emulator) for _ in range(3)]

    veo = ua_create(emulator, model="Veo-3.1", prompt="x", fileID=ids[0], fileID2=ids[1])
    gap = ua_create(emulator, model="Veo-3.1-S2V", prompt="x", fileID=ids[0], fileID3=ids[2])
    alone = ua_create(emulator, model="Seedance-2.0", prompt="x", fileID2=ids[1])

    assert veo.status_code == 400 and "does not support fileID2" in veo.json()["error"]
    assert gap.status_code == 400 and "fileID2 is missing" in gap.json()["error"]
    assert alone.status_code == 400 and "needs fileID" in alone.json()["error"]


def test_create_bodies_are_listed_oldest_first_also_over_http(emulator):
    ua_create(emulator, prompt="one")
    mm_create(emulator, {"model": "T2V-01", "prompt": "two"})

    assert [body["prompt"] for body in emulator.create_bodies()] == ["one", "two"]
    seen = requests.get(f"{emulator.url}/_emulator/creates?protocol=useapi", timeout=5).json()
    assert seen == [{"account": ACCOUNT, "prompt": "one"}]
    emulator.reset()
    assert emulator.create_bodies() == []


# useapi.net's own statuses as faults


@pytest.mark.parametrize(
    ("status", "error"), [(412, "run out of credits"), (596, "placed on hold")]
)
def test_useapi_412_and_596_faults_answer_a_create_with_that_status(emulator, status, error):
    emulator.fault("create", f"http_{status}")

    answer = ua_create(emulator, prompt="x")

    assert answer.status_code == status
    assert answer.json()["code"] == status and error in answer.json()["error"]
    assert emulator.stats()["creates"] == 0
    assert ua_create(emulator, prompt="x").status_code == 200  # one use, then gone
