"""The studio on S3, for real: moto's S3 server on loopback over HTTP, the studio's own S3_*
settings. Uploads, a worker's results and posters, signed links (their type, name, ranges and
expiry), the zip, deletion and the Trash's purge."""

import io
import zipfile
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from studio.api import links as records
from tests.api.test_api import api_for
from tests.conftest import client_for, wait_for
from tests.factories import image_bytes
from tests.videos.test_bulk import finished_video, post
from tests.videos.test_trash import _trash
from videos import services, tasks
from videos.models import PromptImage, Video

S = Video.Status


def _follow(client, url: str, **headers) -> requests.Response:
    """The studio answers with a signed link to the object; a browser then fetches that."""
    answer = client.get(url)
    assert answer.status_code == 302, answer.status_code
    return requests.get(answer["Location"], headers=headers, timeout=10)


@pytest.mark.django_db
def test_an_uploaded_image_goes_to_the_bucket_and_is_served_by_a_signed_link(cast, s3):
    png = image_bytes(800, 600)
    upload = api_for(cast.bob, cast.acme).post("files/", png, content_type="image/png").json()
    image = PromptImage.objects.get(pk=records.parse_id(upload["fileID"], "file"))

    assert f"studio/{image.file.name}" in s3.objects()
    answer = client_for(cast.bob).get(reverse("image_file", args=[image.pk]))
    assert answer.status_code == 302
    link = answer["Location"]
    assert link.startswith(f"{s3.url}/{s3.bucket}/studio/") and "X-Amz-Signature=" in link
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200 and fetched.content[:8] == png[:8]
    assert fetched.headers["Content-Type"] == "image/png"
    outsider = client_for(cast.charlie).get(reverse("image_file", args=[image.pk]))
    assert outsider.status_code == 404, "the team check comes before any link"


@pytest.mark.django_db
def test_a_video_link_plays_ranges_and_downloads_under_its_name(cast, s3, tmp_path):
    video = finished_video(cast.acme, cast.bob, tmp_path, prompt="Waves on a pier")
    client = client_for(cast.bob)
    url = reverse("video_mp4", args=[video.pk])

    part = _follow(client, url, Range="bytes=0-99")
    assert part.status_code == 206 and len(part.content) == 100
    assert part.content[4:8] == b"ftyp"
    assert part.headers["Content-Range"] == f"bytes 0-99/{video.file_bytes}"
    assert part.headers["Content-Type"] == "video/mp4"

    whole = _follow(client, f"{url}?download=1")
    assert len(whole.content) == video.file_bytes
    assert "Waves on a pier" in whole.headers["Content-Disposition"]
    assert whole.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.django_db
def test_a_signed_link_is_signature_v4_and_lives_as_long_as_s3_url_expiry(
    cast, s3, tmp_path, monkeypatch
):
    """moto serves a link after it expires (it does not check X-Amz-Expires; S3, R2 and MinIO
    do), so what is checked is what the studio decides: the signature, its time and its life."""
    monkeypatch.setenv("S3_URL_EXPIRY", "90")
    s3.use_settings()
    video = finished_video(cast.acme, cast.bob, tmp_path)
    link = client_for(cast.bob).get(reverse("video_poster", args=[video.pk]))["Location"]
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Signature"]
    assert query["X-Amz-Expires"] == ["90"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60, "signed when asked"
    assert requests.get(link, timeout=10).status_code == 200


@pytest.mark.django_db
def test_the_zip_streams_the_videos_from_the_bucket(cast, s3, tmp_path):
    videos = [finished_video(cast.acme, cast.bob, tmp_path, prompt=f"Clip {n}") for n in range(2)]
    response = post(cast.alice, "zip", videos)
    assert response.status_code == 200 and response.streaming
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    sizes = sorted(info.file_size for info in archive.infolist() if info.filename.endswith(".mp4"))
    assert sizes == sorted(v.file_bytes for v in videos)


@pytest.mark.django_db
def test_the_trash_purge_deletes_the_objects_and_keeps_the_rest(
    cast, s3, tmp_path, conf, django_capture_on_commit_callbacks
):
    conf.TRASH_DAYS = 30
    old = _trash(cast, finished_video(cast.acme, cast.bob, tmp_path, prompt="old"), days_ago=31)
    kept = finished_video(cast.acme, cast.bob, tmp_path, prompt="kept")
    assert len(s3.objects()) == 4, "two videos, two posters"
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.trash_purge() == 1
    assert s3.objects() == sorted(f"studio/{name}" for name in (kept.file.name, kept.poster.name))
    assert not Video.objects.filter(pk=old.pk).exists()


@pytest.mark.slow
def test_a_worker_streams_its_result_and_poster_into_the_bucket(cast, s3, worker_factory):
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Rendered to S3")
    )
    worker_factory()  # its environment carries the S3_* settings
    wait_for(
        lambda: Video.objects.get(pk=video.pk).status in Video.FINAL, timeout=120, what="the video"
    )
    video.refresh_from_db()
    assert video.status == S.COMPLETED, video.error
    head = s3.client.head_object(Bucket=s3.bucket, Key=f"studio/{video.file.name}")
    assert head["ContentLength"] == video.file_bytes > 0
    assert f"studio/{video.poster.name}" in s3.objects()
    first = _follow(client_for(cast.bob), reverse("video_mp4", args=[video.pk]), Range="bytes=0-11")
    assert first.status_code == 206 and first.content[4:8] == b"ftyp"
