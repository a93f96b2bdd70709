"""The detail view: the full page, the dialog fragment over the gallery, and the API call."""

import json
import shlex
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from tests.api.test_api import api_for
from tests.conftest import client_for
from tests.factories import image_bytes, make_video
from videos.models import Attempt, PromptImage, ProviderAccount, Video, VideoPart

S = Video.Status


def _image(team, user, *, width=640, height=480) -> PromptImage:
    image = PromptImage(
        team=team,
        uploader=user,
        width=width,
        height=height,
        format="PNG",
        bytes=100,
        original_name="frame.png",
    )
    image.file.save("frame.png", ContentFile(image_bytes(width, height)), save=False)
    image.save()
    return image


def _api_call(html: str) -> dict:
    """The JSON body of the curl command the page shows."""
    start = html.index("curl -X POST")
    command = html[start : html.index("</textarea>", start)]
    import html as html_module

    words = shlex.split(html_module.unescape(command).replace("\\\n", " "))
    return json.loads(words[words.index("-d") + 1])


@pytest.fixture
def account(cast):
    return ProviderAccount.objects.create(team=cast.acme, name="Studio key 1", kind="minimax")


def test_the_page_shows_everything_about_a_finished_video(cast, account):
    first = _image(cast.acme, cast.bob)
    video = make_video(
        cast.acme,
        cast.bob,
        status=S.COMPLETED,
        model="MiniMax-Hailuo-02",
        resolution="512P",
        requested_duration=10,
        prompt_optimization=False,
        image=first,
        width=910,
        height=512,
        duration=10.0,
        file_bytes=3_400_000,
        file="videos/clip.mp4",
    )
    created = video.created_at
    Video.objects.filter(pk=video.pk).update(
        submitted_at=created + timedelta(seconds=12), finished_at=created + timedelta(seconds=140)
    )
    Attempt.objects.create(
        video=video, account=None, number=1, outcome="retried", error="Upstream said 1002: busy"
    )
    Attempt.objects.create(
        video=video,
        account=account,
        number=2,
        outcome="completed",
        created_at=created + timedelta(seconds=12),
        finished_at=created + timedelta(seconds=140),
    )

    response = client_for(cast.alice).get(reverse("video_detail", args=[video.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    for text in (
        "bob",
        "MiniMax-Hailuo-02",
        "512P",
        "10 s asked",
        "Off",
        "3.2\u00a0MB",
        "Studio key 1",
        "MiniMax API",
        "waited 12.0 s",
        "rendered in 2 min 08 s",
        "Upstream said 1002: busy",
        "Failed, retried",
        "First frame",
        "Back to gallery",
    ):
        assert text in html, text
    assert f"{reverse('video_mp4', args=[video.pk])}?download=1" in html
    assert "playsinline" in html
    assert _api_call(html) == {
        "prompt": video.prompt,
        "promptOptimization": False,
        "model": "MiniMax-Hailuo-02",
        "fileID": f"user:{cast.bob.pk}-minimax:auto-file:{first.pk}",
        "options": "512p-10sec",
    }


def test_the_api_call_names_a_face_reference_as_s2v(cast):
    face = _image(cast.acme, cast.bob)
    video = make_video(cast.acme, cast.bob, status=S.FAILED, model="S2V-01", subject_image=face)

    html = client_for(cast.bob).get(reverse("video_detail", args=[video.pk])).content.decode()

    body = _api_call(html)
    assert body["model"] == "S2V-01"
    assert body["fileID"].endswith(f"-file:{face.pk}")
    assert "Face reference" in html


def test_htmx_gets_only_the_dialog(cast):
    video = make_video(cast.acme, cast.bob)

    response = client_for(cast.bob).get(
        reverse("video_detail", args=[video.pk]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert 'id="video-detail"' in html
    assert "<html" not in html and "topbar" not in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_another_teams_video_is_a_404(cast):
    video = make_video(cast.other, cast.charlie)

    assert client_for(cast.bob).get(reverse("video_detail", args=[video.pk])).status_code == 404


def test_neighbours_follow_the_gallery_order_and_skip_the_trash(cast):
    older = make_video(cast.acme, cast.bob, prompt="older")
    make_video(cast.acme, cast.bob, prompt="trashed", deleted_at="2026-12-01T00:00Z")
    middle = make_video(cast.acme, cast.alice, prompt="middle")
    make_video(cast.other, cast.charlie, prompt="other team")
    newer = make_video(cast.acme, cast.bob, prompt="newer")

    html = client_for(cast.bob).get(reverse("video_detail", args=[middle.pk])).content.decode()

    assert f'href="{reverse("video_detail", args=[newer.pk])}" data-detail rel="prev"' in html
    assert f'href="{reverse("video_detail", args=[older.pk])}" data-detail rel="next"' in html


def test_a_retry_names_its_source_and_a_join_lists_its_parts(cast):
    failed = make_video(cast.acme, cast.bob, status=S.FAILED, prompt="a storm at sea")
    retry = make_video(cast.acme, cast.bob, source=failed)
    part = make_video(cast.acme, cast.bob, status=S.COMPLETED, prompt="first clip")
    joined = make_video(cast.acme, cast.bob, kind="join", prompt="", status=S.COMPLETED)
    VideoPart.objects.create(video=joined, part=part, position=0, prompt="first clip", duration=6)
    VideoPart.objects.create(video=joined, part=None, position=1, prompt="gone clip", duration=4)
    client = client_for(cast.bob)

    retry_html = client.get(reverse("video_detail", args=[retry.pk])).content.decode()
    joined_html = client.get(reverse("video_detail", args=[joined.pk])).content.decode()

    assert "Retry of" in retry_html and "a storm at sea" in retry_html
    assert joined_html.index("first clip") < joined_html.index("gone clip")
    assert "(deleted)" in joined_html
    assert reverse("video_detail", args=[part.pk]) in joined_html
    assert "curl -X POST" not in joined_html, "the API cannot join clips"


@pytest.mark.parametrize(
    "fields",
    [
        {"model": "MiniMax-Hailuo-02", "resolution": "768P", "requested_duration": 10},
        {"model": "", "resolution": "1080P", "requested_duration": 6},
        {"model": "S2V-01", "subject": True},
    ],
    ids=["hailuo-02 with both frames", "default model", "face reference"],
)
def test_the_api_call_on_the_page_recreates_the_video(cast, fields):
    fields = dict(fields)
    images = {}
    if fields.pop("subject", False):
        images["subject_image"] = _image(cast.acme, cast.bob)
    else:
        images["image"] = _image(cast.acme, cast.bob)
        if fields["model"] == "MiniMax-Hailuo-02":
            images["last_image"] = _image(cast.acme, cast.bob, width=700)
    video = make_video(
        cast.acme, cast.bob, status=S.FAILED, prompt_optimization=False, **fields, **images
    )
    html = client_for(cast.bob).get(reverse("video_detail", args=[video.pk])).content.decode()

    response = api_for(cast.bob, cast.acme).create(**_api_call(html))

    assert response.status_code == 200, response.content
    made = Video.objects.latest("pk")
    same = ("prompt", "prompt_optimization", "model", "resolution", "requested_duration")
    same += ("image_id", "last_image_id", "subject_image_id")
    assert made.pk != video.pk
    assert {f: getattr(made, f) for f in same} == {f: getattr(video, f) for f in same}
