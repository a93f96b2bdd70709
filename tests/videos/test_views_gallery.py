import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from tests.conftest import client_for
from tests.factories import PASSWORD, image_bytes, make_video, upload
from videos import scheduler, services
from videos.models import PromptImage, Video

HTMX = {"HTTP_HX_REQUEST": "true"}


def _files(media_root):
    return [p for p in media_root.rglob("*") if p.is_file()]


def _completed(cast, **fields):
    video = make_video(cast.acme, cast.bob, **fields)
    scheduler.videos_dispatch()
    video.refresh_from_db()
    scheduler.video_run(video_id=video.pk, attempt=video.attempt_id)
    video.refresh_from_db()
    return video


# Signing in


def test_it_sends_strangers_to_sign_in(db):
    response = Client().get(reverse("gallery"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_signs_in_with_a_password(cast):
    client = Client()
    response = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("gallery")
    assert client.get(reverse("gallery")).status_code == 200


def test_it_says_when_the_password_is_wrong(cast):
    response = Client().post(reverse("login"), {"username": "bob", "password": "nope"})
    assert b"Please enter a correct username and password" in response.content


def test_signing_out_takes_a_post(cast):
    client = client_for(cast.bob)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("gallery")).status_code == 302


def test_a_user_without_a_team_is_told_what_to_do(db):
    from tests.factories import make_user

    response = client_for(make_user("drifter")).get(reverse("gallery"))
    assert response.status_code == 403
    assert b"not in a team yet" in response.content


# The gallery


def test_the_gallery_shows_the_teams_videos_newest_first(cast):
    make_video(cast.acme, cast.alice, prompt="older shot")
    make_video(cast.acme, cast.bob, prompt="newer shot")
    make_video(cast.other, cast.charlie, prompt="charlie's secret")
    body = client_for(cast.bob).get(reverse("gallery")).content.decode()
    assert body.index("newer shot") < body.index("older shot")
    assert "charlie's secret" not in body


def test_an_outsider_never_sees_the_teams_videos(cast):
    make_video(cast.acme, cast.bob, prompt="acme only")
    body = client_for(cast.charlie).get(reverse("gallery")).content.decode()
    assert "acme only" not in body


def test_running_cards_poll_and_final_cards_do_not(cast):
    queued = make_video(cast.acme, cast.bob)
    done = make_video(cast.acme, cast.bob, status=Video.Status.COMPLETED, percent=100)
    client = client_for(cast.bob)
    running_card = client.get(reverse("video_card", args=[queued.pk]), **HTMX).content.decode()
    final_card = client.get(reverse("video_card", args=[done.pk]), **HTMX).content.decode()
    # Cards no longer poll on their own: the page's one poll (test_live.py) sends the ids of
    # those marked data-live.
    assert "data-live=" in running_card and "hx-trigger" not in running_card
    assert "card-new" not in running_card, "a polled card must not replay the entry animation"
    assert "data-live" not in final_card


def test_a_queued_card_shows_its_place_in_the_queue(cast):
    make_video(cast.acme, cast.alice)
    second = make_video(cast.acme, cast.bob)
    card = client_for(cast.bob).get(reverse("video_card", args=[second.pk])).content.decode()
    assert "#2 in queue" in card


def test_failed_and_moderated_cards_show_the_reason(cast):
    failed = make_video(cast.acme, cast.bob, status="failed", error="Upstream timed out twice")
    moderated = make_video(cast.acme, cast.bob, status="moderated", error="Sensitive content")
    client = client_for(cast.bob)
    assert (
        b"Upstream timed out twice" in client.get(reverse("video_card", args=[failed.pk])).content
    )
    body = client.get(reverse("video_card", args=[moderated.pk])).content
    assert b"Refused by moderation" in body and b"Sensitive content" in body


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_a_completed_card_plays_inline_and_offers_a_download(cast):
    video = _completed(cast)
    card = client_for(cast.bob).get(reverse("video_card", args=[video.pk])).content.decode()
    assert "data-play" in card and reverse("video_poster", args=[video.pk]) in card
    assert "<video" not in card, "the video loads only on play"
    assert f"{reverse('video_mp4', args=[video.pk])}?download=1" in card
    assert "Local renderer — no AI" in card


def test_the_gallery_pages_by_cursor(cast, conf):
    conf.GALLERY_PAGE_SIZE = 3
    videos = [make_video(cast.acme, cast.bob, prompt=f"shot {i}") for i in range(7)]
    client = client_for(cast.bob)
    first = client.get(reverse("gallery")).content.decode()
    assert "shot 6" in first and "shot 3" not in first
    assert f"?before={videos[4].pk}" in first
    second = client.get(reverse("gallery"), {"before": videos[4].pk}, **HTMX).content.decode()
    assert "<html" not in second, "an htmx page request gets only the cards"
    assert "shot 3" in second and "shot 1" in second and "shot 4" not in second
    last = client.get(reverse("gallery"), {"before": videos[1].pk}, **HTMX).content.decode()
    assert "shot 0" in last and "before=" not in last


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_an_outsider_gets_404_for_every_video_url(cast):
    video = _completed(cast, prompt="acme only")
    client = client_for(cast.charlie)
    for name in ["video_card", "video_mp4", "video_poster"]:
        assert client.get(reverse(name, args=[video.pk])).status_code == 404, name
    for name in ["video_cancel", "video_delete"]:
        assert client.post(reverse(name, args=[video.pk])).status_code == 404, name
    assert Video.objects.filter(pk=video.pk, status="completed").exists()


def test_an_outsider_cannot_see_an_uploaded_image(cast):
    video = services.video_submit(
        team=cast.acme,
        user=cast.bob,
        submission=services.Submission(prompt="x", image=_clean(image_bytes())),
    )
    url = reverse("image_file", args=[video.image_id])
    assert client_for(cast.charlie).get(url).status_code == 404
    response = client_for(cast.alice).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def _clean(data):
    from videos.images import clean_image

    return clean_image(io.BytesIO(data), name="frame.png")


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_the_video_file_supports_byte_ranges(cast):
    video = _completed(cast)
    client = client_for(cast.bob)
    url = reverse("video_mp4", args=[video.pk])
    whole = b"".join(client.get(url).streaming_content)
    assert len(whole) == video.file_bytes
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{video.file_bytes}"
    assert b"".join(part.streaming_content) == whole[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == whole[-10:]
    assert client.get(url, HTTP_RANGE=f"bytes={video.file_bytes + 5}-").status_code == 416


# A render beats its heartbeat from a thread with its own connection, which sees only
# committed rows: the test's data must be committed too.
@pytest.mark.django_db(transaction=True)
def test_download_sends_an_attachment(cast):
    video = _completed(cast)
    response = client_for(cast.bob).get(reverse("video_mp4", args=[video.pk]), {"download": 1})
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "video/mp4"


# Submitting


def test_submitting_through_htmx_returns_the_new_card_and_a_fresh_form(cast):
    response = client_for(cast.bob).post(
        reverse("video_create"),
        {"prompt": "A paper boat in the rain", "prompt_optimization": "on"},
        **HTMX,
    )
    body = response.content.decode()
    video = Video.objects.get()
    assert response.status_code == 200
    assert body.lstrip().startswith(
        f'<article class="card status-queued card-new" id="video-{video.pk}"'
    )
    assert 'hx-swap-oob="true"' in body and "A paper boat in the rain" in body
    assert "#1 in queue" in body
    assert video.prompt_optimization is True


def test_submitting_without_javascript_redirects_to_the_gallery(cast):
    client = client_for(cast.bob)
    response = client.post(reverse("video_create"), {"prompt": "A paper boat"})
    assert response.status_code == 302 and response.url == reverse("gallery")
    video = Video.objects.get()
    assert video.prompt_optimization is False, "an unticked checkbox is not sent"
    assert b"A paper boat" in client.get(reverse("gallery")).content


def test_submitting_with_an_image_stores_it(cast, media_root):
    response = client_for(cast.bob).post(
        reverse("video_create"),
        {
            "prompt": "Zoom in",
            "image": upload("cat.webp", image_bytes(800, 600, "WEBP"), "image/webp"),
        },
        **HTMX,
    )
    assert response.status_code == 200
    image = Video.objects.get().image
    assert (image.format, image.width, image.height, image.original_name) == (
        "WEBP",
        800,
        600,
        "cat.webp",
    )
    assert len(_files(media_root)) == 1


def test_submitting_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bob)
    assert client.post(reverse("video_create"), {"prompt": "x"}, **HTMX).status_code == 403
    page = client.get(reverse("gallery")).content.decode()
    token = page.split('"x-csrftoken": "')[1].split('"')[0]
    response = client.post(reverse("video_create"), {"prompt": "x"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200


def _tiny_bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip_named_png() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


BAD_INPUTS = {
    "empty prompt": ({"prompt": ""}, "prompt", "prompt is empty"),
    "whitespace prompt": ({"prompt": " \n\t "}, "prompt", "prompt is empty"),
    "prompt too long": ({"prompt": "x" * 2001}, "prompt", "limit is 2,000"),
    "not an image": (
        {"prompt": "x", "image": upload("notes.png", b"just some text", "image/png")},
        "image",
        "JPG, PNG or WebP",
    ),
    "archive named png": (
        {"prompt": "x", "image": upload("photo.png", _zip_named_png(), "image/png")},
        "image",
        "JPG, PNG or WebP",
    ),
    "lies about its type": (
        {"prompt": "x", "image": upload("photo.png", image_bytes(fmt="JPEG"), "image/png")},
        "image",
        "contains JPEG",
    ),
    "too small": (
        {"prompt": "x", "image": upload("small.png", image_bytes(299, 400))},
        "image",
        "300",
    ),
    "too wide": (
        {"prompt": "x", "image": upload("wide.png", image_bytes(1600, 600))},
        "image",
        "aspect",
    ),
    "decompression bomb": (
        {"prompt": "x", "image": upload("bomb.png", _tiny_bomb())},
        "image",
        "MP; the limit",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_stored(cast, media_root, case):
    data, field, phrase = BAD_INPUTS[case]
    client = client_for(cast.bob)
    response = client.post(reverse("video_create"), data, **HTMX)
    body = response.content.decode()
    assert response["HX-Retarget"] == "#new-video"
    assert f'id="id_{field}_error"' in body
    assert phrase.lower() in body.lower()
    assert Video.objects.count() == 0 and PromptImage.objects.count() == 0
    assert _files(media_root) == []
    # Without JavaScript the whole page comes back with the same message, as a 400.
    for value in data.values():
        if hasattr(value, "seek"):
            value.seek(0)
    plain = client.post(reverse("video_create"), data)
    assert plain.status_code == 400 and phrase.lower() in plain.content.decode().lower()


OPTION_REFUSALS = {
    "a model without text to video": ({"model": "I2V-01"}, "model", "does not do text to video"),
    "a resolution the model lacks": (
        {"model": "T2V-01", "resolution": "1080P"},
        "resolution",
        "does not make 1080P videos",
    ),
    "a length the model cannot make": (
        {"model": "MiniMax-Hailuo-02", "resolution": "1080P", "duration": "10"},
        "duration",
        "makes 6 s videos, not 10 s",
    ),
}


@pytest.mark.parametrize("case", OPTION_REFUSALS, ids=list(OPTION_REFUSALS))
def test_an_option_the_model_refuses_is_shown_next_to_that_option(cast, case):
    choice, field, phrase = OPTION_REFUSALS[case]
    response = client_for(cast.bob).post(reverse("video_create"), {"prompt": "x", **choice})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field] and phrase in errors[field][0]
    assert phrase in response.content.decode(), "shown on the page"
    assert not Video.objects.exists()


def test_a_last_frame_without_a_first_is_shown_next_to_the_first_frame(cast, media_root):
    data = {"prompt": "x", "last_image": upload("end.png", image_bytes())}
    response = client_for(cast.bob).post(reverse("video_create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["image"] and "needs a first frame too" in errors["image"][0]
    assert "needs a first frame too" in response.content.decode(), "shown on the page"


def test_an_image_over_20_mb_is_refused(cast, media_root, settings):
    big = upload("huge.png", image_bytes() + b"\0" * (20 * 1024 * 1024), "image/png")
    response = client_for(cast.bob).post(
        reverse("video_create"), {"prompt": "x", "image": big}, **HTMX
    )
    assert "20 MB" in response.content.decode()
    assert Video.objects.count() == 0 and _files(media_root) == []


# Cancel and delete


def test_a_member_can_cancel_their_own_queued_video(cast):
    video = make_video(cast.acme, cast.bob)
    response = client_for(cast.bob).post(reverse("video_cancel", args=[video.pk]), **HTMX)
    assert response.status_code == 200 and "status-cancelled" in response.content.decode()
    assert Video.objects.get().status == "cancelled"


def test_deleting_a_finished_video_removes_its_card(cast):
    # To the Trash (tests/videos/test_trash.py): the card gives way to a hidden placeholder.
    video = make_video(cast.acme, cast.bob, status="failed", error="x")
    response = client_for(cast.bob).post(reverse("video_delete", args=[video.pk]), **HTMX)
    assert response.status_code == 200 and 'class="card-trashed" hidden' in response.text
    assert Video.objects.get().deleted_at is not None


def test_polling_is_a_get_without_side_effects(cast):
    video = make_video(cast.acme, cast.bob)
    client = client_for(cast.bob)
    assert client.post(reverse("video_card", args=[video.pk])).status_code == 405
    before = Video.objects.values().get()
    client.get(reverse("video_card", args=[video.pk]), **HTMX)
    assert Video.objects.values().get() == before
