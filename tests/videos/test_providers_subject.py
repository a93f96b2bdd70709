"""What the providers send for a subject reference (S2V-01) and for a model only useapi.net runs,
read back from the create body the emulator received over real HTTP."""

import base64
import time
from pathlib import Path

import pytest
from PIL import Image

from videos.providers.base import AccountConfig, AccountPaused, Job, ProviderError
from videos.providers.catalog import OptionRefused
from videos.providers.minimax import MiniMaxProvider
from videos.providers.useapi import UseapiProvider

KEY = "key-alpha"
ACCOUNT = "200001"


@pytest.fixture
def minimax(emulator) -> MiniMaxProvider:
    config = AccountConfig(
        name="MiniMax", kind="minimax", credentials={"api_key": KEY}, base_url=emulator.url
    )
    return MiniMaxProvider(config)


@pytest.fixture
def useapi(emulator) -> UseapiProvider:
    config = AccountConfig(
        name="useapi",
        kind="useapi",
        credentials={"token": "user:7-testtoken"},
        base_url=emulator.url,
        upstream_account=ACCOUNT,
        max_jobs=2,
    )
    return UseapiProvider(config)


def picture(folder: Path, name: str, colour: tuple[int, int, int]) -> Path:
    # Within MiniMax's limits (short side over 300 px, aspect 2:5 to 5:2), and each one distinct.
    path = folder / f"{name}.png"
    Image.new("RGB", (400, 500), colour).save(path, "PNG")
    return path


def uploaded(emulator, file_id: str) -> bytes:
    """The bytes the emulator stored for a useapi.net fileID."""
    return emulator.state.get_upload(file_id.rsplit("-file:", 1)[1])["data"]


def test_minimax_sends_s2v_01_with_the_face_as_its_subject_reference(minimax, emulator, tmp_path):
    face = picture(tmp_path, "face", (230, 180, 150))

    minimax.submit(Job(video_id=1, prompt="She winks", model="S2V-01", subject_image_path=face))

    body = emulator.last_create("minimax")
    assert body["model"] == "S2V-01" and body["prompt"] == "She winks"
    [reference] = body["subject_reference"]
    assert reference["type"] == "character"
    [image] = reference["image"]
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1]) == face.read_bytes()
    # S2V-01's schema has no frames, duration or resolution (reference §2).
    assert not {"first_frame_image", "last_frame_image", "duration", "resolution"} & set(body)
    assert emulator.stats()["tasks"][-1]["has_subject"] is True


def test_minimax_picks_s2v_01_for_a_face_when_no_model_is_chosen(minimax, emulator, tmp_path):
    face = picture(tmp_path, "face", (230, 180, 150))

    minimax.submit(Job(video_id=1, prompt="She winks", subject_image_path=face))

    assert emulator.last_create("minimax")["model"] == "S2V-01"


def test_minimax_refuses_a_useapi_only_model_without_sending_it(minimax, emulator):
    with pytest.raises(ProviderError) as raised:
        minimax.submit(Job(video_id=1, prompt="A drone shot", model="Veo-3.1"))

    assert raised.value.permanent and "only on useapi.net accounts" in str(raised.value)
    assert emulator.stats()["create_attempts"] == 0


def test_useapi_sends_s2v_01_with_the_uploaded_face_as_file_id(useapi, emulator, tmp_path):
    emulator.configure(preparing_s=0.05, queueing_s=0.05, processing_s=0.2)
    face = picture(tmp_path, "face", (230, 180, 150))

    video_id = useapi.submit(
        Job(video_id=1, prompt="She winks", model="S2V-01", subject_image_path=face)
    )

    body = emulator.last_create("useapi")
    assert body["model"] == "S2V-01" and body["account"] == ACCOUNT
    assert uploaded(emulator, body["fileID"]) == face.read_bytes()
    assert not {"options", "end_frame_fileID", "fileID2"} & set(body)
    # And it runs to the end like any other video.
    deadline = time.monotonic() + 10
    while not (progress := useapi.poll(video_id)).final and time.monotonic() < deadline:
        time.sleep(0.05)
    assert progress.state == "success"
    assert useapi.fetch(video_id, progress.file_ref, workdir=tmp_path).stat().st_size > 0


def test_useapi_sends_a_veo_s2v_job_with_its_fields_and_two_references(useapi, emulator, tmp_path):
    first = picture(tmp_path, "first", (10, 10, 200))
    refs = (picture(tmp_path, "ref-a", (200, 10, 10)), picture(tmp_path, "ref-b", (10, 200, 10)))
    job = Job(
        video_id=1,
        prompt="Two friends on a beach",
        model="Veo-3.1-S2V",
        image_path=first,
        passthrough={"options": "veo-1080p-8sec", "aspectRatio": "9:16"},
        reference_paths=refs,
    )

    useapi.submit(job)

    body = emulator.last_create("useapi")
    assert body["model"] == "Veo-3.1-S2V"
    assert (body["options"], body["aspectRatio"]) == ("veo-1080p-8sec", "9:16")
    assert [uploaded(emulator, body[f]) for f in ("fileID", "fileID2", "fileID3")] == [
        path.read_bytes() for path in (first, *refs)
    ]
    assert "fileID4" not in body and "resolution" not in body


def test_useapi_sends_veo_3_1_with_first_and_last_frames_and_its_options(
    useapi, emulator, tmp_path
):
    first, last = picture(tmp_path, "first", (1, 2, 3)), picture(tmp_path, "last", (4, 5, 6))
    job = Job(
        video_id=1,
        prompt="A drone shot",
        model="Veo-3.1",
        image_path=first,
        last_image_path=last,
        passthrough={"options": "veo-720p-8sec", "aspectRatio": "16:9"},
    )

    useapi.submit(job)

    body = emulator.last_create("useapi")
    assert (body["model"], body["options"], body["aspectRatio"]) == (
        "Veo-3.1",
        "veo-720p-8sec",
        "16:9",
    )
    assert uploaded(emulator, body["end_frame_fileID"]) == last.read_bytes()


def test_useapi_sends_seedance_fields_as_given_without_checking_them(useapi, emulator):
    fields = {"resolution": "1080", "duration": 8, "aspectRatio": "Auto"}
    # Job.resolution and Job.duration are MiniMax's; a useapi.net-only model ignores them.
    job = Job(video_id=1, prompt="A dance", model="Seedance-2.0", passthrough=fields)

    useapi.submit(job)

    body = emulator.last_create("useapi")
    assert body["model"] == "Seedance-2.0" and "options" not in body
    assert {name: body[name] for name in fields} == fields
    assert emulator.stats()["tasks"][-1]["resolution"] == "1080P"


def test_useapi_still_checks_minimax_models_before_sending(useapi, emulator):
    job = Job(video_id=1, prompt="x", model="MiniMax-Hailuo-2.3", resolution="1080P", duration=10)

    with pytest.raises(OptionRefused):
        useapi.submit(job)
    assert emulator.stats()["create_attempts"] == 0


@pytest.mark.parametrize(("status", "kind"), [(412, "credits"), (596, "hold")])
def test_useapi_412_and_596_pause_the_account(useapi, emulator, status, kind):
    emulator.fault("create", f"http_{status}")

    with pytest.raises(AccountPaused) as raised:
        useapi.submit(Job(video_id=1, prompt="A fox"))
    assert raised.value.kind == kind
