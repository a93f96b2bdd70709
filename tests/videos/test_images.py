"""videos.images: what a first-frame upload must be, and what we keep of it.

Every fixture is built in memory with Pillow. Runs without Django:
    .venv/bin/python -m pytest tests/videos/test_images.py -q -p no:django
"""

import functools
import io
import warnings
from contextlib import nullcontext
from typing import Any

import pytest
from PIL import Image, ImageCms, ImageFile, PngImagePlugin

from videos import images
from videos.images import (
    MAX_IMAGE_BYTES,
    MAX_PIXELS,
    MIN_SHORT_SIDE,
    CleanImage,
    ImageRejected,
    clean_image,
)

BLUE = (90, 140, 200)
ORIENTATION = 0x0112


def _bytes(
    width: int = 640,
    height: int = 480,
    fmt: str = "PNG",
    mode: str = "RGB",
    colour: Any = None,
    **save: Any,
) -> bytes:
    if colour is None:
        colour = BLUE if mode in ("RGB", "CMYK") or mode.startswith("RGBA") else 128
        if mode == "RGBA":
            colour = (*BLUE, 100)
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def _clean(data: bytes, **kwargs: Any) -> CleanImage:
    return clean_image(io.BytesIO(data), **kwargs)


def _refused(data: bytes, phrase: str, **kwargs: Any) -> str:
    with pytest.raises(ImageRejected) as caught:
        _clean(data, **kwargs)
    message = str(caught.value)
    assert phrase.lower() in message.lower(), message
    return message


def _reopen(image: CleanImage) -> Image.Image:
    reopened = Image.open(io.BytesIO(image.content))
    reopened.load()
    return reopened


def _exif(**tags: Any) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[int(tag.removeprefix("tag_"), 16)] = value
    return exif.tobytes()


@functools.cache
def _one_bit_png(width: int, height: int) -> bytes:
    # Mode "1" compresses to almost nothing, which is what makes a decompression bomb.
    return _bytes(width, height, "PNG", mode="1", colour=0)


class _NotSeekable(io.RawIOBase):
    """A stream that can only be read forwards, counting what was taken from it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.taken = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        self.taken += len(chunk)
        return chunk


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if pixel data is decoded."""

    def load(self: Image.Image) -> None:
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


# Accepted images


@pytest.mark.parametrize(
    "fmt,extension", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")], ids=str.lower
)
def test_it_accepts_and_re_encodes_each_allowed_format(fmt: str, extension: str) -> None:
    image = _clean(
        _bytes(800, 600, fmt), name=f"frame.{extension}", content_type=f"image/{fmt.lower()}"
    )
    assert (image.format, image.extension, image.width, image.height) == (
        fmt,
        extension,
        800,
        600,
    )
    reopened = _reopen(image)
    assert reopened.format == fmt and reopened.size == (800, 600)
    assert reopened.convert("RGB").getpixel((400, 300)) == pytest.approx(BLUE, abs=3)


def test_a_jpeg_carrying_a_second_picture_is_kept_as_a_plain_jpeg() -> None:
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (640, 480), "red"), Image.new("RGB", (640, 480), "blue")
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    image = _clean(buffer.getvalue(), name="stereo.jpg", content_type="image/jpeg")
    assert (image.format, image.extension) == ("JPEG", "jpg")
    reopened = _reopen(image)
    assert reopened.format == "JPEG" and not getattr(reopened, "is_animated", False)
    assert reopened.getpixel((10, 10))[0] > 200, "the first picture is the one kept"


def test_names_and_content_types_that_match_the_content_are_fine() -> None:
    assert _clean(_bytes(fmt="JPEG"), name="Frame.JPEG", content_type="image/jpeg").width == 640
    assert _clean(_bytes(fmt="JPEG"), name="C:\\photos\\frame.jpg", content_type="image/jpg")
    assert _clean(_bytes(), name="frame.PNG", content_type="image/png; charset=binary")


def test_an_unknown_name_and_a_generic_type_are_fine() -> None:
    for name, content_type in [
        ("upload", "application/octet-stream"),
        ("frame.jfif", ""),
        ("", ""),
    ]:
        assert _clean(_bytes(fmt="JPEG"), name=name, content_type=content_type).format == "JPEG"


def test_it_applies_the_exif_orientation() -> None:
    # Stored 400x800 with a red top half; orientation 6 means "turn 90 degrees clockwise to view",
    # which puts the red half on the right.
    stored = Image.new("RGB", (400, 800), "blue")
    stored.paste((255, 0, 0), (0, 0, 400, 400))
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=_exif(tag_0112=6))
    image = _clean(buffer.getvalue())
    assert (image.width, image.height) == (800, 400)
    reopened = _reopen(image)
    assert reopened.size == (800, 400)
    assert reopened.getpixel((700, 200))[0] > 200 and reopened.getpixel((100, 200))[2] > 200
    assert ORIENTATION not in reopened.getexif(), "not turned a second time by viewers"


def test_the_orientation_decides_which_side_is_short() -> None:
    # 1000x299 stored, shown turned: still a 299 px short side, still refused.
    data = _bytes(1000, 299, "JPEG", exif=_exif(tag_0112=8))
    _refused(data, f"at least {MIN_SHORT_SIDE} px")


def test_it_strips_metadata_from_a_jpeg() -> None:
    data = _bytes(
        640,
        480,
        "JPEG",
        exif=_exif(tag_010F="SecretCam", tag_0131="SecretEditor"),
        comment=b"SecretComment",
    )
    image = _clean(data)
    assert b"Secret" not in image.content
    reopened = _reopen(image)
    assert not reopened.getexif() and "comment" not in reopened.info


def test_it_strips_metadata_and_colour_profiles_from_a_png() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "SecretAuthor")
    text.add_text("Comment", "SecretComment", zip=True)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _bytes(640, 480, "PNG", pnginfo=text, icc_profile=srgb, exif=_exif(tag_010F="Cam"))
    image = _clean(data)
    assert b"Secret" not in image.content
    reopened = _reopen(image)
    assert "icc_profile" not in reopened.info and not reopened.getexif()
    assert not {"Author", "Comment"} & set(reopened.info)
    # The profile was applied before it was dropped; sRGB to sRGB leaves colours alone.
    assert reopened.getpixel((10, 10)) == pytest.approx(BLUE, abs=3)


def test_it_strips_metadata_from_a_webp() -> None:
    data = _bytes(640, 480, "WEBP", exif=_exif(tag_010F="SecretCam"))
    image = _clean(data)
    assert b"Secret" not in image.content
    assert not _reopen(image).getexif()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_it_drops_bytes_appended_after_the_image(fmt: str) -> None:
    # A polyglot: a valid image that is also a ZIP / an HTML page to anything reading from the end.
    tail = b"PK\x03\x04\x14\x00\x00\x00<html><script>alert(1)</script></html>PK\x05\x06" + bytes(18)
    image = _clean(_bytes(fmt=fmt) + tail)
    assert b"<script>" not in image.content and b"PK\x03\x04" not in image.content
    if fmt == "PNG":
        assert image.content.endswith(b"IEND\xaeB`\x82")
    else:
        assert image.content.endswith(b"\xff\xd9")


def test_its_repr_leaves_the_bytes_out() -> None:
    image = _clean(_bytes())
    assert "content" not in repr(image) and "640" in repr(image)


# Dimensions


@pytest.mark.parametrize("size", [(300, 400), (400, 300)])
def test_a_short_side_of_exactly_300_px_is_accepted(size: tuple[int, int]) -> None:
    image = _clean(_bytes(*size))
    assert (image.width, image.height) == size


@pytest.mark.parametrize("size", [(299, 400), (400, 299)])
def test_a_short_side_of_299_px_is_refused(size: tuple[int, int]) -> None:
    message = _refused(_bytes(*size), "short side must be at least 300 px")
    assert f"{size[0]} x {size[1]} px" in message and "larger image" in message


@pytest.mark.parametrize("size", [(400, 1000), (1000, 400)])
def test_the_aspect_bounds_themselves_are_accepted(size: tuple[int, int]) -> None:
    image = _clean(_bytes(*size))
    assert (image.width, image.height) == size


@pytest.mark.parametrize("size", [(399, 1000), (1000, 399)])
def test_an_aspect_just_past_the_bounds_is_refused(size: tuple[int, int]) -> None:
    message = _refused(_bytes(*size), "between 2:5 (0.40, tall) and 5:2 (2.50, wide)")
    assert "Crop it" in message


# Size in bytes


def test_a_declared_size_over_20_mb_is_refused_before_anything_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Untouchable(io.BytesIO):
        def read(self, *args: Any) -> bytes:
            raise AssertionError("the stream was read although its size was already too big")

        def seek(self, *args: Any) -> int:
            raise AssertionError("the stream was touched although its size was already too big")

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the image was parsed although its size was already too big")

    monkeypatch.setattr(Image, "open", never)
    with pytest.raises(ImageRejected) as caught:
        clean_image(Untouchable(_bytes()), size=int(25.3 * 1024 * 1024))
    assert str(caught.value) == (
        "This image is 25.3 MB; the limit is 20 MB. Export it smaller or as JPEG."
    )


def test_a_stream_over_20_mb_is_refused_even_when_its_declared_size_is_small(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the image was parsed although it is too big")

    data = _bytes() + bytes(MAX_IMAGE_BYTES)
    monkeypatch.setattr(Image, "open", never)
    message = _refused(data, "the limit is 20 MB", size=1000)
    assert message.startswith("This image is 20.1 MB") and "smaller or as JPEG" in message


def test_a_stream_that_cannot_seek_is_read_no_further_than_the_cap() -> None:
    stream = _NotSeekable(_bytes() + bytes(2 * MAX_IMAGE_BYTES))
    with pytest.raises(ImageRejected, match="the limit is 20 MB"):
        clean_image(stream)  # type: ignore[arg-type]
    assert stream.taken <= MAX_IMAGE_BYTES + 1


def test_a_stream_that_cannot_seek_is_accepted_when_small() -> None:
    image = clean_image(_NotSeekable(_bytes(fmt="WEBP")))  # type: ignore[arg-type]
    assert (image.format, image.width) == ("WEBP", 640)


def test_exactly_20_mb_is_accepted() -> None:
    data = _bytes()
    data += bytes(MAX_IMAGE_BYTES - len(data))
    assert len(data) == MAX_IMAGE_BYTES
    image = _clean(data, size=len(data))
    assert len(image.content) < 100_000, "the padding after the image is not kept"


def _noise(width: int, height: int) -> Image.Image:
    # Noise does not compress, so encoded sizes differ clearly between settings.
    return Image.merge("RGB", [Image.effect_noise((width, height), 80) for _ in range(3)])


def test_a_jpeg_whose_quality_92_copy_is_over_the_cap_is_saved_at_a_lower_quality(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    buffer = io.BytesIO()
    _noise(640, 480).save(buffer, "JPEG", quality=60)
    upload = buffer.getvalue()
    decoded = Image.open(io.BytesIO(upload))
    at_92, at_85 = (len(_encoded(decoded, "JPEG", quality=q)) for q in (92, 85))
    cap = (at_85 + at_92) // 2
    assert len(upload) <= cap < at_92, "the upload fits; its quality 92 copy would not"
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", cap)
    image = _clean(upload)
    assert len(image.content) <= cap
    assert _reopen(image).quantization[0][0] > 3, "saved below quality 92"


def test_a_png_whose_clean_copy_is_over_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A palette PNG becomes RGB, three bytes a pixel instead of one.
    buffer = io.BytesIO()
    _noise(640, 480).quantize(256).save(buffer, "PNG")
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", len(buffer.getvalue()))
    message = _refused(buffer.getvalue(), "once cleaned of metadata, this image is")
    assert "Export it smaller or as JPEG" in message


def _encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("seekable", [True, False])
def test_it_refuses_an_empty_file(seekable: bool) -> None:
    stream = io.BytesIO(b"") if seekable else _NotSeekable(b"")
    with pytest.raises(ImageRejected, match=r"empty\. Choose a JPG, PNG or WebP"):
        clean_image(stream)  # type: ignore[arg-type]


def test_it_leaves_the_upload_open_and_where_it_was() -> None:
    for data in (_bytes(), b"not an image"):
        stream = io.BytesIO(data)
        stream.seek(7)
        with pytest.raises(ImageRejected) if data == b"not an image" else nullcontext():
            clean_image(stream)
        assert not stream.closed and stream.tell() == 7


# Not an allowed image


@pytest.mark.parametrize(
    "data",
    [
        b"just some notes, not a picture",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"></svg>',
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 400 400\nshowpage\n",
        b"<!doctype html><html><body>hi</body></html>",
        bytes(range(256)) * 8,
    ],
    ids=["text", "svg", "pdf", "eps", "html", "garbage"],
)
def test_it_refuses_what_is_not_an_image(data: bytes) -> None:
    message = _refused(data, "not a JPG, PNG or WebP image", name="frame.png")
    assert "export it in one of those formats" in message


@pytest.mark.parametrize(
    "fmt,mode", [("GIF", "P"), ("BMP", "RGB"), ("TIFF", "RGB"), ("ICO", "RGB")]
)
def test_it_refuses_other_image_formats(fmt: str, mode: str) -> None:
    width = 256 if fmt == "ICO" else 640
    _refused(_bytes(width, width, fmt, mode=mode), "not a JPG, PNG or WebP image")


def test_it_refuses_a_text_file_named_png() -> None:
    _refused(b"hello", "not a JPG, PNG or WebP image", name="frame.png", content_type="image/png")


def test_it_refuses_a_truncated_jpeg() -> None:
    noisy = Image.effect_noise((800, 600), 60).convert("RGB")  # noise, so there is data to cut
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG")
    data = buffer.getvalue()
    _refused(data[: len(data) // 2], "damaged or cut short", name="frame.jpg")


def test_it_refuses_a_truncated_png() -> None:
    data = _bytes(800, 600, "PNG")
    message = _refused(data[: len(data) // 2], "damaged or cut short")
    assert "Export it again" in message


def test_it_refuses_a_png_with_a_corrupted_chunk() -> None:
    data = bytearray(_bytes(800, 600, "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # the checksum no longer matches
    _refused(bytes(data), "damaged or cut short")


# Lies about the type


def test_it_refuses_a_png_named_jpg() -> None:
    message = _refused(_bytes(fmt="PNG"), "named .jpg but contains PNG data", name="holiday.jpg")
    assert "rename it to .png or re-export it as JPEG" in message


def test_it_refuses_a_jpeg_named_png() -> None:
    _refused(
        _bytes(fmt="JPEG"), "named .png but contains JPEG data; rename it to .jpg", name="a.png"
    )


def test_it_refuses_a_webp_named_jpeg() -> None:
    _refused(_bytes(fmt="WEBP"), "named .jpeg but contains WebP data", name="a.jpeg")


def test_it_refuses_a_jpeg_sent_as_png() -> None:
    message = _refused(
        _bytes(fmt="JPEG"), "sent as image/png but contains JPEG data", content_type="image/png"
    )
    assert "rename it to .jpg" in message


def test_it_refuses_a_content_type_that_contradicts_a_matching_name() -> None:
    _refused(_bytes(fmt="PNG"), "sent as image/webp", name="frame.png", content_type="image/webp")


# Decompression bombs and pixel counts


def _limits() -> str:
    return "the limit is 25 MP for JPEG, 25 MP for PNG, 16 MP for WebP"


def test_it_refuses_a_decompression_bomb(no_decoding: None) -> None:
    bomb = _one_bit_png(20_000, 20_000)  # 400 million pixels
    assert len(bomb) < 100_000, "tiny on disk"
    # Over Pillow's own error threshold: it refuses the header before we see the sides.
    message = _refused(bomb, "This image is over 178.9 MP")
    assert _limits() in message and "Resize it" in message


def test_an_image_in_pillows_warning_range_is_refused_without_a_warning_escaping() -> None:
    # 100 MP: over Pillow's 89.5 MP warning threshold, under its 179 MP error threshold.
    data = _one_bit_png(10_000, 10_000)
    filters_before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        message = _refused(data, "This image is over 89.4 MP")
    assert _limits() in message
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert warnings.filters == filters_before, "global warning filters are untouched"


def test_the_40_mp_png_of_issue_10_is_refused_from_its_header(no_decoding: None) -> None:
    bomb = _one_bit_png(7680, 5200)
    assert len(bomb) < 40_000
    with pytest.raises(ImageRejected) as caught:
        _clean(bomb, name="bomb.png")
    assert str(caught.value) == (
        "This image is 7680 x 5200 px, 39.9 MP; the limit for PNG is 25 MP. "
        "Resize it, for example to 2560 px on the long side, which is all we keep."
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_file_cut_short_after_its_header_is_refused_for_its_size(fmt: str) -> None:
    # No pixel data at all, so nothing but the header can have decided: the same refusal as
    # the whole file, not "damaged".
    whole = _bytes(7680, 5200, fmt, mode="L", colour=0)
    header = (
        whole[: whole.index(b"IDAT") + 8]
        if fmt == "PNG"
        else whole[: whole.index(b"\xff\xda") + 16]
    )
    assert len(header) < 1000
    for data in (whole, header):
        _refused(data, f"7680 x 5200 px, 39.9 MP; the limit for {fmt} is 25 MP")


def test_just_over_the_limit_never_reads_as_the_limit(no_decoding: None) -> None:
    # 25,005,000 pixels would round to 25.0 MP; it is shown rounded up instead.
    _refused(_one_bit_png(5001, 5000), "5001 x 5000 px, 25.1 MP; the limit for PNG is 25 MP")


def test_our_pixel_cap_holds_when_pillows_is_switched_off(
    monkeypatch: pytest.MonkeyPatch, no_decoding: None
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    _refused(_one_bit_png(20_000, 20_000), "This image is 20000 x 20000 px, 400.0 MP")


def test_the_worst_png_we_accept_is_accepted_and_kept_at_2560_px() -> None:
    # Exactly 25 MP of RGBA: the costliest PNG that passes (decoded whole, 4 bytes a pixel).
    assert MAX_PIXELS["PNG"] == 5000 * 5000
    image = _clean(_bytes(5000, 5000, "PNG", mode="RGBA", compress_level=1))
    assert (image.format, image.width, image.height) == ("PNG", 2560, 2560)
    reopened = _reopen(image)
    assert reopened.mode == "RGBA" and reopened.size == (2560, 2560)
    assert reopened.getpixel((1280, 1280)) == pytest.approx((*BLUE, 100), abs=2)


def test_webp_has_a_lower_limit_since_decoding_it_costs_more(no_decoding: None) -> None:
    message = _refused(_bytes(4001, 4000, "WEBP", lossless=True), "4001 x 4000 px, 16.1 MP")
    assert "the limit for WebP is 16 MP" in message
    # The same pixels as a PNG are fine as far as the header goes.
    with pytest.raises(AssertionError, match="pixel data was decoded"):
        _clean(_bytes(4001, 4000, "PNG", mode="1", colour=0))


def test_the_largest_webp_we_accept_is_accepted() -> None:
    image = _clean(_bytes(4000, 4000, "WEBP", mode="RGBA", lossless=True))
    assert (image.format, image.width, image.height) == ("WEBP", 2560, 2560)


# What we keep of a large image


def _decoded_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes from here on (its size once load() starts)."""
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def recording(self: ImageFile.ImageFile) -> Any:
        if self.tile:  # pixel data still to decode; later calls return what is loaded
            sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording)
    return sizes


def test_a_large_jpeg_is_decoded_at_half_scale_and_kept_at_2560_px(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _bytes(6000, 4000, "JPEG")
    decoded = _decoded_sizes(monkeypatch)
    image = _clean(data, name="camera.jpg")
    assert decoded == [(3000, 2000)], "the decoder's DCT scaling, never 6000 x 4000 in memory"
    assert (image.format, image.width, image.height) == ("JPEG", 2560, 1707)
    assert _reopen(image).getpixel((1280, 850)) == pytest.approx(BLUE, abs=3)


def test_a_large_png_is_decoded_whole_and_kept_at_2560_px(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _bytes(3000, 2000, "PNG")
    decoded = _decoded_sizes(monkeypatch)
    image = _clean(data)
    assert decoded == [(3000, 2000)]
    assert (image.width, image.height) == (2560, 1707)
    assert _reopen(image).size == (2560, 1707)


def test_an_image_of_2560_px_is_kept_at_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    image = _clean(_bytes(2560, 1440, "JPEG"))
    assert (image.width, image.height) == (2560, 1440)


def test_a_large_photo_is_turned_upright_after_scaling() -> None:
    # Stored 6000x4000 with orientation 6 (turn clockwise): upright it is 4000x6000, and the red
    # left half of the stored picture is the top half.
    stored = Image.new("RGB", (6000, 4000), "blue")
    stored.paste((255, 0, 0), (0, 0, 3000, 4000))
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=_exif(tag_0112=6))
    image = _clean(buffer.getvalue())
    assert (image.width, image.height) == (1707, 2560)
    reopened = _reopen(image)
    assert reopened.getpixel((850, 300))[0] > 200 and reopened.getpixel((850, 2200))[2] > 200
    assert ORIENTATION not in reopened.getexif()


def test_a_large_image_at_the_aspect_bound_stays_inside_it() -> None:
    image = _clean(_bytes(2048, 5120, "PNG", mode="L"))
    assert (image.width, image.height) == (1024, 2560)


def test_a_large_palette_png_is_averaged_not_sampled() -> None:
    # Columns one pixel wide, black and white in turn: scaled as colour they average to grey,
    # while dropping pixels would leave pure black or white.
    stripes = Image.frombytes("P", (5120, 2880), bytes([0, 1] * 2560) * 2880)
    stripes.putpalette([0, 0, 0, 255, 255, 255])
    buffer = io.BytesIO()
    stripes.save(buffer, "PNG")
    reopened = _reopen(_clean(buffer.getvalue()))
    assert (reopened.mode, reopened.size) == ("RGB", (2560, 1440))
    assert 100 < reopened.getpixel((1000, 700))[0] < 160


# Modes


@pytest.mark.parametrize(
    "fmt,mode,expected_mode",
    [
        ("JPEG", "CMYK", "RGB"),
        ("JPEG", "L", "RGB"),
        ("PNG", "RGBA", "RGBA"),
        ("PNG", "LA", "RGBA"),
        ("PNG", "L", "RGB"),
        ("PNG", "1", "RGB"),
        ("PNG", "P", "RGB"),
        ("WEBP", "RGBA", "RGBA"),
    ],
    ids=lambda value: value,
)
def test_it_converts_each_mode_to_8_bit_rgb_or_rgba(
    fmt: str, mode: str, expected_mode: str
) -> None:
    colour = {"CMYK": (0, 0, 0, 0), "LA": (128, 100), "1": 1, "P": 3}.get(mode)
    image = _clean(_bytes(500, 400, fmt, mode=mode, colour=colour))
    reopened = _reopen(image)
    assert (reopened.format, reopened.mode, reopened.size) == (fmt, expected_mode, (500, 400))


def test_a_cmyk_jpeg_keeps_its_colour() -> None:
    image = _clean(_bytes(500, 400, "JPEG", mode="CMYK", colour=(0, 255, 255, 0)))  # red
    red, green, blue = _reopen(image).getpixel((250, 200))
    assert red > 200 and green < 60 and blue < 60


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped() -> None:
    image = _clean(_bytes(500, 400, "PNG", mode="I;16", colour=40_000))
    reopened = _reopen(image)
    assert reopened.mode == "RGB"
    assert reopened.getpixel((0, 0)) == pytest.approx((156, 156, 156), abs=1)


def test_a_palette_png_with_a_transparent_colour_keeps_its_transparency() -> None:
    palette = Image.new("P", (500, 400), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.paste(1, (0, 0, 250, 400))
    buffer = io.BytesIO()
    palette.save(buffer, "PNG", transparency=0)
    reopened = _reopen(_clean(buffer.getvalue()))
    assert reopened.mode == "RGBA"
    assert reopened.getpixel((10, 10)) == (255, 0, 0, 255)
    assert reopened.getpixel((400, 10))[3] == 0


def test_a_jpeg_is_saved_at_quality_92() -> None:
    reopened = _reopen(_clean(_bytes(fmt="JPEG")))
    # Pillow estimates the quantisation tables back to a quality; 92 gives a luminance DC step of 3.
    assert reopened.quantization[0][0] == 3
