"""The local renderer: a real 5-second H.264 MP4 made on the worker, with no AI and no network.

A slow camera move over the first-frame image, or over a background derived from the prompt,
with the prompt as a caption and a "Local renderer — no AI" label. PyAV encodes frame by frame,
so memory stays flat whatever the frame count.
"""

import colorsys
import hashlib
import math
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFilter, ImageFont, UnidentifiedImageError

from videos.providers.base import Job, ProgressFn, ProviderError, Result

FPS = 24
SECONDS = 5
LONG_SIDE = 1280
ZOOM = 0.12  # how far the camera pushes in over the clip
LABEL = "Local renderer — no AI"


class LocalRenderer:
    kind = "local"
    label = LABEL

    def __init__(self, min_seconds: float = 0.0):
        # Pacing for demos and tests: never finish faster than this, like an upstream would.
        self.min_seconds = min_seconds

    def render(self, job: Job, *, workdir: Path, on_progress: ProgressFn) -> Result:
        on_progress(0, "Starting the local renderer")
        source = _load_image(job.image_path) if job.image_path else None
        width, height = _frame_size(source)
        canvas = _canvas(source, job.prompt, width, height)
        overlay = _overlay(job.prompt, width, height)
        video_path, poster_path = workdir / "video.mp4", workdir / "poster.jpg"
        frames = FPS * SECONDS
        pace = self.min_seconds / frames if self.min_seconds else 0.0
        with av.open(str(video_path), "w", options={"movflags": "faststart"}) as container:
            stream = container.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = Fraction(1, FPS)
            stream.options = {"preset": "veryfast", "crf": "23"}
            for index in range(frames):
                frame = _camera(canvas, index / (frames - 1), width, height)
                frame.alpha_composite(overlay)
                rgb = frame.convert("RGB")
                if index == FPS:  # one second in: past the fade, representative
                    rgb.save(poster_path, "JPEG", quality=85)
                packet_frame = av.VideoFrame.from_image(rgb)
                packet_frame.pts = index
                container.mux(stream.encode(packet_frame))
                if pace:
                    time.sleep(pace)
                if (index + 1) % (frames // 10) == 0 and index + 1 < frames:
                    done = (index + 1) * 100 // frames
                    on_progress(done, f"Rendering frame {index + 1} of {frames}")
            container.mux(stream.encode())
        on_progress(100, "Done")
        return Result(video_path, poster_path, width, height, float(SECONDS))


def _load_image(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ProviderError(f"The first-frame image cannot be read: {exc}", permanent=True) from exc


def _frame_size(source: Image.Image | None) -> tuple[int, int]:
    """1280x720 for text; otherwise the image's aspect with a 1280 px long side, even sides."""
    if source is None:
        return 1280, 720
    w, h = source.size
    scale = LONG_SIDE / max(w, h)
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def _palette(prompt: str) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(prompt.encode()).digest()
    colours = []
    for i in range(3):
        hue = digest[i] / 255
        colours.append(
            _hsv(hue, 0.55 + digest[i + 3] / 255 * 0.35, 0.35 + digest[i + 6] / 255 * 0.4)
        )
    return colours


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _canvas(source: Image.Image | None, prompt: str, width: int, height: int) -> Image.Image:
    """The scene the camera moves over: the output size plus room for the push-in."""
    size = (math.ceil(width * (1 + ZOOM)), math.ceil(height * (1 + ZOOM)))
    if source is not None:
        return source.resize(size, Image.Resampling.LANCZOS).convert("RGBA")
    top, bottom, accent = _palette(prompt)
    gradient = Image.linear_gradient("L").resize(size)
    scene = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    # Soft out-of-focus lights, placed by the prompt's hash so each prompt has its own scene.
    lights = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(lights)
    digest = hashlib.sha256(("lights" + prompt).encode()).digest()
    for i in range(0, 24, 3):
        x, y = digest[i] / 255 * size[0], digest[i + 1] / 255 * size[1]
        r = size[1] * (0.05 + digest[i + 2] / 255 * 0.18)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*accent, 70 + digest[i + 2] // 4))
    lights = lights.filter(ImageFilter.GaussianBlur(size[1] // 30))
    return Image.alpha_composite(scene.convert("RGBA"), lights)


def _camera(canvas: Image.Image, t: float, width: int, height: int) -> Image.Image:
    """A crop of the canvas at time t (0..1): an eased push-in with a gentle drift."""
    eased = 0.5 - math.cos(math.pi * t) / 2
    scale = (1 + ZOOM) / (1 + ZOOM * eased)  # crop size relative to the output
    crop_w, crop_h = width * scale, height * scale
    spare_w, spare_h = canvas.width - crop_w, canvas.height - crop_h
    left = spare_w * (0.5 + 0.35 * (eased - 0.5))
    top = spare_h * 0.5
    box = (left, top, left + crop_w, top + crop_h)
    return canvas.resize((width, height), Image.Resampling.BILINEAR, box=box)


def _overlay(prompt: str, width: int, height: int) -> Image.Image:
    """The caption band and the label, drawn once and composited onto every frame."""
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    short = min(width, height)
    font = ImageFont.load_default(size=max(14, short // 22))
    small = ImageFont.load_default(size=max(11, short // 42))
    lines = _wrap(prompt or "(image only)", draw, font, width * 0.86)
    line_h = font.size * 1.3
    band_h = line_h * len(lines) + font.size * 1.4
    band = Image.new("RGBA", (width, math.ceil(band_h)), (0, 0, 0, 0))
    shade = Image.linear_gradient("L").resize(band.size).point(lambda v: int(v * 0.72))
    band.putalpha(shade)
    overlay.alpha_composite(band, (0, height - band.height))
    y = height - band_h + font.size * 0.9
    for line in lines:
        draw.text((width / 2, y), line, font=font, fill=(255, 255, 255, 245), anchor="mt")
        y += line_h
    pad = short // 36
    _draw_label(draw, small, (pad * 2, pad * 2), pad)
    return overlay


def _draw_label(draw: ImageDraw.ImageDraw, font, origin: tuple[int, int], pad: int) -> None:
    """ "Local renderer — no AI" on a dark pill. Pillow's bundled font has no em dash glyph, so
    the dash is drawn as a line between the two words."""
    left, right = "Local renderer", "no AI"
    x, y = origin
    gap = font.size * 0.35
    dash = font.size * 0.9
    left_w, right_w = draw.textlength(left, font=font), draw.textlength(right, font=font)
    total = left_w + gap + dash + gap + right_w
    top, bottom = draw.textbbox((x, y), left, font=font)[1::2]
    draw.rounded_rectangle(
        (x - pad * 0.7, top - pad * 0.5, x + total + pad * 0.7, bottom + pad * 0.5),
        radius=pad * 0.6,
        fill=(0, 0, 0, 140),
    )
    colour = (255, 214, 120, 255)
    draw.text((x, y), left, font=font, fill=colour)
    mid = (top + bottom) / 2
    draw.line((x + left_w + gap, mid, x + left_w + gap + dash, mid), fill=colour, width=2)
    draw.text((x + left_w + 2 * gap + dash, y), right, font=font, fill=colour)


def _wrap(text: str, draw: ImageDraw.ImageDraw, font, max_width: float) -> list[str]:
    """At most three lines that fit, the last one ending in an ellipsis if text was left over."""
    words = " ".join(text.split())
    for chars in range(60, 10, -2):
        lines = textwrap.wrap(words, chars)
        if all(draw.textlength(line, font=font) <= max_width for line in lines[:3]):
            break
    if len(lines) > 3:
        lines = lines[:3]
        lines[2] = lines[2].rstrip(".,;: ") + "…"
    return lines
