"""The composer's character (face) reference: MiniMax's subject reference, model S2V-01."""

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import image_bytes, upload
from videos.models import PromptImage, Video

HTMX = {"HTTP_HX_REQUEST": "true"}


def _files(media_root):
    return [p for p in media_root.rglob("*") if p.is_file()]


def _face():
    return upload("face.jpg", image_bytes(600, 800, "JPEG"), "image/jpeg")


def _assert_nothing_stored(media_root):
    assert Video.objects.count() == 0 and PromptImage.objects.count() == 0
    assert _files(media_root) == []


def test_the_composer_offers_a_face_reference_with_the_images(cast):
    body = client_for(cast.bob).get(reverse("gallery")).content.decode()
    assert "Character (face) reference" in body
    assert "A clear photo of one face; the video's character takes it." in body
    assert 'name="subject_image"' in body and 'accept="image/jpeg,image/png,image/webp"' in body
    assert body.index('name="image"') < body.index('name="subject_image"')


def test_a_member_submits_a_prompt_with_a_face_and_it_is_queued_for_s2v_01(cast, media_root):
    client = client_for(cast.bob)
    response = client.post(
        reverse("video_create"),
        {"prompt": "She turns and smiles", "subject_image": _face()},
        **HTMX,
    )
    assert response.status_code == 200
    video = Video.objects.get()
    assert (video.status, video.model, video.image, video.last_image) == (
        Video.Status.QUEUED,
        "S2V-01",
        None,
        None,
    )
    face = video.subject_image
    assert (face.team, face.format, face.width, face.height, face.original_name) == (
        cast.acme,
        "JPEG",
        600,
        800,
        "face.jpg",
    )
    assert len(_files(media_root)) == 1
    assert "Face reference" in response.content.decode(), "the new card says so"
    assert "Face reference" in client.get(reverse("gallery")).content.decode()


def test_a_face_without_javascript_redirects_to_the_gallery(cast, media_root):
    response = client_for(cast.bob).post(
        reverse("video_create"),
        {"prompt": "A wink", "subject_image": _face(), "model": "S2V-01"},
    )
    assert response.status_code == 302 and response.url == reverse("gallery")
    assert Video.objects.get().subject_image.original_name == "face.jpg"


def test_a_face_with_a_first_frame_is_refused_on_the_face_and_nothing_is_stored(cast, media_root):
    data = {"prompt": "x", "subject_image": _face(), "image": upload("frame.png", image_bytes())}
    client = client_for(cast.bob)
    response = client.post(reverse("video_create"), data, **HTMX)
    assert response["HX-Retarget"] == "#new-video"
    assert 'id="id_subject_image_error"' in response.content.decode()
    _assert_nothing_stored(media_root)
    for value in data.values():
        if hasattr(value, "seek"):
            value.seek(0)
    plain = client.post(reverse("video_create"), data)
    assert plain.status_code == 400
    errors = plain.context["form"].errors
    assert (
        list(errors) == ["subject_image"] and "no first or last frame" in errors["subject_image"][0]
    )
    _assert_nothing_stored(media_root)


def test_a_face_with_another_model_says_it_needs_s2v_01(cast, media_root):
    data = {"prompt": "x", "subject_image": _face(), "model": "MiniMax-Hailuo-2.3"}
    response = client_for(cast.bob).post(reverse("video_create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["model"] and "needs S2V-01" in errors["model"][0]
    assert "needs S2V-01" in response.content.decode(), "shown on the page"
    _assert_nothing_stored(media_root)


OPTION_REFUSALS = {
    "s2v-01 without a face": ({"model": "S2V-01"}, "model", "needs a character (face)"),
    "a resolution s2v-01 lacks": (
        {"subject_image": _face, "resolution": "1080P"},
        "resolution",
        "S2V-01 does not make 1080P videos",
    ),
}


@pytest.mark.parametrize("case", OPTION_REFUSALS, ids=list(OPTION_REFUSALS))
def test_an_option_s2v_01_refuses_is_shown_next_to_that_option(cast, media_root, case):
    choice, field, phrase = OPTION_REFUSALS[case]
    data = {"prompt": "x", **{k: v() if callable(v) else v for k, v in choice.items()}}
    response = client_for(cast.bob).post(reverse("video_create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field] and phrase in errors[field][0]
    _assert_nothing_stored(media_root)


BAD_FACES = {
    "not an image": (upload("face.png", b"just some text", "image/png"), "JPG, PNG or WebP"),
    "too small": (upload("face.png", image_bytes(299, 400)), "at least 300 px"),
    "too narrow": (upload("face.png", image_bytes(300, 800)), "aspect"),
}


@pytest.mark.parametrize("case", BAD_FACES, ids=list(BAD_FACES))
def test_a_face_that_is_not_a_usable_image_is_refused_by_name(cast, media_root, case):
    face, phrase = BAD_FACES[case]
    face.seek(0)
    client = client_for(cast.bob)
    response = client.post(reverse("video_create"), {"prompt": "x", "subject_image": face})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["subject_image"]
    message = errors["subject_image"][0]
    assert message.startswith("Character (face) reference: ") and phrase in message
    assert "Character (face) reference: " in response.content.decode(), "shown on the page"
    _assert_nothing_stored(media_root)


def test_an_outsider_cannot_see_the_teams_faces(cast, media_root):
    client_for(cast.bob).post(
        reverse("video_create"), {"prompt": "A wink", "subject_image": _face()}, **HTMX
    )
    face = Video.objects.get().subject_image
    url = reverse("image_file", args=[face.pk])
    assert client_for(cast.charlie).get(url).status_code == 404
    assert "Face reference" not in client_for(cast.charlie).get(reverse("gallery")).content.decode()
    assert client_for(cast.alice).get(url).status_code == 200, "the team sees it"
