"""The local renderer makes real, playable MP4s; these tests decode what it wrote.

They need neither Django nor a database: run with `-p no:django` for speed, or with the suite.
"""

from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from videos.providers.base import Job, ProviderError, Result
from videos.providers.local import LocalRenderer, _prompt_canvas

PROMPT = "A lighthouse on a stormy coast at dusk, waves crashing against the rocks"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def __call__(self, percent: int, message: str) -> None:
        self.calls.append((percent, message))


def render(workdir: Path, job: Job) -> tuple[Result, Recorder]:
    workdir.mkdir()
    progress = Recorder()
    result = LocalRenderer().render(job, workdir=workdir, on_progress=progress)
    return result, progress


def first_frame(path: Path) -> Image.Image:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_image()


def make_image(folder: Path, size: tuple[int, int]) -> Path:
    path = folder / "first-frame.jpg"
    Image.radial_gradient("L").resize(size).convert("RGB").save(path, "JPEG")
    return path


# A render takes a few seconds, so each kind is made once per module and inspected by many tests.
@pytest.fixture(scope="module")
def text_video(tmp_path_factory) -> tuple[Result, Recorder]:
    return render(tmp_path_factory.mktemp("text") / "out", Job(video_id=1, prompt=PROMPT))


@pytest.fixture(scope="module")
def portrait_video(tmp_path_factory) -> Result:
    folder = tmp_path_factory.mktemp("portrait")
    job = Job(video_id=2, prompt=PROMPT, image_path=make_image(folder, (600, 900)))
    return render(folder / "out", job)[0]


def test_it_renders_a_five_second_h264_mp4(text_video):
    result, _ = text_video

    assert result.video_path.name == "video.mp4"
    assert (result.width, result.height, result.duration) == (1280, 720, 5.0)
    with av.open(str(result.video_path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (1280, 720)
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert container.duration / av.time_base == pytest.approx(5.0, abs=0.05)
        assert sum(1 for _ in container.decode(video=0)) == 120


def test_its_index_comes_first_so_browsers_can_stream_it(text_video):
    head = text_video[0].video_path.read_bytes()

    assert -1 < head.find(b"moov") < head.find(b"mdat")


def test_progress_rises_from_zero_and_ends_with_100(text_video):
    calls = text_video[1].calls

    percents = [percent for percent, _ in calls]
    assert calls[0] == (0, "Starting the local renderer")
    assert calls[-1] == (100, "Done")
    assert percents == sorted(set(percents)), "strictly increasing"
    assert len(percents) >= 10
    assert (40, "Rendering frame 48 of 120") in calls


def test_a_portrait_image_gives_a_portrait_video_with_its_aspect(portrait_video):
    with av.open(str(portrait_video.video_path)) as container:
        stream = container.streams.video[0]
        size = (stream.width, stream.height)

    assert size == (portrait_video.width, portrait_video.height)
    assert size[1] == 1280 and size[0] < size[1]
    assert size[0] % 2 == 0 and size[1] % 2 == 0
    assert size[0] / size[1] == pytest.approx(600 / 900, abs=0.01)


def test_the_poster_is_a_jpeg_of_the_video_size(portrait_video):
    assert portrait_video.poster_path.name == "poster.jpg"
    with Image.open(portrait_video.poster_path) as poster:
        assert poster.format == "JPEG"
        assert poster.size == (portrait_video.width, portrait_video.height)


def test_raising_in_on_progress_stops_the_render_and_propagates(tmp_path):
    class Cancelled(Exception):
        pass

    percents: list[int] = []

    def cancel_at_30(percent: int, message: str) -> None:
        percents.append(percent)
        if percent >= 30:
            raise Cancelled

    with pytest.raises(Cancelled):
        LocalRenderer().render(
            Job(video_id=1, prompt=PROMPT), workdir=tmp_path, on_progress=cancel_at_30
        )
    assert percents == [0, 10, 20, 30], "nothing ran after the callback raised"


def test_a_garbage_image_is_a_permanent_provider_error(tmp_path):
    garbage = tmp_path / "first-frame.jpg"
    garbage.write_bytes(b"\xff\xd8 this is not really a JPEG" * 20)

    with pytest.raises(ProviderError) as raised:
        render(tmp_path / "out", Job(video_id=1, prompt=PROMPT, image_path=garbage))
    assert raised.value.permanent
    assert "image cannot be read" in str(raised.value)


def test_different_prompts_give_visibly_different_frames(text_video, tmp_path):
    # A prompt far too long for three lines: it must still render, with a cut caption.
    other = "A fox in a snowy forest, " * 40 + "x" * 5000
    result, _ = render(tmp_path / "out", Job(video_id=2, prompt=other))

    # Compare the scene above the caption; the label in the corner is the same in both.
    box = (0, 100, 1280, 480)
    one = first_frame(text_video[0].video_path).crop(box)
    two = first_frame(result.video_path).crop(box)
    assert sum(ImageStat.Stat(ImageChops.difference(one, two)).mean) / 3 > 8


def test_the_same_prompt_always_gives_the_same_scene():
    # The scene alone, not a whole render: what matters is that nothing in it is random.
    assert _prompt_canvas("Neon city rain").tobytes() == _prompt_canvas("Neon city rain").tobytes()


def test_min_seconds_paces_the_render_like_an_upstream(tmp_path):
    import time

    started = time.monotonic()
    LocalRenderer(min_seconds=3).render(
        Job(video_id=3, prompt="Paced"), workdir=tmp_path, on_progress=lambda p, m: None
    )
    assert time.monotonic() - started >= 3


# Resolution, duration and subject reference: what was asked is what is made.


def probe(path: Path) -> tuple[int, int, float, int]:
    """Width, height, duration in seconds and frame count, as decoded from the file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return stream.width, stream.height, container.duration / av.time_base, frames


def make_face(folder: Path) -> Path:
    # Loud, flat colours, nothing like the dusky prompt scene behind it.
    path = folder / "face.png"
    face = Image.new("RGB", (400, 500), (0, 220, 60))
    face.paste((255, 0, 200), (100, 150, 300, 350))
    face.save(path, "PNG")
    return path


def test_asked_for_1080p_and_6_seconds_it_makes_exactly_that(tmp_path):
    job = Job(video_id=4, prompt=PROMPT, resolution="1080P", duration=6)
    result, progress = render(tmp_path / "out", job)

    assert (result.width, result.height, result.duration) == (1920, 1080, 6.0)
    width, height, seconds, frames = probe(result.video_path)
    assert (width, height, frames) == (1920, 1080, 144)
    assert seconds == pytest.approx(6.0, abs=0.05)
    assert progress.calls[-1] == (100, "Done")
    with Image.open(result.poster_path) as poster:
        assert poster.size == (1920, 1080)


def test_asked_for_768p_and_10_seconds_it_makes_exactly_that(tmp_path):
    job = Job(video_id=5, prompt=PROMPT, resolution="768P", duration=10)
    result, _ = render(tmp_path / "out", job)

    width, height, seconds, frames = probe(result.video_path)
    assert (width, height, frames) == (1366, 768, 240)
    assert seconds == pytest.approx(10.0, abs=0.05)
    assert (result.width, result.height, result.duration) == (1366, 768, 10.0)


def test_an_image_video_keeps_the_images_aspect_at_the_asked_short_side(tmp_path):
    job = Job(
        video_id=6,
        prompt=PROMPT,
        image_path=make_image(tmp_path, (600, 900)),
        resolution="512p",  # as the API may spell it
        duration=6,
    )
    result, _ = render(tmp_path / "out", job)

    width, height, seconds, _ = probe(result.video_path)
    assert (width, height) == (512, 768)
    assert seconds == pytest.approx(6.0, abs=0.05)


def test_a_resolution_alone_makes_a_6_second_video(tmp_path):
    result, _ = render(tmp_path / "out", Job(video_id=7, prompt=PROMPT, resolution="512P"))

    assert (result.width, result.height, result.duration) == (910, 512, 6.0)


def test_nothing_asked_keeps_the_quick_1280x720_five_second_default(text_video):
    width, height, seconds, frames = probe(text_video[0].video_path)

    assert (width, height, frames) == (1280, 720, 120)
    assert seconds == pytest.approx(5.0, abs=0.05)


def test_the_subject_face_is_drawn_as_an_inset_in_the_top_right_corner(text_video, tmp_path):
    job = Job(video_id=8, prompt=PROMPT, subject_image_path=make_face(tmp_path))
    result, _ = render(tmp_path / "out", job)

    with_face, without = first_frame(result.video_path), first_frame(text_video[0].video_path)
    side, margin = round(720 * 0.22), 720 // 28
    inset = (1280 - margin - side + 20, margin + 20, 1280 - margin - 20, margin + side - 20)
    assert sum(ImageStat.Stat(ImageChops.difference(with_face, without).crop(inset)).mean) > 60
    # The face is the inset's only difference: the scene to its left is the same render.
    left = (300, 100, 900, 400)
    assert sum(ImageStat.Stat(ImageChops.difference(with_face, without).crop(left)).mean) < 3


@pytest.mark.parametrize(
    ("asked", "says"),
    [
        ({"resolution": "4K", "duration": 6}, "makes 512P, 720P, 768P, 1080P videos, not '4K'"),
        ({"resolution": "768P", "duration": 8}, "videos of 6 or 10 seconds, not 8"),
        ({"duration": 5}, "videos of 6 or 10 seconds, not 5"),
    ],
)
def test_what_it_cannot_make_is_a_permanent_error_saying_what_it_can(tmp_path, asked, says):
    progress = Recorder()
    with pytest.raises(ProviderError) as raised:
        LocalRenderer().render(
            Job(video_id=9, prompt=PROMPT, **asked), workdir=tmp_path, on_progress=progress
        )
    assert raised.value.permanent
    assert says in str(raised.value)
    assert progress.calls == [] and not (tmp_path / "video.mp4").exists()


def test_an_unreadable_face_image_is_a_permanent_provider_error(tmp_path):
    garbage = tmp_path / "face.png"
    garbage.write_bytes(b"not a picture at all" * 10)

    with pytest.raises(ProviderError) as raised:
        render(tmp_path / "out", Job(video_id=10, prompt=PROMPT, subject_image_path=garbage))
    assert raised.value.permanent
    assert "face image cannot be read" in str(raised.value)
