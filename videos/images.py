"""Validation and normalisation of first-frame images.

MiniMax accepts JPG, PNG or WebP under 20 MB, with a short side of at least 300 px and an aspect
ratio between 2:5 and 5:2. We check all of that here, before anything is stored, so the person
uploading learns what to fix at once instead of from a failed generation minutes later.

What we keep is re-encoded from decoded pixels: that strips metadata (EXIF, GPS, ICC, text
chunks) and anything appended after the image data (polyglots such as PNG+ZIP or JPEG+HTML), so
the stored file is only pixels, in the format its bytes really are.

Safety rules (from the reliability notes, section (d) "Image uploads"):
- the byte cap is enforced before any parsing, and at most cap+1 bytes are ever held in memory;
- only the JPEG, PNG and WebP decoders are tried, which keeps Pillow's long tail of plugins
  (EPS via Ghostscript, FITS, ...) away from untrusted bytes;
- the pixel count is checked against our own cap before pixel data is decoded, and Pillow's own
  decompression-bomb warning is made an error for the duration of the call only.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 300
# Our own cap, well under Pillow's bomb threshold (89.5 MP warns, 179 MP errors): 40 MP is far
# more than MiniMax renders from, and decoding it as RGBA already takes 160 MB.
MAX_PIXELS = 40_000_000

FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSION = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# How we name each format to people: "WebP", not "WEBP".
LABEL = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# Names and content types that claim a format. Anything else (no extension, ".jfif",
# application/octet-stream, an empty type) claims nothing and is judged on content alone.
CLAIMED_BY_EXTENSION = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
CLAIMED_BY_CONTENT_TYPE = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/png": "PNG",
    "image/x-png": "PNG",
    "image/webp": "WEBP",
}

# What Pillow raises on hostile or damaged input besides UnidentifiedImageError. It is not one
# exception type: fuzzing has turned up struct.error, IndexError, EOFError and friends from
# decoders, and each must become a refusal rather than a 500.
_DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
)

# JPEG and WebP quality: 92, then lower only if the result would be over MAX_IMAGE_BYTES.
_QUALITIES = (92, 85, 75)
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")

# Messages that do not depend on the upload. The others are built by the functions below.
EMPTY = "This file is empty. Choose a JPG, PNG or WebP image."
NOT_AN_IMAGE = (
    "This file is not a JPG, PNG or WebP image. "
    "Save or export it in one of those formats and upload it again."
)
DAMAGED = (
    "This image is damaged or cut short and cannot be read. "
    "Export it again and upload the new file."
)


class ImageRejected(ValueError):
    """An upload we will not send on. The message tells the person what to fix."""


@dataclass(frozen=True)
class CleanImage:
    # repr=False: a 20 MB bytes literal in a log line or traceback helps nobody.
    content: bytes = field(repr=False)  # the re-encoded image
    format: str  # "JPEG" | "PNG" | "WEBP"
    extension: str  # "jpg" | "png" | "webp"
    width: int
    height: int


def clean_image(
    fileobj: BinaryIO, *, name: str = "", content_type: str = "", size: int | None = None
) -> CleanImage:
    """Checks an uploaded image against MiniMax's limits and ours, and re-encodes it.

    `fileobj` is read from its start (Pillow always seeks to 0), and its position is put back
    where it was. `name`, `content_type` and `size` are what the browser or Django said about
    the upload; `size` lets an oversized upload be refused without touching the stream.
    Raises ImageRejected with a message for the person uploading.
    """
    if size is not None and size > MAX_IMAGE_BYTES:
        raise ImageRejected(_too_many_bytes(size))
    position = _tell(fileobj)
    try:
        return _clean(_bounded(fileobj), name=name, content_type=content_type)
    finally:
        if position is not None:
            # The caller may hand the same upload to something else; leave it as we found it.
            with contextlib.suppress(OSError, ValueError):
                fileobj.seek(position)


def _clean(source: BinaryIO, *, name: str, content_type: str) -> CleanImage:
    # Within this block only, Pillow's bomb warning (89.5-179 MP) is an error. Global filters are
    # untouched, and our own MAX_PIXELS check below refuses those sizes regardless.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=FORMATS) as probe:
                fmt = _real_format(probe)
                # Before verify() or load(): the header's dimensions are all we need to refuse.
                _check_pixels(*probe.size)
                _check_claims(fmt, name=name, content_type=content_type)
                probe.verify()
            # verify() leaves the image unusable; open again to decode pixels.
            with Image.open(source, formats=FORMATS) as image:
                image.load()
                ImageOps.exif_transpose(image, in_place=True)
                # After the transpose: a portrait photo stored sideways is judged as portrait.
                _check_shape(image.width, image.height)
                content = _encode(image, fmt)
                if len(content) > MAX_IMAGE_BYTES:
                    raise ImageRejected(_too_many_bytes(len(content), cleaned=True))
                return CleanImage(
                    content=content,
                    format=fmt,
                    extension=EXTENSION[fmt],
                    width=image.width,
                    height=image.height,
                )
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(_too_many_pixels()) from None
        except UnidentifiedImageError:
            raise ImageRejected(NOT_AN_IMAGE) from None
        except ImageRejected:
            raise
        except _DECODE_ERRORS:
            raise ImageRejected(DAMAGED) from None


# Reading the upload


def _tell(fileobj: BinaryIO) -> int | None:
    try:
        return fileobj.tell()
    except (AttributeError, OSError, ValueError):
        return None


def _bounded(fileobj: BinaryIO) -> BinaryIO:
    """The upload, known to hold 1..MAX_IMAGE_BYTES bytes, ready for Pillow.

    A seekable file is measured by seeking and then used in place (a Django upload spooled to
    disk stays on disk). Anything else is read into memory, at most cap+1 bytes of it.
    """
    try:
        length = fileobj.seek(0, io.SEEK_END)
        seekable = True
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        if length is None:  # some wrappers return None from seek()
            length = fileobj.tell()
        fileobj.seek(0)
        _check_length(length)
        return fileobj
    data = fileobj.read(MAX_IMAGE_BYTES + 1)
    _check_length(len(data))
    return io.BytesIO(data)


def _check_length(length: int) -> None:
    if length == 0:
        raise ImageRejected(EMPTY)
    if length > MAX_IMAGE_BYTES:
        raise ImageRejected(_too_many_bytes(length))


# Checks


def _real_format(image: Image.Image) -> str:
    # A JPEG carrying a second picture (MPO: stereo cameras, some phones' depth maps) is still a
    # JPEG to everyone else; Pillow reports it as "MPO". We keep its first picture.
    return "JPEG" if image.format == "MPO" else str(image.format)


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageRejected(_too_many_pixels(width, height))


def _check_claims(real: str, *, name: str, content_type: str) -> None:
    """Refuses a file whose name or declared type says one format while its bytes are another.

    We could just believe the bytes, but a mismatch usually means a renamed file or a tool that
    exported something else than the person thinks, and they should know.
    """
    extension = os.path.splitext(name)[1].lower()
    claimed = CLAIMED_BY_EXTENSION.get(extension)
    if claimed and claimed != real:
        raise ImageRejected(
            f"This file is named {extension} but contains {LABEL[real]} data; rename it to "
            f".{EXTENSION[real]} or re-export it as {LABEL[claimed]}."
        )
    mime = content_type.split(";", 1)[0].strip().lower()
    claimed = CLAIMED_BY_CONTENT_TYPE.get(mime)
    if claimed and claimed != real:
        raise ImageRejected(
            f"This file was sent as {mime} but contains {LABEL[real]} data; rename it to "
            f".{EXTENSION[real]} or re-export it as {LABEL[claimed]}."
        )


def _check_shape(width: int, height: int) -> None:
    if min(width, height) < MIN_SHORT_SIDE:
        raise ImageRejected(
            f"This image is {width} x {height} px; its short side must be at least "
            f"{MIN_SHORT_SIDE} px. Use a larger image or export it at a higher resolution."
        )
    # 2:5 <= width:height <= 5:2, compared in integers so the bounds themselves pass exactly.
    if 5 * width < 2 * height or 2 * width > 5 * height:
        raise ImageRejected(
            f"This image is {width} x {height} px, an aspect ratio of {width / height:.2f}; "
            "it must be between 2:5 (0.40, tall) and 5:2 (2.50, wide). "
            "Crop it closer to the shape of your video."
        )


def _too_many_bytes(size: int, *, cleaned: bool = False) -> str:
    # Rounded up, so 20.01 MB reads "20.1 MB", never "20.0 MB; the limit is 20 MB".
    megabytes = math.ceil(size * 10 / (1024 * 1024)) / 10
    # `cleaned`: the upload was under the cap but its re-encoding is not (a PNG saved with heavier
    # compression than ours, say); say so, or "this image is 23 MB" contradicts the file's size.
    subject = "Once cleaned of metadata, this image is" if cleaned else "This image is"
    return (
        f"{subject} {megabytes:.1f} MB; the limit is {MAX_IMAGE_BYTES // (1024 * 1024)} MB. "
        "Export it smaller or as JPEG."
    )


def _too_many_pixels(width: int = 0, height: int = 0) -> str:
    # Without dimensions when Pillow refused the header itself (over 179 MP).
    found = f" ({width:,} x {height:,} px)" if width and height else ""
    return (
        f"This image has too many pixels{found}; the limit is {MAX_PIXELS // 1_000_000} million "
        "pixels. Resize it, for example to 4096 px on the long side."
    )


# Re-encoding


def _encode(image: Image.Image, fmt: str) -> bytes:
    """The pixels alone, re-encoded in their original format at their original size."""
    image = _to_8bit(image, alpha=fmt != "JPEG" and _has_alpha(image))
    # Pillow copies some of .info into what it saves (PNG keeps the ICC profile, for one); an
    # empty .info means only what we pass below is written.
    image.info = {}
    if fmt == "PNG":
        return _save(image, "PNG", optimize=False)
    # Quality 92 can come out larger than an upload saved at a lower quality, and past the 20 MB
    # MiniMax takes. Stepping down is invisible at this size; the caller refuses if it still is.
    for quality in _QUALITIES:
        content = _save(image, fmt, quality=quality)
        if len(content) <= MAX_IMAGE_BYTES:
            break
    return content


def _save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    # "transparency" is how palette, grey and RGB PNGs mark a transparent colour (tRNS).
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _to_8bit(image: Image.Image, *, alpha: bool) -> Image.Image:
    """Plain 8-bit RGB or RGBA in sRGB, which every consumer (and MiniMax) reads the same way."""
    target = "RGBA" if alpha else "RGB"
    if image.mode in _SIXTEEN_BIT_MODES:
        # 16-bit grey: scale to 8 bits. A plain convert("L") clips, turning most of it white.
        transparent = image.info.get("transparency")
        image = image.point(lambda value: value / 256).convert("L")
        if isinstance(transparent, int):
            # The transparent grey level was a 16-bit value too.
            image.info["transparency"] = transparent // 256
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        converted = _to_srgb(image, icc, "RGBA" if image.mode == "RGBA" else "RGB")
        if converted is not None:
            image = converted
    return image.convert(target)


def _to_srgb(image: Image.Image, icc: bytes, mode: str) -> Image.Image | None:
    """Applies the embedded colour profile, since we drop it: a Display P3 or CMYK image would
    otherwise change colour. None if the profile is unusable; the pixels are then kept as is."""
    try:
        return ImageCms.profileToProfile(
            image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _srgb(), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
