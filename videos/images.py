"""Validation and normalisation of first-frame images.

MiniMax accepts JPG, PNG or WebP under 20 MB, short side at least 300 px, aspect 2:5..5:2. We check
all of that here, before anything is stored, and re-encode what we keep: that strips metadata and
anything appended after the image data (polyglots), so the stored file is only pixels.
"""

import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_SHORT_SIDE = 300
# Our own cap, far under Pillow's bomb threshold: a 40 MP frame is already 8x what MiniMax renders.
MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
CONTENT_TYPES = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
}
NICE = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


class ImageRejected(ValueError):
    """The message tells the person what to fix."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    format: str  # JPEG | PNG | WEBP
    extension: str  # jpg | png | webp
    width: int
    height: int


def _read_capped(fileobj: BinaryIO, size: int | None) -> bytes:
    if size is not None and size > MAX_IMAGE_BYTES:
        raise ImageRejected(_too_big(size))
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    data = fileobj.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected(_too_big(size or len(data)))
    if not data:
        raise ImageRejected("The file is empty. Choose a JPG, PNG or WebP image.")
    return data


def _too_big(size: int) -> str:
    return (
        f"This image is {size / 1024 / 1024:.1f} MB; the limit is 20 MB. "
        "Export it smaller, or as JPEG."
    )


def _declared_format(name: str, content_type: str) -> tuple[str | None, str]:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in EXTENSIONS:
        return EXTENSIONS[ext], f"named .{ext}"
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in CONTENT_TYPES:
        return CONTENT_TYPES[ctype], f"sent as {ctype}"
    return None, ""


def clean_image(
    fileobj: BinaryIO, *, name: str = "", content_type: str = "", size: int | None = None
) -> CleanImage:
    data = _read_capped(fileobj, size)
    not_image = (
        "This file is not a JPG, PNG or WebP image. Choose a photo or still in one of those."
    )
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRejected(not_image) from None
    except Image.DecompressionBombError:
        raise ImageRejected(_bomb()) from None

    # verify() leaves the image unusable; open again to read pixels.
    image = Image.open(io.BytesIO(data), formats=FORMATS)
    fmt = image.format
    declared, how = _declared_format(name, content_type)
    if declared and declared != fmt:
        raise ImageRejected(
            f"This file is {how} but contains {NICE[fmt]} data; "
            f"rename it to .{'jpg' if fmt == 'JPEG' else fmt.lower()} or re-export it."
        )
    if image.width * image.height > MAX_PIXELS:
        raise ImageRejected(_bomb(image.width, image.height))
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; a warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected(_bomb(image.width, image.height)) from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected(
            "This image is damaged or cut short and cannot be read. Export it again."
        ) from None
    _check_shape(image.width, image.height)
    return CleanImage(
        content=_encode(image, fmt),
        format=fmt,
        extension={"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt],
        width=image.width,
        height=image.height,
    )


def _bomb(width: int = 0, height: int = 0) -> str:
    size = f" ({width:,} x {height:,})" if width else ""
    return (
        f"This image has too many pixels{size}; the limit is {MAX_PIXELS // 1_000_000} million "
        "pixels. Resize it to at most 4096 px on the long side."
    )


def _check_shape(width: int, height: int) -> None:
    short = min(width, height)
    if short < MIN_SHORT_SIDE:
        raise ImageRejected(
            f"This image is {width} x {height} px; its short side must be at least "
            f"{MIN_SHORT_SIDE} px. Use a larger image."
        )
    # 2:5 <= w:h <= 5:2, compared in integers so the bounds themselves are accepted.
    if 5 * width < 2 * height or 2 * width > 5 * height:
        raise ImageRejected(
            f"This image is {width} x {height} px, an aspect ratio of {width / height:.2f}; "
            "it must be between 2:5 (0.40) and 5:2 (2.50). Crop it closer to the frame you want."
        )


def _encode(image: Image.Image, fmt: str) -> bytes:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=92)
    elif fmt == "PNG":
        keep_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image.convert("RGBA" if keep_alpha else "RGB").save(out, "PNG")
    else:
        keep_alpha = image.mode in ("RGBA", "LA", "PA")
        image.convert("RGBA" if keep_alpha else "RGB").save(out, "WEBP", quality=92)
    return out.getvalue()
