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
