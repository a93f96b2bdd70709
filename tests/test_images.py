import io

import pytest
from PIL import Image

from videos.images import MAX_IMAGE_BYTES, ImageRejected, clean_image


def _bytes(width=640, height=480, fmt="PNG", mode="RGB", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), 128 if mode in ("L", "1", "I;16") else (90, 140, 200)).save(
        buffer, format=fmt, **save
    )
    return buffer.getvalue()


def _clean(data: bytes, **kwargs):
    return clean_image(io.BytesIO(data), **kwargs)


def _refused(data: bytes, phrase: str, **kwargs) -> str:
    with pytest.raises(ImageRejected) as caught:
        _clean(data, **kwargs)
    message = str(caught.value)
    assert phrase.lower() in message.lower(), message
    return message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_accepts_and_re_encodes_the_three_formats(fmt):
    image = _clean(_bytes(800, 600, fmt), name=f"frame.{fmt.lower()}")
    assert (image.format, image.width, image.height) == (fmt, 800, 600)
    assert image.extension in ("jpg", "png", "webp")
    with Image.open(io.BytesIO(image.content)) as reopened:
        assert reopened.format == fmt and reopened.size == (800, 600)


def test_it_applies_the_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    data = _bytes(400, 800, "JPEG", exif=exif.tobytes())
    image = _clean(data)
    assert (image.width, image.height) == (800, 400)


def test_it_strips_metadata():
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    image = _clean(_bytes(640, 480, "JPEG", exif=exif.tobytes()))
    assert b"SecretCam" not in image.content
    with Image.open(io.BytesIO(image.content)) as reopened:
        assert not reopened.getexif()


def test_it_drops_bytes_appended_after_the_image():
    tail = b"PK\x03\x04<html><script>alert(1)</script></html>"
    image = _clean(_bytes() + tail)
    assert b"<script>" not in image.content


def test_a_short_side_of_exactly_300_px_is_accepted_and_299_is_not():
    assert _clean(_bytes(300, 400)).width == 300
    _refused(_bytes(299, 400), "at least 300 px")


@pytest.mark.parametrize("size", [(400, 1000), (1000, 400)])
def test_the_aspect_bounds_themselves_are_accepted(size):
    assert (_clean(_bytes(*size)).width, _clean(_bytes(*size)).height) == size


@pytest.mark.parametrize("size", [(399, 1000), (1000, 399)])
def test_an_aspect_just_past_the_bounds_is_refused(size):
    _refused(_bytes(*size), "between 2:5")


class _Unreadable(io.BytesIO):
    def read(self, *args):
        raise AssertionError("the file was read although its size was already too big")


def test_a_declared_size_over_20_mb_is_refused_before_reading():
    with pytest.raises(ImageRejected, match="limit is 20 MB"):
        clean_image(_Unreadable(), size=MAX_IMAGE_BYTES + 1)


def test_a_stream_over_20_mb_is_refused():
    data = _bytes() + b"\0" * MAX_IMAGE_BYTES
    _refused(data, "limit is 20 MB")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"just some notes, not a picture",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"></svg>',
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
    ],
    ids=["empty", "text", "svg", "pdf"],
)
def test_it_refuses_what_is_not_an_image(data):
    _refused(data, "jpg, png or webp" if data else "empty")


def test_it_refuses_a_gif():
    _refused(_bytes(fmt="GIF", mode="P"), "JPG, PNG or WebP")


def test_it_refuses_a_truncated_jpeg():
    data = _bytes(800, 600, "JPEG")
    with pytest.raises(ImageRejected):
        _clean(data[: len(data) // 2])


def test_it_refuses_a_png_named_jpg():
    _refused(_bytes(fmt="PNG"), "contains PNG", name="holiday.jpg")


def test_it_refuses_a_jpeg_sent_as_png():
    _refused(_bytes(fmt="JPEG"), "contains JPEG", content_type="image/png")


def test_an_unknown_name_and_a_generic_type_are_fine():
    assert _clean(_bytes(), name="upload", content_type="application/octet-stream").format == "PNG"


def test_it_refuses_a_decompression_bomb():
    bomb = _bytes(20_000, 20_000, mode="1")
    assert len(bomb) < 100_000, "tiny on disk"
    _refused(bomb, "pixels")


def test_it_refuses_an_image_over_our_own_pixel_cap():
    _refused(_bytes(7000, 6000, mode="1"), "pixels")


@pytest.mark.parametrize(
    "data,fmt",
    [
        (_bytes(500, 400, "PNG", mode="I;16"), "PNG"),
        (_bytes(500, 400, "JPEG", mode="CMYK"), "JPEG"),
        (_bytes(500, 400, "PNG", mode="RGBA"), "PNG"),
        (_bytes(500, 400, "PNG", mode="L"), "PNG"),
    ],
    ids=["16-bit png", "cmyk jpeg", "rgba png", "grey png"],
)
def test_it_converts_unusual_modes(data, fmt):
    image = _clean(data)
    with Image.open(io.BytesIO(image.content)) as reopened:
        assert reopened.format == fmt and reopened.mode in ("RGB", "RGBA")
