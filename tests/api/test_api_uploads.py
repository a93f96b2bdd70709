"""POST files/: a raw body is judged by its bytes, whatever its Content-Type says (useapi.net
tells its users to send WebP as image/jpeg; curl --data-binary says form-urlencoded), and the
answer says what it really is. ?account= puts the account in the fileID, and ids, once given,
never change: not when their account is deleted, nor their author."""

import io
import os

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from studio.api import links
from tests.api.test_api import error_of
from tests.factories import image_bytes
from videos.models import PromptImage, ProviderAccount


@pytest.fixture
def spare(cast):
    """A second account of Acme's, with nothing running on it, so an admin may delete it."""
    return ProviderAccount.objects.create(team=cast.acme, name="Spare", kind="minimax")


def noise_png(side: int = 1100) -> bytes:
    """A PNG that does not compress: over Django's 2.5 MB in-memory limit for a form body."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


# Raw bodies, typed by their bytes


def test_webp_bytes_sent_as_image_jpeg_are_taken_and_reported_as_webp(cast, bob):
    response = bob.post("files/", image_bytes(800, 600, "WEBP"), content_type="image/jpeg")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["file_type"], body["file_name"]) == ("webp", "upload.webp")
    assert PromptImage.objects.get().format == "WEBP"


@pytest.mark.parametrize(
    "content_type",
    ["application/octet-stream", "application/x-www-form-urlencoded", "text/plain", ""],
)
def test_a_raw_body_of_any_content_type_is_taken_for_its_bytes(cast, bob, content_type):
    response = bob.post("files/", image_bytes(800, 600, "JPEG"), content_type=content_type)
    assert response.status_code == 200, response.content
    assert response.json()["file_type"] == "jpeg"


def test_a_large_form_urlencoded_body_is_never_parsed_as_a_form(cast, bob):
    """curl --data-binary @shot.png: Django would refuse a 2.5 MB form, or split it at '&'."""
    content = noise_png()
    assert len(content) > 2_621_440
    response = bob.post("files/", content, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    assert response.json()["file_type"] == "png"


@pytest.mark.parametrize(
    ("content", "content_type", "seen"),
    [
        (b"GIF89a\x01\x00\x01\x00", "image/png", "it starts with the bytes 47 49 46 38"),
        (b"\x00\x01\x02\xfe", "application/octet-stream", "it starts with the bytes 00 01 02 fe"),
        (b"name=shot.png", "application/x-www-form-urlencoded", '"name=sho"'),
        (b"", "image/jpeg", "it is empty"),
    ],
)
def test_a_body_that_is_no_allowed_image_is_refused_without_talk_of_file_names(
    cast, bob, content, content_type, seen
):
    message = error_of(bob.post("files/", content, content_type=content_type), 400)
    assert message.startswith("The body is not a PNG, JPEG or WebP image") and seen in message
    assert not any(word in message.lower() for word in ("file name", "filename", "extension"))
    assert not PromptImage.objects.exists()


def test_a_multipart_upload_still_checks_its_name_against_its_bytes(cast, bob):
    from tests.factories import upload

    part = upload("shot.png", image_bytes(800, 600, "JPEG"), "image/png")
    response = bob.client.post("/v1/minimax/files/", {"file": part})
    assert "contains JPEG data" in error_of(response, 400)


# ?account=


def test_an_upload_for_an_account_names_it_in_the_file_id(cast, bob, spare):
    response = bob.post(
        f"files/?account={spare.pk}", image_bytes(), content_type="application/octet-stream"
    )
    assert response.status_code == 200, response.content
    image = PromptImage.objects.get()
    assert response.json()["fileID"] == f"user:{cast.bob.pk}-minimax:{spare.pk}-file:{image.pk}"
    by_name = bob.post("files/?account=Spare", image_bytes(), content_type="image/png").json()
    assert by_name["fileID"].startswith(f"user:{cast.bob.pk}-minimax:{spare.pk}-file:")
    created = bob.create(prompt="From the spare", fileID=response.json()["fileID"])
    assert created.status_code == 200, "the fileID works in a create"


def test_an_upload_without_an_account_says_auto(cast, bob):
    file_id = bob.post("files/", image_bytes(), content_type="image/png").json()["fileID"]
    assert file_id.startswith(f"user:{cast.bob.pk}-minimax:auto-file:")


@pytest.mark.parametrize("ref", ["999999", "Nobody"])
def test_an_upload_for_an_unknown_account_is_a_404_naming_it(cast, bob, ref):
    message = error_of(
        bob.post(f"files/?account={ref}", image_bytes(), content_type="image/png"), 404
    )
    assert message.startswith(f"account {ref} is not one of Acme's accounts")
    assert not PromptImage.objects.exists()


def test_an_upload_for_another_teams_account_is_a_404(cast, bob):
    theirs = ProviderAccount.objects.get(team=cast.other)
    response = bob.post(f"files/?account={theirs.pk}", image_bytes(), content_type="image/png")
    assert f"account {theirs.pk} is not one of Acme's" in error_of(response, 404)


def test_an_upload_refuses_query_parameters_it_does_not_take(cast, bob):
    response = bob.post("files/?acount=1", image_bytes(), content_type="image/png")
    assert "acount" in error_of(response, 400)


# Ids never change


def test_ids_stay_the_same_after_their_account_and_their_author_are_deleted(
    cast, bob, alice, spare
):
    file_id = bob.post(f"files/?account={spare.pk}", image_bytes(), content_type="image/png")
    file_id = file_id.json()["fileID"]
    video_id = bob.create(prompt="Pinned", account=str(spare.pk)).json()["videoId"]
    assert video_id.startswith(f"user:{cast.bob.pk}-minimax:{spare.pk}-video:")

    def seen() -> tuple:
        return (
            alice.get(f"videos/{video_id}").json()["videoId"],
            [v["videoId"] for v in alice.get("videos/").json()["videos"]],
            [f["fileID"] for f in alice.get("files/").json()["files"]],
        )

    assert seen() == (video_id, [video_id], [file_id])
    assert alice.delete(f"accounts/{spare.pk}").status_code == 200
    assert not ProviderAccount.objects.filter(pk=spare.pk).exists()
    assert seen() == (video_id, [video_id], [file_id])
    get_user_model().objects.filter(pk=cast.bob.pk).delete()
    assert seen() == (video_id, [video_id], [file_id])


def test_a_row_from_before_ids_were_kept_gets_the_id_it_always_had(cast):
    from tests.factories import make_video

    video = make_video(cast.acme, cast.bob)
    assert video.id_prefix == ""
    assert links.video_id(video) == f"user:{cast.bob.pk}-minimax:auto-video:{video.pk}"
