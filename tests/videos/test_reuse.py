"""Reuse, retry and continue: a new video from an old one's inputs."""

import io
import re

import av
import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from tests.conftest import client_for
from tests.factories import image_bytes, make_video
from videos.models import PromptImage, Video, VideoPart
from videos.providers.base import Job
from videos.providers.local import LocalRenderer

S = Video.Status


def _image(team, user, *, width=640, height=480, color=(200, 80, 40)) -> PromptImage:
    image = PromptImage(
        team=team,
        uploader=user,
        width=width,
        height=height,
        format="PNG",
        bytes=100,
        original_name="frame.png",
    )
    image.file.save("frame.png", ContentFile(image_bytes(width, height, color=color)), save=False)
    image.save()
    return image


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A real MP4 from the local renderer (512P, 6 s): its bytes and size."""
    workdir = tmp_path_factory.mktemp("clip")
    job = Job(video_id=1, prompt="A lighthouse at dusk", resolution="512P", duration=6)
    result = LocalRenderer().render(job, workdir=workdir, on_progress=lambda *_: None)
    return result.video_path.read_bytes(), (result.width, result.height)


def _last_decoded_frame(data: bytes) -> Image.Image:
    with av.open(io.BytesIO(data)) as container:
        *_, last = container.decode(video=0)
        return last.to_image()


# Reuse


def test_reuse_fills_the_composer_with_everything_images_included(cast):
    first, last = _image(cast.acme, cast.bob), _image(cast.acme, cast.bob, color=(0, 90, 200))
    video = make_video(
        cast.acme,
        cast.bob,
        status=S.COMPLETED,
        prompt="Waves at dusk [Pan left]",
        prompt_optimization=False,
        model="MiniMax-Hailuo-02",
        resolution="768P",
        requested_duration=10,
        image=first,
        last_image=last,
    )

    response = client_for(cast.alice).get(reverse("video_reuse", args=[video.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Waves at dusk [Pan left]</textarea>" in html
    assert f'name="image_stored" value="{first.pk}"' in html
    assert f'name="last_image_stored" value="{last.pk}"' in html
    assert reverse("image_file", args=[first.pk]) in html
    assert '<option value="MiniMax-Hailuo-02" selected>' in html
    assert '<option value="10" selected>' in html
    assert 'name="prompt_optimization" checked' not in html


def test_reuse_by_htmx_answers_just_the_composer(cast):
    video = make_video(cast.acme, cast.bob, prompt="A quiet harbour")

    response = client_for(cast.bob).get(
        reverse("video_reuse", args=[video.pk]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<form id="new-video"')
    assert "A quiet harbour" in html and "gallery-grid" in html  # its own hx-target only
    assert "<html" not in html


def test_submitting_a_reused_composer_keeps_the_stored_images(cast):
    first, last = _image(cast.acme, cast.bob), _image(cast.acme, cast.bob, color=(1, 2, 3))
    before = PromptImage.objects.count()

    response = client_for(cast.bob).post(
        reverse("video_create"),
        {
            "prompt": "The same shot again",
            "image_stored": str(first.pk),
            "last_image_stored": str(last.pk),
            "model": "MiniMax-Hailuo-02",
        },
    )

    assert response.status_code == 302, re.findall(
        r"role=.alert.>([^<]*)", response.content.decode()
    )
    video = Video.objects.latest("pk")
    assert (video.image_id, video.last_image_id) == (first.pk, last.pk)
    assert video.source_id is None
    assert PromptImage.objects.count() == before, "nothing uploaded again"


@pytest.mark.parametrize("bad", ["another team's", "deleted", "abc"])
def test_a_stored_image_that_is_not_the_teams_is_refused_by_name(cast, bad):
    image = _image(cast.other, cast.charlie)
    value = {"another team's": str(image.pk), "deleted": "999999", "abc": "abc"}[bad]

    response = client_for(cast.bob).post(
        reverse("video_create"), {"prompt": "A fox", "image_stored": value}
    )

    assert response.status_code == 400
    assert "The first frame you reused is no longer one of the team&#x27;s images" in (
        response.content.decode()
    )
    assert not Video.objects.filter(team=cast.acme).exists()


def test_a_source_of_another_team_is_refused(cast):
    theirs = make_video(cast.other, cast.charlie)

    response = client_for(cast.bob).post(
        reverse("video_create"), {"prompt": "A fox", "source": str(theirs.pk)}
    )

    assert response.status_code == 400
    assert "The video this one continues is no longer in the team" in response.content.decode()


# Retry


@pytest.mark.parametrize("status", [S.FAILED, S.MODERATED, S.CANCELLED])
def test_retry_submits_the_inputs_again_as_a_new_video(cast, status):
    first = _image(cast.acme, cast.bob)
    old = make_video(
        cast.acme,
        cast.bob,
        status=status,
        prompt="A storm",
        model="MiniMax-Hailuo-02",
        resolution="512P",
        requested_duration=6,
        image=first,
        error="Upstream said no",
    )

    response = client_for(cast.alice).post(reverse("video_retry", args=[old.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("gallery")
    new = Video.objects.latest("pk")
    assert new.pk != old.pk and new.source_id == old.pk
    assert new.status == S.QUEUED and new.author == cast.alice
    assert (new.prompt, new.model, new.resolution, new.requested_duration, new.image_id) == (
        "A storm",
        "MiniMax-Hailuo-02",
        "512P",
        6,
        first.pk,
    )


def test_retry_by_htmx_answers_the_new_card(cast):
    old = make_video(cast.acme, cast.bob, status=S.FAILED)

    response = client_for(cast.bob).post(
        reverse("video_retry", args=[old.pk]), headers={"HX-Request": "true"}
    )

    new = Video.objects.latest("pk")
    assert f'id="video-{new.pk}"' in response.content.decode()
    assert "card-new" in response.content.decode()


def _failed_join(cast, parts) -> Video:
    join = make_video(cast.acme, cast.bob, status=S.FAILED, kind=Video.Kind.JOIN, prompt="Joined")
    for n, part in enumerate(parts, 1):
        VideoPart.objects.create(video=join, part=part, position=n, prompt=part.prompt)
    return join


def test_retrying_a_failed_join_joins_the_same_clips_again(cast):
    clips = [
        make_video(cast.acme, cast.bob, status=S.COMPLETED, prompt=f"clip {n}") for n in (1, 2)
    ]
    for clip in clips:
        clip.file.name = default_storage.save("videos/c.mp4", ContentFile(b"mp4"))
        clip.save(update_fields=["file"])
    old = _failed_join(cast, clips[::-1])

    client_for(cast.bob).post(reverse("video_retry", args=[old.pk]))

    new = Video.objects.latest("pk")
    assert (new.kind, new.status, new.source) == (Video.Kind.JOIN, S.PROCESSING, old)
    assert [p.part for p in new.parts.order_by("position")] == clips[::-1]


def test_a_join_whose_clip_was_deleted_cannot_be_retried(cast):
    clip = make_video(cast.acme, cast.bob, status=S.COMPLETED)
    old = _failed_join(cast, [clip])
    VideoPart.objects.filter(video=old).update(part=None)

    response = client_for(cast.bob).post(reverse("video_retry", args=[old.pk]))

    [message] = list(get_messages(response.wsgi_request))
    assert "A clip of this join has been deleted" in str(message)
    assert Video.objects.count() == 2


def test_reuse_without_javascript_shows_the_whole_gallery_toolbar(cast):
    video = make_video(cast.acme, cast.bob, status=S.COMPLETED, model="MiniMax-Hailuo-02")
    html = client_for(cast.bob).get(reverse("video_reuse", args=[video.pk])).text
    toolbar = html[html.index('name="author"') :]
    assert '<option value="alice"' in toolbar and '<option value="MiniMax-Hailuo-02"' in toolbar


@pytest.mark.parametrize("status", [S.COMPLETED, S.PROCESSING, S.QUEUED])
def test_retry_refuses_a_video_that_did_not_fail(cast, status):
    video = make_video(cast.acme, cast.bob, status=status)

    response = client_for(cast.bob).post(reverse("video_retry", args=[video.pk]))

    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    assert "Only a failed, moderated or cancelled video can be retried" in str(message)
    assert Video.objects.count() == 1


def test_retry_of_another_teams_video_is_a_404(cast):
    video = make_video(cast.other, cast.charlie, status=S.FAILED)

    assert client_for(cast.bob).post(reverse("video_retry", args=[video.pk])).status_code == 404


# Continue


def test_continue_takes_the_last_frame_as_the_first_frame(cast, clip):
    data, (width, height) = clip
    video = make_video(
        cast.acme,
        cast.bob,
        status=S.COMPLETED,
        prompt="The keeper walks in",
        resolution="512P",
        requested_duration=6,
        width=width,
        height=height,
    )
    video.file.name = default_storage.save("videos/clip.mp4", ContentFile(data))
    video.save(update_fields=["file"])

    response = client_for(cast.alice).post(
        reverse("video_continue", args=[video.pk]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    frame = PromptImage.objects.latest("pk")
    assert (frame.team, frame.uploader, frame.width, frame.height) == (
        cast.acme,
        cast.alice,
        width,
        height,
    )
    assert f'name="image_stored" value="{frame.pk}"' in html
    assert f'name="source" value="{video.pk}"' in html
    assert "The keeper walks in</textarea>" in html
    # The stored image is the clip's very last frame (PNG: lossless).
    with frame.file.open("rb") as handle:
        stored = Image.open(handle).convert("RGB")
        expected = _last_decoded_frame(data).convert("RGB")
        assert stored.size == expected.size
        assert stored.tobytes() == expected.tobytes()

    # Submitting the filled composer makes the continuation, linked to its source.
    client_for(cast.alice).post(
        reverse("video_create"),
        {"prompt": "The keeper walks in", "image_stored": frame.pk, "source": video.pk},
    )
    made = Video.objects.latest("pk")
    assert (made.image_id, made.source_id) == (frame.pk, video.pk)


@pytest.mark.parametrize("problem", ["no file", "not a video", "running"])
def test_continue_without_a_decodable_file_says_so(cast, problem):
    video = make_video(cast.acme, cast.bob, status=S.COMPLETED)
    if problem == "not a video":
        video.file.name = default_storage.save("videos/broken.mp4", ContentFile(b"not an mp4"))
        video.save(update_fields=["file"])
    if problem == "running":
        Video.objects.filter(pk=video.pk).update(status=S.PROCESSING)

    response = client_for(cast.bob).post(reverse("video_continue", args=[video.pk]))

    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    expected = {
        "no file": "Only a finished video with its file can be continued",
        "running": "Only a finished video with its file can be continued",
        "not a video": "The video's last frame could not be decoded",
    }[problem]
    assert expected in str(message)
    assert not PromptImage.objects.exists()
