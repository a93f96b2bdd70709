"""Bulk actions on selected videos: trash, collections, a streamed zip, joining clips."""

import html
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import av
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ
from PIL import Image

from tests.conftest import client_for
from tests.factories import make_video
from videos import joins, services, tasks
from videos.models import Collection, CollectionItem, Video, VideoPart

URL = "/videos/bulk"
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_clip(path: Path, *, size=(160, 90), seconds=1.0, fps=24, color=(200, 80, 40), sound=False):
    """A real H.264 MP4 (and AAC sound if asked), small enough to make in a few milliseconds."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        audio = container.add_stream("aac", rate=48000) if sound else None
        if audio is not None:
            audio.layout = "stereo"
        frames = round(seconds * fps)
        for i in range(frames):
            shade = tuple(min(255, c + i * 2) for c in color)
            frame = av.VideoFrame.from_image(Image.new("RGB", size, shade))
            frame.pts = i
            container.mux(stream.encode(frame.reformat(format="yuv420p")))
        container.mux(stream.encode())
        if audio is not None:
            samples, at = round(seconds * 48000), 0
            while at < samples:
                n = min(1024, samples - at)
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=n)
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.sample_rate, chunk.pts = 48000, at
                container.mux(audio.encode(chunk))
                at += n
            container.mux(audio.encode())
    return path


def finished_video(team, author, tmp_path, *, prompt="A fox in the snow", **clip) -> Video:
    """A completed video whose file is a real MP4 in storage."""
    path = make_clip(tmp_path / f"clip-{Video.objects.count()}.mp4", **clip)
    with path.open("rb") as fh:
        name = default_storage.save(f"videos/team-{team.pk}/{path.name}", fh)
    width, height = clip.get("size", (160, 90))
    poster = io.BytesIO()
    Image.new("RGB", (width, height), clip.get("color", (200, 80, 40))).save(poster, "JPEG")
    poster_name = default_storage.save(f"videos/team-{team.pk}/{path.stem}.jpg", poster)
    return make_video(
        team,
        author,
        prompt=prompt,
        status=Video.Status.COMPLETED,
        file=name,
        poster=poster_name,
        width=width,
        height=height,
        duration=clip.get("seconds", 1.0),
        file_bytes=path.stat().st_size,
        finished_at=timezone.now(),
    )


def post(user, action, videos, *, headers=None, **extra):
    data = {"action": action, "ids": [v.pk for v in videos], **extra}
    return client_for(user).post(URL, data, **(headers or {}))


def said(response) -> str:
    return html.unescape(response.content.decode())


def flashed(response) -> str:
    return str(next(iter(response.wsgi_request._messages)))


def decoded_seconds(data: bytes) -> tuple[float, int, int]:
    """Decodes every frame: (the last frame's end time, width, height)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        end = 0.0
        for frame in container.decode(stream):
            end = max(end, frame.time + float(1 / (stream.average_rate or 24)))
        return end, stream.codec_context.width, stream.codec_context.height


# Delete


def test_bulk_delete_trashes_what_the_member_may_and_reports_the_rest(cast, tmp_path):
    mine = [make_video(cast.acme, cast.bob, status="completed") for _ in range(2)]
    alices = make_video(cast.acme, cast.alice, status="completed")
    running = make_video(cast.acme, cast.bob, status="processing")
    response = post(cast.bob, "delete", [*mine, alices, running])
    assert response.status_code == 302
    message = flashed(response)
    assert message == (
        "2 moved to trash; 1 skipped: only the author or an admin can delete them; "
        "1 still running (cancel them first)."
    )
    trashed = set(Video.objects.exclude(deleted_at=None).values_list("pk", flat=True))
    assert trashed == {v.pk for v in mine}


def test_an_admin_bulk_deletes_anyones_videos(cast):
    videos = [make_video(cast.acme, cast.bob, status="failed") for _ in range(3)]
    post(cast.alice, "delete", videos)
    assert Video.objects.filter(deleted_at__isnull=False).count() == 3


def test_with_htmx_the_trashed_cards_leave_the_page_out_of_band(cast):
    mine = make_video(cast.acme, cast.bob, status="completed")
    alices = make_video(cast.acme, cast.alice, status="completed")
    response = post(cast.bob, "delete", [mine, alices], headers=HTMX)
    html = said(response)
    assert response.status_code == 200
    assert f'id="video-{mine.pk}" hx-swap-oob="delete"' in html
    assert f"video-{alices.pk}" not in html
    assert "1 moved to trash; 1 skipped" in html


def test_another_teams_videos_are_refused_and_nothing_changes(cast):
    mine = make_video(cast.acme, cast.bob, status="completed")
    theirs = make_video(cast.other, cast.charlie, status="completed")
    response = post(cast.bob, "delete", [mine, theirs], headers=HTMX)
    assert response.status_code == 400
    assert f"1 of the selected videos is not in Acme's gallery (#{theirs.pk})" in said(response)
    assert not Video.objects.exclude(deleted_at=None).exists()


def test_an_empty_selection_or_a_made_up_action_gets_a_clear_message(cast):
    client = client_for(cast.bob)
    response = client.post(URL, {"action": "delete"}, **HTMX)
    assert response.status_code == 400
    assert "Select at least one video first." in said(response)
    response = client.post(URL, {"action": "explode", "ids": ["1"]}, **HTMX)
    assert "Choose what to do: delete, add, remove, zip, join." in said(response)
    response = client.post(URL, {"action": "zip", "ids": ["x1"]}, **HTMX)
    assert "'x1' is not a video id." in said(response)
    response = client.post(URL, {"action": "zip", "ids": [str(i) for i in range(1, 502)]}, **HTMX)
    assert "Select at most 500 videos at a time (501 are selected)." in said(response)


def test_without_javascript_a_refusal_redirects_back_with_the_message(cast):
    response = client_for(cast.bob).post(
        URL, {"action": "join", "ids": ["999"]}, HTTP_REFERER="http://testserver/?q=fox"
    )
    assert response.status_code == 302 and response["Location"] == "http://testserver/?q=fox"
    assert "not in Acme's gallery" in flashed(response)


# Collections


def test_selected_videos_are_added_to_a_collection_and_removed_from_it(cast):
    videos = [make_video(cast.acme, cast.bob, status="completed") for _ in range(3)]
    launch = Collection.objects.create(team=cast.acme, name="Launch", created_by=cast.alice)
    CollectionItem.objects.create(collection=launch, video=videos[0])
    response = post(cast.bob, "add", videos, collection=launch.pk, headers=HTMX)
    assert "2 added to “Launch”; 1 were in it already." in said(response)
    assert launch.items.count() == 3
    response = post(cast.bob, "remove", videos[:2], collection=launch.pk, headers=HTMX)
    html = said(response)
    assert "2 removed from “Launch”." in html
    assert f'id="video-{videos[0].pk}" hx-swap-oob="delete"' in html
    assert list(launch.items.values_list("video_id", flat=True)) == [videos[2].pk]


def test_adding_needs_a_collection_of_the_team(cast):
    video = make_video(cast.acme, cast.bob, status="completed")
    theirs = Collection.objects.create(team=cast.other, name="Theirs")
    response = post(cast.bob, "add", [video], headers=HTMX)
    assert "Choose a collection first." in said(response)
    response = post(cast.bob, "add", [video], collection=theirs.pk, headers=HTMX)
    assert "That collection no longer exists; reload the page." in said(response)
    assert not theirs.items.exists()


# Zip


def test_the_zip_streams_playable_mp4s_and_lists_the_unfinished_in_a_readme(cast, tmp_path):
    videos = [finished_video(cast.acme, cast.bob, tmp_path, prompt="Same prompt") for _ in range(3)]
    failed = make_video(cast.acme, cast.bob, status="failed", prompt="Went wrong")
    response = post(cast.alice, "zip", [*videos, failed])
    assert response.status_code == 200 and response.streaming
    today = timezone.localdate()
    assert response["Content-Disposition"] == (
        f'attachment; filename="studio-acme-{today:%Y-%m-%d}-3-videos.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[-1] == "README.txt" and len(set(names)) == 4
    assert f"#{failed.pk} (failed): Went wrong" in archive.read("README.txt").decode()
    for name in names[:-1]:
        assert name.endswith(".mp4") and "Same prompt" in name
        seconds, width, _ = decoded_seconds(archive.read(name))
        assert width == 160 and seconds == pytest.approx(1.0, abs=0.05)


def test_a_zip_of_nothing_finished_is_refused(cast):
    queued = make_video(cast.acme, cast.bob)
    response = post(cast.bob, "zip", [queued])
    assert response.status_code == 302
    assert "nothing to zip" in flashed(response)


# Join


def test_a_join_needs_at_least_two_finished_videos(cast, tmp_path):
    one = finished_video(cast.acme, cast.bob, tmp_path)
    running = make_video(cast.acme, cast.bob, status="processing")
    response = post(cast.bob, "join", [one], headers=HTMX)
    assert "Select at least two finished videos to join." in said(response)
    response = post(cast.bob, "join", [one, running], headers=HTMX)
    assert f"Only finished videos can be joined; 1 of the selected is not (#{running.pk})." in said(
        response
    )
    assert not Video.objects.filter(kind=Video.Kind.JOIN).exists()


def test_same_shaped_clips_are_joined_without_re_encoding_in_the_order_picked(cast, tmp_path):
    a = finished_video(cast.acme, cast.bob, tmp_path, prompt="First", seconds=1.0)
    b = finished_video(cast.acme, cast.alice, tmp_path, prompt="Second", seconds=1.5)
    c = finished_video(cast.acme, cast.bob, tmp_path, prompt="Third", seconds=0.5)
    order = f"{b.pk},{a.pk},{c.pk}"
    response = post(cast.bob, "join", [a, b, c], order=order, headers=HTMX)
    assert response.status_code == 200
    joined = Video.objects.get(kind=Video.Kind.JOIN)
    html = said(response)
    assert 'hx-swap-oob="afterbegin:#gallery-grid"' in html and f'id="video-{joined.pk}"' in html
    assert joined.status == Video.Status.PROCESSING and joined.attempt is None
    assert joined.author == cast.bob and joined.prompt == "Joined: Second + 2 more"
    parts = list(VideoPart.objects.filter(video=joined).values_list("position", "part", "prompt"))
    assert parts == [(1, b.pk, "Second"), (2, a.pk, "First"), (3, c.pk, "Third")]
    assert OrmQ.objects.count() == 1  # the task, committed with the video

    tasks.video_join_run(joined.pk)

    joined.refresh_from_db()
    assert joined.status == Video.Status.COMPLETED, joined.error
    assert joined.message == "Joined 3 clips without re-encoding"
    assert (joined.width, joined.height) == (160, 90) and joined.retry_at is None
    data = default_storage.open(joined.file.name).read()
    assert joined.file_bytes == len(data) and joined.poster
    seconds, _, _ = decoded_seconds(data)
    assert seconds == pytest.approx(3.0, abs=0.2)
    assert joined.duration == pytest.approx(3.0, abs=0.2)


def test_clips_of_different_sizes_are_re_encoded_to_the_first_ones_size(cast, tmp_path):
    clips = [
        finished_video(cast.acme, cast.bob, tmp_path, size=(320, 180), seconds=1.0),
        finished_video(cast.acme, cast.bob, tmp_path, size=(180, 180), seconds=1.0, fps=30),
        finished_video(cast.acme, cast.bob, tmp_path, size=(160, 90), seconds=0.5),
    ]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    joins.join_run(video_id=joined.pk)
    joined.refresh_from_db()
    assert joined.status == Video.Status.COMPLETED, joined.error
    assert joined.message == "Joined 3 clips, re-encoded to 320x180"
    seconds, width, height = decoded_seconds(default_storage.open(joined.file.name).read())
    assert (width, height) == (320, 180)
    assert seconds == pytest.approx(2.5, abs=0.2)


def test_sound_is_kept_when_every_clip_has_it_and_dropped_when_one_has_none(cast, tmp_path):
    loud = [finished_video(cast.acme, cast.bob, tmp_path, sound=True) for _ in range(2)]
    quiet = finished_video(cast.acme, cast.bob, tmp_path)
    membership = cast.bob.memberships.get()
    with_sound = services.video_join(membership=membership, videos=loud)
    without = services.video_join(membership=membership, videos=[*loud, quiet])
    for video in (with_sound, without):
        joins.join_run(video_id=video.pk)
        video.refresh_from_db()
        assert video.status == Video.Status.COMPLETED, video.error
    with av.open(default_storage.open(with_sound.file.name)) as container:
        assert len(container.streams.audio) == 1
    with av.open(default_storage.open(without.file.name)) as container:
        assert len(container.streams.audio) == 0
    assert without.message.endswith("; without sound, since clip 3 has none")
    assert without.duration == pytest.approx(3.0, abs=0.2)


def test_a_join_whose_worker_died_is_resumed_and_fails_after_three_losses(cast, tmp_path):
    clips = [finished_video(cast.acme, cast.bob, tmp_path) for _ in range(2)]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    OrmQ.objects.all().delete()
    past = timezone.now() - timedelta(seconds=1)
    # A live run's lease is left alone.
    Video.objects.filter(pk=joined.pk).update(retry_at=timezone.now() + timedelta(minutes=1))
    assert joins.joins_resume() == 0
    for loss in (1, 2):
        # A run took the lease and its worker died: the lease ran out.
        Video.objects.filter(pk=joined.pk).update(retry_at=past)
        assert joins.joins_resume() == 1
        joined.refresh_from_db()
        assert (joined.status, joined.worker_losses, joined.retry_at) == ("processing", loss, None)
        assert OrmQ.objects.count() == loss  # enqueued again
    Video.objects.filter(pk=joined.pk).update(retry_at=past)
    assert joins.joins_resume() == 1
    joined.refresh_from_db()
    assert joined.status == Video.Status.FAILED and joined.worker_losses == 3
    assert joined.error == "Its worker stopped 3 times while joining the clips."


def test_a_join_whose_task_was_never_started_is_enqueued_again_without_a_loss(cast, tmp_path):
    clips = [finished_video(cast.acme, cast.bob, tmp_path) for _ in range(2)]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    OrmQ.objects.all().delete()  # the broker lost its task
    assert joins.joins_resume() == 0, "a join just enqueued is waiting its turn"
    stale = timezone.now() - timedelta(seconds=joins.UNSTARTED_SECONDS + 1)
    Video.objects.filter(pk=joined.pk).update(submitted_at=stale)
    assert joins.joins_resume() == 1
    assert OrmQ.objects.count() == 1
    joined.refresh_from_db()
    assert joined.worker_losses == 0 and joined.submitted_at > stale
    assert joins.joins_resume() == 0, "enqueued once, not at every dispatch"
    tasks.video_join_run(joined.pk)
    joined.refresh_from_db()
    assert joined.status == Video.Status.COMPLETED


def test_a_joined_video_says_so_on_its_card(cast, tmp_path):
    clips = [finished_video(cast.acme, cast.bob, tmp_path) for _ in range(3)]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    html = client_for(cast.alice).get("/").content.decode()
    card = html[html.index(f'id="video-{joined.pk}"') :]
    card = card[: card.index("</article>")]
    assert "Joined clips" in card and "+ 2 more" in card
    first = html[html.index(f'id="video-{clips[0].pk}"') :]
    assert "Joined clips" not in first[: first.index("</article>")]


def test_the_dispatch_task_resumes_dead_joins(cast, tmp_path):
    clips = [finished_video(cast.acme, cast.bob, tmp_path) for _ in range(2)]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    Video.objects.filter(pk=joined.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    tasks.dispatch()
    joined.refresh_from_db()
    assert joined.worker_losses == 1 and joined.message == "Joining again after its worker stopped"
    tasks.video_join_run(joined.pk)  # the new run finishes it
    joined.refresh_from_db()
    assert joined.status == Video.Status.COMPLETED


def test_a_second_delivery_of_a_join_task_does_nothing_while_the_first_holds_the_lease(
    cast, tmp_path
):
    clips = [finished_video(cast.acme, cast.bob, tmp_path) for _ in range(2)]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    held = timezone.now() + timedelta(minutes=1)
    Video.objects.filter(pk=joined.pk).update(retry_at=held)
    joins.join_run(video_id=joined.pk)
    joined.refresh_from_db()
    assert joined.status == Video.Status.PROCESSING and joined.retry_at == held


def test_a_join_cancelled_while_running_stays_cancelled_and_keeps_no_files(cast, tmp_path):
    clips = [finished_video(cast.acme, cast.bob, tmp_path) for _ in range(2)]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    real = joins._concatenate

    def cancel_midway(*args):
        services.video_cancel(video=joined, by=cast.bob)
        return real(*args)

    joins._concatenate, files_before = cancel_midway, set(_stored())
    try:
        joins.join_run(video_id=joined.pk)
    finally:
        joins._concatenate = real
    joined.refresh_from_db()
    assert joined.status == Video.Status.CANCELLED and not joined.file
    assert set(_stored()) == files_before


def test_a_part_deleted_before_the_join_ran_fails_it_clearly(cast, tmp_path):
    clips = [finished_video(cast.acme, cast.bob, tmp_path) for _ in range(2)]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    Video.objects.filter(pk=clips[1].pk).delete()
    joins.join_run(video_id=joined.pk)
    joined.refresh_from_db()
    assert joined.status == Video.Status.FAILED
    assert joined.error == (
        "The clips could not be joined: clip 2 of 2 was deleted or has no file any more"
    )


def _stored() -> list[str]:
    root = Path(default_storage.location)
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]


def test_the_order_of_a_join_defaults_to_the_order_sent(cast, tmp_path):
    a, b = (finished_video(cast.acme, cast.bob, tmp_path) for _ in range(2))
    post(cast.bob, "join", [b, a], order="garbage,,", headers=HTMX)
    joined = Video.objects.get(kind=Video.Kind.JOIN)
    assert list(joined.parts.values_list("part", flat=True)) == [b.pk, a.pk]


# The bar on the gallery


def test_the_gallery_shows_the_bar_with_the_teams_collections_and_remove_only_in_one(cast):
    launch = Collection.objects.create(team=cast.acme, name="Launch", created_by=cast.alice)
    Collection.objects.create(team=cast.other, name="Theirs")
    video = make_video(cast.acme, cast.bob, status="completed")
    client = client_for(cast.bob)
    page = said(client.get("/"))
    assert '<form id="bulk-form"' in page
    assert f'name="ids" value="{video.pk}" form="bulk-form"' in page
    assert ">Launch</option>" in page and "Theirs" not in page
    assert "data-bulk-remove hidden" in page
    page = said(client.get(f"/?collection={launch.pk}"))
    assert "data-bulk-remove hidden" not in page
    assert f'<option value="{launch.pk}" selected>Launch</option>' in page


def test_a_bulk_post_without_the_csrf_token_is_refused(cast):
    video = make_video(cast.acme, cast.bob, status="completed")
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bob)
    response = client.post(URL, {"action": "delete", "ids": [video.pk]}, **HTMX)
    assert response.status_code == 403
    assert Video.objects.get(pk=video.pk).deleted_at is None


def test_re_encoded_clips_keep_their_sound_in_step(cast, tmp_path):
    clips = [
        finished_video(cast.acme, cast.bob, tmp_path, size=(320, 180), sound=True),
        finished_video(cast.acme, cast.bob, tmp_path, size=(160, 90), seconds=1.5, sound=True),
    ]
    joined = services.video_join(membership=cast.bob.memberships.get(), videos=clips)
    joins.join_run(video_id=joined.pk)
    joined.refresh_from_db()
    assert joined.message == "Joined 2 clips, re-encoded to 320x180"
    with av.open(default_storage.open(joined.file.name)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert float(video.duration * video.time_base) == pytest.approx(2.5, abs=0.05)
        assert float(audio.duration * audio.time_base) == pytest.approx(2.5, abs=0.05)
