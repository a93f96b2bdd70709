import time

import av
import pytest
from PIL import Image

from videos.providers.base import Job, ProviderError
from videos.providers.local import LocalRenderer


def _render(tmp_path, prompt="A lighthouse at dusk", image_size=None, **kwargs):
    image_path = None
    if image_size:
        image_path = tmp_path / "first.png"
        Image.new("RGB", image_size, (40, 160, 90)).save(image_path)
    progress = []
    result = LocalRenderer(**kwargs).render(
        Job(video_id=1, prompt=prompt, image_path=image_path),
        workdir=tmp_path,
        on_progress=lambda percent, message: progress.append(percent),
    )
    return result, progress


def _first_frame(path) -> bytes:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_image().tobytes()


def test_it_renders_a_five_second_h264_mp4(tmp_path):
    result, _ = _render(tmp_path)
    with av.open(str(result.video_path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.frames == 120
        assert container.duration / 1_000_000 == pytest.approx(5.0, abs=0.05)
        assert (stream.width, stream.height) == (1280, 720) == (result.width, result.height)
    assert result.duration == 5.0


def test_a_portrait_image_makes_a_portrait_video_with_even_sides(tmp_path):
    result, _ = _render(tmp_path, image_size=(600, 900))
    assert result.height == 1280 and result.width % 2 == 0 and result.height % 2 == 0
    assert result.width / result.height == pytest.approx(600 / 900, rel=0.01)


def test_the_poster_is_a_jpeg_of_the_same_size(tmp_path):
    result, _ = _render(tmp_path)
    with Image.open(result.poster_path) as poster:
        assert poster.format == "JPEG" and poster.size == (result.width, result.height)


def test_progress_rises_from_0_to_100(tmp_path):
    _, progress = _render(tmp_path)
    assert progress[0] == 0 and progress[-1] == 100
    assert progress == sorted(progress) and len(progress) >= 10


def test_an_error_raised_by_progress_stops_the_render(tmp_path):
    class Stop(Exception):
        pass

    seen = []

    def on_progress(percent, message):
        seen.append(percent)
        if percent >= 20:
            raise Stop

    with pytest.raises(Stop):
        LocalRenderer().render(
            Job(video_id=1, prompt="x"), workdir=tmp_path, on_progress=on_progress
        )
    assert max(seen) < 100


def test_an_unreadable_image_is_a_permanent_error(tmp_path):
    garbage = tmp_path / "first.png"
    garbage.write_bytes(b"not an image at all")
    with pytest.raises(ProviderError) as caught:
        LocalRenderer().render(
            Job(video_id=1, prompt="x", image_path=garbage), workdir=tmp_path, on_progress=print
        )
    assert caught.value.permanent


def test_different_prompts_look_different(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, _ = _render(tmp_path / "a", prompt="A red fox in snow")
    second, _ = _render(tmp_path / "b", prompt="A neon street at night")
    assert _first_frame(first.video_path) != _first_frame(second.video_path)


def test_min_seconds_paces_the_render(tmp_path):
    started = time.monotonic()
    _render(tmp_path, min_seconds=2)
    assert time.monotonic() - started >= 2
