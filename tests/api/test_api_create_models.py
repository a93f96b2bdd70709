"""POST videos/create with useapi.net's later models and fields (reference/useapi-minimax.md §4),
through Django's test client: every documented field is known; Sora, Veo and Seedance are kept
with their fields as sent and go only to a useapi.net account; a create pinned to an account that
cannot take it is refused with useapi.net's codes; S2V-01's fileID is the subject's face.

What each model takes field by field is in tests/videos/test_api_models.py.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.api import links as records
from tests.api.test_api import api_for, error_of
from tests.conftest import wait_for
from tests.factories import image_bytes
from tests.videos.test_scheduler_remote import add_account, drive
from tests.videos.test_worker_remote import FAST
from videos import scheduler, services
from videos.models import PromptImage, ProviderAccount, Video
from videos.scheduler import claims

S = Video.Status
# Every field useapi.net documents for POST videos/create (§4).
DOCUMENTED = {
    "account": "",
    "prompt": "A heron lifts off the lake",
    "promptOptimization": True,
    "fileID": "",
    "end_frame_fileID": "user:1-minimax:auto-file:1",
    **{f"fileID{n}": "user:1-minimax:auto-file:1" for n in range(2, 15)},
    **{
        f"{kind}FileID{n}": "user:1-minimax:auto-file:1"
        for kind in ("video", "audio")
        for n in (1, 2, 3)
    },
    "model": "Seedance-2.0",
    "options": "768p-6sec",
    "resolution": "720",
    "duration": 5,
    "aspectRatio": "16:9",
    "replyUrl": "",
    "replyRef": "ref",
    "maxJobs": 2,
}


@pytest.fixture
def useapi(cast, emulator) -> ProviderAccount:
    """A useapi.net account of Acme's; nothing is sent to it unless a test drives the queue."""
    return add_account(cast.acme, emulator, "useapi", name="Useapi", upstream_account="200001")


def upload(api, color=(200, 80, 40)) -> str:
    answer = api.post("files/", image_bytes(640, 480, color=color), content_type="image/png")
    assert answer.status_code == 200, answer.content
    return answer.json()["fileID"]


def multipart(api, body: dict):
    return api.client.post("/v1/minimax/videos/create", body)  # Django's client: form-data


def pk_of(file_id: str) -> int:
    return records.parse_id(file_id, "file")


# Every documented field is known


def test_no_documented_field_is_answered_unknown(cast, bob):
    # One test, not one per field: each would pay for the cast's setup.
    unknown = {}
    for field, value in DOCUMENTED.items():
        body = {"prompt": "A heron", field: value}
        for answer in (bob.create(**body), multipart(bob, body)):
            if answer.status_code != 200 and "Unknown field" in error_of(answer, 400):
                unknown[field] = answer.json()["error"]
    assert unknown == {}


def test_all_documented_fields_at_once_are_known_and_judged_by_the_model(cast, bob):
    message = error_of(bob.create(**DOCUMENTED), 400)
    assert "Unknown field" not in message
    assert "options is not taken by Seedance-2.0" in message


def test_a_field_sent_empty_or_null_counts_as_not_sent(cast, bob):
    empty = {
        "aspectRatio": "",
        "resolution": None,
        "duration": None,
        "fileID2": "",
        "videoFileID1": None,
    }
    assert bob.create(prompt="Plain", model="02", options="768p-6sec", **empty).status_code == 200
    video = Video.objects.get()
    assert (video.model, video.useapi_only, video.passthrough) == ("MiniMax-Hailuo-02", False, {})


def test_an_unknown_model_names_the_choices_once(cast, bob):
    message = error_of(bob.create(prompt="x", model="Veo-4"), 400)
    assert message.startswith("model 'Veo-4' is not one the studio or useapi.net runs")
    assert "Veo-3.1-S2V" in message and "Seedance-2.0-Mini" in message
    assert "model model" not in message.lower()


REFUSALS = [
    (
        {"model": "Veo-3.1", "resolution": "720"},
        "resolution is not taken by Veo-3.1; it applies to Seedance-2.0",
    ),
    (
        {"model": "02", "aspectRatio": "16:9"},
        "aspectRatio is not taken by 02; it applies to Sora-2",
    ),
    (
        {"model": "Sora-2", "fileID2": "user:1-minimax:auto-file:1"},
        "fileID2 is not taken by Sora-2; it applies to Veo-3.1-S2V",
    ),
    (
        {"model": "Veo-3.1", "fileID2": "user:1-minimax:auto-file:1"},
        "fileID2 is not taken by Veo-3.1; it applies to Veo-3.1-S2V",
    ),
    ({"aspectRatio": "16:9"}, "aspectRatio is not taken by the default model"),
    (
        {"model": "Seedance-2.0", "videoFileID1": "user:1-minimax:auto-file:1"},
        "videoFileID1: the studio stores image uploads only",
    ),
    (
        {"model": "Seedance-2.0", "audioFileID3": "user:1-minimax:auto-file:1"},
        "audioFileID3: the studio stores image uploads only",
    ),
    (
        {"model": "Seedance-2.0-Fast", "resolution": "1080"},
        "resolution '1080' is not one Seedance-2.0-Fast takes: 480, 720",
    ),
    (
        {"model": "Seedance-2.0", "duration": 16},
        "duration 16: Seedance-2.0 makes videos of 4 to 15 seconds",
    ),
    ({"model": "Seedance-2.0", "duration": "four"}, "duration must be a whole number"),
    (
        {"model": "Sora-2", "aspectRatio": "1:1"},
        "aspectRatio '1:1' is not one Sora-2 takes: 16:9, 9:16",
    ),
    (
        {"model": "Veo-3.1", "options": "1080p-6sec"},
        "options '1080p-6sec' is not one Veo-3.1 takes: veo-720p-8sec",
    ),
    ({"model": "Seedance-2.0", "fileID3": "user:1-minimax:auto-file:1"}, "fileID2 is missing"),
]


def test_a_field_the_model_does_not_take_is_refused_naming_it(cast, bob):
    for body, message in REFUSALS:
        assert message in error_of(bob.create(prompt="A heron", **body), 400), body
    assert not Video.objects.exists()


# Models only useapi.net runs


def test_a_useapi_only_model_in_a_team_without_a_useapi_account_is_refused(cast, bob):
    message = error_of(bob.create(prompt="A heron", model="Veo-3.1"), 400)
    assert "model Veo-3.1" in message and "useapi.net account" in message
    assert not Video.objects.exists()


def test_a_disabled_useapi_account_does_not_count(cast, bob, useapi):
    ProviderAccount.objects.filter(pk=useapi.pk).update(enabled=False)
    assert "useapi.net account" in error_of(bob.create(prompt="x", model="Sora-2"), 400)


def test_a_useapi_only_model_is_kept_with_its_fields_and_only_a_useapi_account_takes_it(
    cast, bob, local, useapi, emulator
):
    minimax = add_account(cast.acme, emulator, name="MiniMax")
    body = {"model": "Veo-3.1", "options": "VEO-1080P-8SEC", "aspectRatio": "9:16"}
    assert bob.create(prompt="A heron at dawn", **body).status_code == 200
    video = Video.objects.get()
    assert (video.model, video.useapi_only, video.status) == ("Veo-3.1", True, S.QUEUED)
    assert video.passthrough == {"options": "veo-1080p-8sec", "aspectRatio": "9:16"}
    assert (video.resolution, video.requested_duration) == ("", None)
    assert claims.claim(local.pk) == ([], False), "the local renderer never takes it"
    assert claims.claim(minimax.pk) == ([], True), "nor does a MiniMax account"
    video.refresh_from_db()
    assert video.status == S.QUEUED and video.attempt is None
    sent = []
    scheduler.videos_dispatch(send=lambda video_id, attempt: sent.append(video_id))
    video.refresh_from_db()
    assert sent == [video.pk] and video.attempt.account == useapi


def test_in_strict_mode_a_useapi_only_model_goes_upstream_to_a_useapi_account_only(
    cast, bob, local, useapi, emulator, conf
):
    conf.PUBLIC_URL = ""
    cast.acme.api_strict = True
    cast.acme.save()
    answer = bob.create(prompt="A heron, strictly", model="Veo-3.1", aspectRatio="16:9")
    assert answer.status_code == 200, answer.content
    video = Video.objects.get()
    assert video.attempt.account == useapi, "not the local renderer, though it has room"
    assert answer.json()["data"]["id"] == video.upstream_id
    sent = emulator.last_create("useapi")
    assert (sent["model"], sent["aspectRatio"], sent["account"]) == ("Veo-3.1", "16:9", "200001")


def test_in_strict_mode_a_useapi_only_model_without_a_useapi_account_is_refused(cast, bob):
    cast.acme.api_strict = True
    cast.acme.save()
    message = error_of(bob.create(prompt="A heron", model="Sora-2"), 400)
    assert "model Sora-2" in message and "useapi.net account" in message
    assert not Video.objects.exists()


def test_a_minimax_model_still_goes_to_any_account(cast, bob, local, useapi):
    bob.create(prompt="A heron", model="T2V-01")
    assert [video for video, _ in claims.claim(local.pk)[0]] == [Video.objects.get().pk]


def test_pinned_to_the_local_renderer_a_useapi_only_model_is_refused_naming_it(
    cast, bob, local, useapi
):
    answer = bob.create(prompt="A heron", model="Seedance-2.0", account=str(local.pk))
    message = error_of(answer, 400)
    assert f"account {local.pk} (Local renderer)" in message and "useapi.net" in message
    assert not Video.objects.exists()


@pytest.mark.parametrize(("kind", "status"), [("credits", 412), ("hold", 596)])
def test_pinned_to_an_account_paused_by_its_upstream_it_answers_useapis_code(
    cast, bob, useapi, kind, status
):
    ProviderAccount.objects.filter(pk=useapi.pk).update(
        paused_until=timezone.now() + timedelta(hours=1),
        pause_kind=kind,
        pause_reason="useapi.net said so",
    )
    answer = bob.create(prompt="A heron", model="Veo-3.1", account=str(useapi.pk))
    assert answer.json()["code"] == status
    message = error_of(answer, status)
    assert f"account {useapi.pk} (Useapi)" in message and "useapi.net said so" in message
    assert not Video.objects.exists()


def test_pinned_to_an_account_paused_by_a_rate_limit_it_waits_in_the_queue(cast, bob, useapi):
    ProviderAccount.objects.filter(pk=useapi.pk).update(
        paused_until=timezone.now() + timedelta(seconds=30), pause_kind="rate", pause_reason="429"
    )
    answer = bob.create(prompt="A heron", model="Veo-3.1", account="Useapi")
    assert answer.status_code == 200, answer.content
    video = Video.objects.get()
    assert (video.status, video.requested_account) == (S.QUEUED, useapi)


def test_pinned_to_a_disabled_account_is_refused_naming_it(cast, bob, useapi):
    ProviderAccount.objects.filter(pk=useapi.pk).update(enabled=False)
    message = error_of(bob.create(prompt="A heron", model="Veo-3.1", account="Useapi"), 400)
    assert f"account {useapi.pk} (Useapi) is disabled" in message


def test_pinned_to_an_unknown_account_is_a_404_naming_it(cast, bob, useapi):
    message = error_of(bob.create(prompt="A heron", model="Veo-3.1", account="Nobody"), 404)
    assert "'Nobody'" in message and "GET /v1/minimax/accounts/" in message
    other = ProviderAccount.objects.get(team=cast.other)
    assert f"'{other.pk}'" in error_of(bob.create(prompt="x", account=str(other.pk)), 404)


# Prompts


def test_seedance_takes_a_prompt_of_7500_characters_and_hailuo_02_of_2000(cast, bob, useapi):
    long = "A slow pan across the valley. " * 250  # 7,500 characters, 7,499 once trimmed
    assert bob.create(prompt=long[:7000], model="Seedance-2.0").status_code == 200
    assert len(Video.objects.get().prompt) == 7000
    message = error_of(bob.create(prompt="x" * 7501, model="Seedance-2.0-Fast"), 400)
    assert "7,501 characters; the limit is 7,500" in message
    message = error_of(bob.create(prompt="x" * 2500, model="02"), 400)
    assert "2,500 characters; the limit is 2,000" in message
    assert "the limit is 2,000" in error_of(bob.create(prompt="x" * 2001, model="Veo-3.1"), 400)


# S2V-01: the subject's face


def test_s2v_01_needs_a_face(cast, bob):
    message = error_of(bob.create(prompt="She turns", model="S2V-01"), 400)
    assert message.startswith("fileID is required with S2V-01")


def test_s2v_01s_file_is_the_subjects_face_not_a_first_frame(cast, bob):
    face = upload(bob)
    assert bob.create(prompt="She turns", model="S2V-01", fileID=face).status_code == 200
    video = Video.objects.get()
    assert video.subject_image.pk == pk_of(face)
    assert (video.image, video.last_image, video.model) == (None, None, "S2V-01")


def test_s2v_01_takes_no_end_frame(cast, bob):
    face, last = upload(bob), upload(bob, color=(10, 10, 10))
    answer = bob.create(prompt="She turns", model="S2V-01", fileID=face, end_frame_fileID=last)
    message = error_of(answer, 400)
    assert message.startswith("end_frame_fileID is not taken by S2V-01")


# Reference images


def test_reference_images_are_kept_in_field_order(cast, bob, useapi):
    first, second, third = (upload(bob, color=(n * 60, 0, 0)) for n in (1, 2, 3))
    body = {"model": "Seedance-2.0", "fileID": first, "fileID2": third, "fileID3": second}
    assert bob.create(prompt="A heron @Image1 @Image2", **body).status_code == 200
    video = Video.objects.get()
    assert video.image.pk == pk_of(first)
    assert video.passthrough == {"references": [pk_of(third), pk_of(second)]}


def test_a_reference_from_another_team_is_refused_naming_its_field(cast, bob, useapi):
    theirs = upload(api_for(cast.charlie, cast.other))
    body = {
        "model": "Veo-3.1-S2V",
        "fileID": upload(bob),
        "fileID2": upload(bob),
        "fileID3": theirs,
    }
    message = error_of(bob.create(prompt="A heron", **body), 400)
    assert message.startswith("fileID3: no such file in your team")
    assert not Video.objects.exists()


def test_a_reference_in_use_is_not_deleted(cast, bob, useapi):
    reference = upload(bob)
    bob.create(prompt="A heron", model="Seedance-2.0", fileID=upload(bob), fileID2=reference)
    assert "uses this image" in error_of(bob.delete(f"files/{reference}"), 400)
    assert PromptImage.objects.filter(pk=pk_of(reference)).exists()


def test_a_reference_deleted_before_the_send_fails_the_video_for_good(
    cast, bob, local, useapi, emulator, conf
):
    conf.PUBLIC_URL = ""
    ProviderAccount.objects.filter(pk=local.pk).update(enabled=False)
    refs = [upload(bob, color=(n, n, n)) for n in (1, 2, 3)]
    body = {"model": "Veo-3.1-S2V", "fileID": refs[0], "fileID2": refs[1], "fileID3": refs[2]}
    bob.create(prompt="A heron", **body)
    PromptImage.objects.filter(pk=pk_of(refs[2])).delete()
    (video,) = drive(Video.objects.get())
    assert video.status == S.FAILED
    assert "fileID3 was deleted before the video was sent" in video.error
    assert emulator.last_create("useapi") is None, "nothing was sent"


def test_reference_images_without_a_first_one_are_refused(cast, bob, useapi):
    body = {"model": "Seedance-2.0", "fileID2": upload(bob)}
    assert error_of(bob.create(prompt="A heron", **body), 400).startswith("fileID2 needs fileID")
    body = {"model": "Veo-3.1-S2V", "options": "veo-720p-8sec"}
    assert error_of(bob.create(prompt="A heron", **body), 400).startswith("fileID is required")


def test_a_seedance_form_body_keeps_its_fields_as_useapi_spells_them(cast, bob, useapi):
    fields = {"prompt": "Dunes", "model": "Seedance-2.0", "resolution": "1080p", "duration": "8"}
    answer = multipart(bob, {**fields, "aspectRatio": "auto"})
    assert answer.status_code == 200, answer.content
    assert Video.objects.get().passthrough == {
        "aspectRatio": "Auto",
        "resolution": "1080",
        "duration": 8,
    }


# End to end: a real worker, the useapi.net emulator


VEO = {"aspectRatio": "9:16", "options": "veo-1080p-8sec"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "fields", "frames"),
    [
        ("Veo-3.1-S2V", VEO, ("fileID", "fileID2", "fileID3")),
        ("Veo-3.1", VEO, ("fileID", "end_frame_fileID")),
        (
            "Seedance-2.0",
            {"aspectRatio": "21:9", "resolution": "1080", "duration": 8},
            ("fileID", "fileID2"),
        ),
    ],
)
def test_a_useapi_only_create_goes_to_the_useapi_account_with_its_fields(
    cast, emulator, worker_factory, model, fields, frames
):
    emulator.configure(preparing_s=0.1, queueing_s=0.2, processing_s=0.6, rpm=1000)
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    add_account(cast.acme, emulator, name="MiniMax")
    useapi = add_account(cast.acme, emulator, "useapi", name="Useapi", upstream_account="200001")
    bob = api_for(cast.bob, cast.acme)
    images = {field: upload(bob, color=(40 * n, 90, 200)) for n, field in enumerate(frames)}
    body = {"model": model, **fields, **images}
    answer = bob.create(prompt=f"A heron over the marsh, {model}", **body)
    assert answer.status_code == 200, answer.content
    video = Video.objects.get()
    worker_factory(**FAST)
    wait_for(
        lambda: Video.objects.filter(pk=video.pk, status__in=Video.FINAL).exists(),
        timeout=120,
        what="the video to finish",
    )
    video.refresh_from_db()
    assert video.status == S.COMPLETED, (video.status, video.error)
    assert video.attempt.account == useapi and video.attempts.count() == 1
    sent = emulator.last_create("useapi")
    assert emulator.create_bodies("minimax") == [], "no MiniMax account saw it"
    assert {name: sent.get(name) for name in ("model", *fields)} == {"model": model, **fields}
    assert (sent["account"], sent["prompt"]) == ("200001", video.prompt)
    assert set(frames) <= set(sent), sent
    assert all(
        sent[field].startswith("user:") and "-minimax:200001-file:" in sent[field]
        for field in frames
    )
    assert len({sent[field] for field in frames}) == len(frames), "each image uploaded once"
    assert "references" not in sent


# A useapi.net-only video whose last useapi.net account goes


@pytest.mark.parametrize("how", ["disabled by an admin", "deleted", "rejected by its upstream"])
def test_queued_useapi_only_videos_fail_when_the_last_useapi_account_goes(cast, bob, useapi, how):
    assert bob.create(prompt="A heron", model="Sora-2").status_code == 200
    assert bob.create(prompt="A kite").status_code == 200  # any account's: not touched
    if how == "disabled by an admin":
        services.account_update(account=useapi, enabled=False)
    elif how == "deleted":
        services.account_delete(account=useapi)
    else:
        scheduler.account_disable(account=useapi, reason="useapi.net refused the token")
    sora, kite = Video.objects.order_by("pk")
    assert sora.status == S.FAILED and "No useapi.net account is enabled" in sora.error
    assert sora.finished_at is not None
    assert kite.status == S.QUEUED
    answer = bob.get(f"videos/{records.video_id(sora)}").json()
    assert answer["statusFinal"] is True and answer["status"] == 3


def test_another_enabled_useapi_account_keeps_them_queued(cast, bob, useapi, emulator):
    add_account(cast.acme, emulator, "useapi", name="Spare", upstream_account="200002")
    assert bob.create(prompt="A heron", model="Sora-2").status_code == 200
    services.account_update(account=useapi, enabled=False)
    assert Video.objects.get().status == S.QUEUED


# What scheduler/available lists for a model, and what the model's name says of fileID


def test_available_for_a_useapi_only_model_lists_only_useapi_accounts(cast, bob, local, useapi):
    listed = bob.get("scheduler/available").json()["available"]
    assert {a["account"] for a in listed} == {str(local.pk), str(useapi.pk)}
    listed = bob.get("scheduler/available", model="Veo-3.1").json()["available"]
    assert [a["account"] for a in listed] == [str(useapi.pk)]
    listed = bob.get("scheduler/available", model="02").json()["available"]
    assert {a["account"] for a in listed} == {str(local.pk), str(useapi.pk)}
    message = error_of(bob.get("scheduler/available", model="Veo-9"), 400)
    assert message.startswith("model 'Veo-9' is not one")


@pytest.mark.parametrize("model", ["I2V-2.3", "I2V-2.3-Fast", "I2V-01", "I2V-01-live"])
def test_an_image_to_video_name_needs_its_first_frame(cast, bob, model):
    assert error_of(bob.create(prompt="A heron", model=model), 400).startswith(
        f"fileID is required with {model}"
    )


@pytest.mark.parametrize("model", ["T2V-2.3", "T2V-01", "T2V-01-Director"])
def test_a_text_to_video_name_takes_no_first_frame(cast, bob, model):
    message = error_of(bob.create(prompt="A heron", model=model, fileID=upload(bob)), 400)
    assert message.startswith(f"fileID is not taken by {model}")
    assert model.replace("T2V", "I2V") in message


def test_the_same_image_twice_is_refused(cast, bob, useapi):
    image = upload(bob)
    body = {"model": "Seedance-2.0", "fileID": image, "fileID2": upload(bob, (1, 2, 3))}
    assert bob.create(prompt="A heron", **body, fileID3=image).status_code == 400
    assert "given twice" in error_of(bob.create(prompt="A heron", **body, fileID3=image), 400)
    assert not Video.objects.exists()
