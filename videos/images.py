"""Validation and normalisation of first-frame images.

MiniMax accepts JPG, PNG or WebP under 20 MB, with a short side of at least 300 px and an aspect
ratio between 2:5 and 5:2. We check all of that here, before anything is stored, so the person
uploading learns what to fix at once instead of from a failed generation minutes later.

What we keep is re-encoded from decoded pixels: that strips metadata (EXIF, GPS, ICC, text
chunks) and anything appended after the image data (polyglots such as PNG+ZIP or JPEG+HTML), so
the stored file is only pixels, in the format its bytes really are. It is at most KEEP_LONG_SIDE
px on its long side, since MiniMax renders nothing larger.

Safety rules (from the reliability notes, section (d) "Image uploads"):
- the byte cap is enforced before any parsing, and at most cap+1 bytes are ever held in memory;
- only the JPEG, PNG and WebP decoders are tried, which keeps Pillow's long tail of plugins
  (EPS via Ghostscript, FITS, ...) away from untrusted bytes;
- the pixel count, the short side and the aspect are checked from the header, before pixel data
  is decoded, and Pillow's own decompression-bomb warning is made an error for the duration of
  the call only;
- a JPEG is decoded at a reduced scale when it is larger than what we keep; PNG and WebP cannot
  be, so MAX_PIXELS is what bounds their cost; a process decodes one image at a time, and an
  upload that would wait behind more than one other is refused as busy (ImageBusy).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import io
import math
import os
import struct
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 300
# What we keep. MiniMax's largest output is 2K, 2560 x 1440 (Hailuo's is 1080P, 1920 x 1080), and a
# video takes its aspect from the image, so no output has a side longer than 2560 px: more pixels
# would only be scaled away upstream, after travelling there as base64 in every create.
KEEP_LONG_SIDE = 2560
# The pixel budget, per format. MiniMax has no use for more than KEEP_LONG_SIDE; this is about what
# a small upload may cost before we get there. At the limits, per upload (bench/uploads.py):
# - PNG must be decoded whole: 25 MP of RGBA, from a file of 100 KB, is 100 MB decoded, about
#   250 MB at the peak (the resize works on a premultiplied copy) and 0.9 s of CPU.
# - JPEG is decoded at 1/2 to 1/8 scale, but a progressive one keeps every DCT coefficient of the
#   full size: 25 MP at 4:4:4 peaks at about 200 MB, 0.45 s.
# - WebP is decoded whole into libwebp's two canvases and then copied twice, 16 bytes a pixel:
#   16 MP already peaks at about 330 MB, 1 s (40 MP took 1.5-1.8 GB and 2.8 s).
# 25 MP keeps 12 MP phones and 24 MP cameras (6000 x 4000, 6048 x 4024) working; the 48-50 MP
# modes of some phones are refused with the size to resize to. MiniMax's newest model takes at
# most 5760 px a side anyway.
MAX_PIXELS = {"JPEG": 25_000_000, "PNG": 25_000_000, "WEBP": 16_000_000}
# How many uploads one process decodes at once, and how many it lets wait for that. gunicorn
# serves a process's requests from a few threads (4 under runstudio). One decode at a time bounds
# the memory; letting one more wait, and refusing the rest at once as busy, leaves the other
# threads to everyone else, since a waiting upload holds its thread just as a decoding one does.
# 16 uploads of a 25 MP PNG at once, all queued one decode at a time: the sign-in page took
# 22-31 s (p95). Refused past two: 0.15-2.3 s, on the same loaded 2-core machine.
DECODES_AT_ONCE = 1
UPLOADS_IN_DECODING = 2
_decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)
_admitted = threading.BoundedSemaphore(UPLOADS_IN_DECODING)
# Seconds an API client is told to wait before sending a refused-as-busy image again.
BUSY_RETRY_SECONDS = 5

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
BUSY = (
    "The studio is busy with other images right now; "
    f"send this one again in {BUSY_RETRY_SECONDS} seconds."
)


class ImageRejected(ValueError):
    """An upload we will not send on. The message tells the person what to fix."""


class ImageBusy(ImageRejected):
    """An upload refused only for now: this process is decoding as many as it may."""


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
    Raises ImageRejected with a message for the person uploading; ImageBusy, a kind of it, when
    the same upload may well be taken a few seconds later.
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
                # Before verify() or load(): the header says all we need to refuse, at no cost.
                width, height = _upright_size(probe)
                _check_pixels(width, height, fmt)
                _check_claims(fmt, name=name, content_type=content_type)
                _check_shape(width, height)
                probe.verify()
            # verify() leaves the image unusable; open again to decode pixels. Only this part
            # takes turns: the refusals above stay instant however busy the process is.
            with _turn_to_decode():
                content, (width, height) = _reencoded(source, fmt)
            if len(content) > MAX_IMAGE_BYTES:
                raise ImageRejected(_too_many_bytes(len(content), cleaned=True))
            return CleanImage(
                content=content,
                format=fmt,
                extension=EXTENSION[fmt],
                width=width,
                height=height,
            )
        except Image.DecompressionBombWarning:
            raise ImageRejected(_far_too_many_pixels(Image.MAX_IMAGE_PIXELS)) from None
        except Image.DecompressionBombError:
            raise ImageRejected(_far_too_many_pixels(2 * (Image.MAX_IMAGE_PIXELS or 0))) from None
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


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """The header's width and height, swapped when the EXIF orientation turns the picture."""
    # Image.getexif itself, not PngImageFile's, which decodes the whole image looking for an eXIf
    # chunk after the pixel data. Missing one only swaps the sides in a message: every check on
    # them reads the same either way round.
    orientation = Image.Image.getexif(image).get(ExifTags.Base.Orientation, 1)
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _check_pixels(width: int, height: int, fmt: str) -> None:
    if width * height > MAX_PIXELS[fmt]:
        raise ImageRejected(_too_many_pixels(width, height, fmt))


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


def _too_many_pixels(width: int, height: int, fmt: str) -> str:
    limit = MAX_PIXELS[fmt]
    # Rounded, except that a count just over the limit must not read as the limit itself.
    shown = round(width * height / 1_000_000, 1)
    if shown * 1_000_000 <= limit:
        shown = math.ceil(width * height / 100_000) / 10
    return (
        f"This image is {width} x {height} px, {shown:.1f} MP; the limit for {LABEL[fmt]} is "
        f"{limit / 1_000_000:g} MP. {_RESIZE}"
    )


def _far_too_many_pixels(threshold: int | None) -> str:
    # Pillow refused the header itself, before we could read the sides or the format; its
    # thresholds (89.5 MP warns, 179 MP errors) are far above ours.
    limits = ", ".join(f"{n / 1_000_000:g} MP for {LABEL[f]}" for f, n in MAX_PIXELS.items())
    return (
        f"This image is over {math.floor((threshold or 0) / 100_000) / 10:.1f} MP; the limit is "
        f"{limits}. {_RESIZE}"
    )


_RESIZE = f"Resize it, for example to {KEEP_LONG_SIDE} px on the long side, which is all we keep."


# Decoding and re-encoding


@contextlib.contextmanager
def _turn_to_decode() -> Iterator[None]:
    if not _admitted.acquire(blocking=False):
        raise ImageBusy(BUSY)
    try:
        with _decoding:
            try:
                yield
            finally:
                _give_memory_back()
    finally:
        _admitted.release()


def _reencoded(source: BinaryIO, fmt: str) -> tuple[bytes, tuple[int, int]]:
    """The re-encoded image and its size; every decoded copy is garbage once this returns."""
    with Image.open(source, formats=FORMATS) as image:
        kept = _decode(image, fmt)
        return _encode(kept, fmt), kept.size


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None  # not glibc (musl, macOS): nothing to call, and nothing measured there


_malloc_trim = _find_malloc_trim()


def _give_memory_back() -> None:
    # glibc keeps what a thread frees in that thread's arena, so each request thread that ever
    # decoded holds on to its peak: 16 uploads at once, one decoding at a time, still left the
    # web server at 1.8 GB. Trimming after each decode (a few ms) kept it at 0.7 GB.
    if _malloc_trim is not None:
        _malloc_trim(0)


def _decode(image: Image.Image, fmt: str) -> Image.Image:
    """The pixels at the size we keep, turned upright."""
    size = _kept_size(*image.size)
    if fmt == "JPEG" and size != image.size:
        # DCT scaling: the decoder itself makes a 1/2, 1/4 or 1/8 scale picture no smaller than
        # `size`, so the full-size one never exists in memory.
        image.draft(None, size)
    image.load()
    if image.size != size:
        image = _scaled(image, size)
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _kept_size(width: int, height: int) -> tuple[int, int]:
    long_side = max(width, height)
    if long_side <= KEEP_LONG_SIDE:
        return width, height
    # Rounded to the nearest pixel, so a shape exactly at 2:5 or 5:2 stays inside the bounds.
    scale = KEEP_LONG_SIDE / long_side
    return round(width * scale), round(height * scale)


def _scaled(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    # Palette and 1-bit images resize only by dropping pixels; as grey or colour they are averaged.
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode in ("P", "PA"):
        image = image.convert("RGBA" if _has_alpha(image) or image.mode == "PA" else "RGB")
    # reducing_gap=1: average whole blocks of pixels first (as the JPEG decoder's scaling does),
    # then Lanczos over what is left; half the CPU of Lanczos over the full image.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0)


def _encode(image: Image.Image, fmt: str) -> bytes:
    """The pixels alone, re-encoded in their original format."""
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
