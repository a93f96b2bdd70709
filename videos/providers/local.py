"""The local renderer: a real H.264 MP4 made on the worker, with no AI and no network.

A slow camera move over the first-frame image, or over a background derived from the prompt,
with the prompt as a caption and a "Local renderer — no AI" label; a subject reference (S2V-01)
face is shown as an inset. It makes the resolution and duration asked for, like an upstream
would, and a quick 5-second clip when nothing is asked. PyAV encodes frame by frame, so memory
stays flat whatever the frame count.
"""

import colorsys
import hashlib
import math
import time
from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import Colorspace
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from videos.providers.base import Job, ProgressFn, ProviderError, Result

FPS = 24
FRAMES = 120  # the quick default when no duration is asked: 5 s
TEXT_SIZE = (1280, 720)
LONG_SIDE = 1280
# MiniMax's resolutions name the short side; a text video is 16:9 as theirs are.
SHORT_SIDES = {"512P": 512, "720P": 720, "768P": 768, "1080P": 1080}
DURATIONS = (6, 10)
INSET = 0.22  # the subject's face inset, as a fraction of the short side
ZOOM = 0.12  # how far the camera pushes in over the clip
POSTER_FRAME = FPS  # one second in: the move has begun, so the poster looks like the clip
LABEL = "Local renderer — no AI"

Patch = tuple[Image.Image, tuple[int, int]]  # an RGBA piece of overlay and where it goes
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class LocalRenderer:
    kind = "local"
    label = LABEL

    def __init__(self, min_seconds: float = 0.0):
        # Pacing for demos and tests: never finish faster than this, like an upstream would.
        self.min_seconds = min_seconds

    def render(self, job: Job, *, workdir: Path, on_progress: ProgressFn) -> Result:
        started = time.monotonic()
        # Checked before any work: delivering another size or length than asked would be a lie.
        short_side, frames = _asked(job)
        on_progress(0, "Starting the local renderer")
        source = _load_image(job.image_path, "first-frame") if job.image_path else None
        face = _load_image(job.subject_image_path, "face") if job.subject_image_path else None
        width, height = _frame_size(source, short_side)
        if source:
            canvas = source.resize(_canvas_size(width, height), Image.Resampling.LANCZOS)
        else:
            canvas = _prompt_canvas(job.prompt, _canvas_size(width, height))
        patches = _overlay(job.prompt, width, height)
        if face:
            patches.append(_inset(face, width, height))
        video_path, poster_path = workdir / "video.mp4", workdir / "poster.jpg"
        # faststart moves the index to the front so browsers can play before the download ends.
        with av.open(str(video_path), "w", options={"movflags": "faststart"}) as container:
            stream = _video_stream(container, width, height)
            for index in range(frames):
                frame = _camera(canvas, index / (frames - 1), width, height)
                for patch, position in patches:
                    frame.paste(patch, position, patch)
                if index == POSTER_FRAME:
                    frame.save(poster_path, "JPEG", quality=85)
                container.mux(stream.encode(_to_video_frame(frame, index)))
                self._pace(started, index, frames)
                _report(on_progress, index, frames)
            container.mux(stream.encode())  # flush the frames x264 still holds for lookahead
        on_progress(100, "Done")
        return Result(video_path, poster_path, width, height, frames / FPS)

    def _pace(self, started: float, index: int, frames: int) -> None:
        # Sleep towards a per-frame deadline, so progress stays evenly spread over min_seconds.
        deadline = started + self.min_seconds * (index + 1) / frames
        time.sleep(max(0.0, deadline - time.monotonic()))


def _asked(job: Job) -> tuple[int | None, int]:
    """The short side (None: the quick default size) and the frame count the job asks for.

    A resolution with no duration gets 6 s, the length every model makes by default; nothing
    asked at all keeps the quick 5-second default, which is all a preview needs.
    """
    resolution = job.resolution.strip().upper()
    if resolution and resolution not in SHORT_SIDES:
        raise ProviderError(
            f"The local renderer makes {', '.join(SHORT_SIDES)} videos, not {job.resolution!r}.",
            permanent=True,
        )
    if job.duration is not None and job.duration not in DURATIONS:
        raise ProviderError(
            f"The local renderer makes videos of {' or '.join(map(str, DURATIONS))} seconds, "
            f"not {job.duration}.",
            permanent=True,
        )
    seconds = job.duration or (DURATIONS[0] if resolution else None)
    return SHORT_SIDES.get(resolution), seconds * FPS if seconds else FRAMES


def _report(on_progress: ProgressFn, index: int, frames: int) -> None:
    done = index + 1
    if done % (frames // 10) == 0 and done < frames:  # 100 only once the file is complete
        on_progress(done * 100 // frames, f"Rendering frame {done} of {frames}")


def _video_stream(
    container: av.container.OutputContainer, width: int, height: int
) -> av.VideoStream:
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.time_base = Fraction(1, FPS)
    stream.options = {"preset": "veryfast", "crf": "23"}
    # Tag BT.709 to match the conversion below; untagged HD is guessed differently per browser.
    context = stream.codec_context
    context.colorspace = context.color_primaries = context.color_trc = 1  # BT.709
    context.color_range = 1  # limited ("TV") range, what every player expects from yuv420p
    return stream


def _to_video_frame(image: Image.Image, index: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_image(image).reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range="MPEG"
    )
    frame.pts = index
    return frame


def _load_image(path: Path, what: str) -> Image.Image:
    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        # Covers garbage, truncated and unsupported files alike: retrying cannot fix any of them.
        raise ProviderError(f"The {what} image cannot be read: {exc}", permanent=True) from exc


def _frame_size(source: Image.Image | None, short_side: int | None) -> tuple[int, int]:
    """16:9 for text, otherwise the image's aspect; the short side as asked, even sides.

    Nothing asked: 1280x720 for text, a 1280 px long side for an image (the quick default).
    """
    w, h = source.size if source else (16, 9)
    if short_side is None:
        if source is None:
            return TEXT_SIZE
        scale = LONG_SIDE / max(w, h)
    else:
        scale = short_side / min(w, h)
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def _canvas_size(width: int, height: int) -> tuple[int, int]:
    # The scene is drawn once, with room for the push-in, so each frame is only a crop and resize.
    return math.ceil(width * (1 + ZOOM)), math.ceil(height * (1 + ZOOM))


def _prompt_canvas(prompt: str, size: tuple[int, int] | None = None) -> Image.Image:
    """A dusky gradient, a glow and soft out-of-focus lights, all chosen by the prompt's hash."""
    size = size or _canvas_size(*TEXT_SIZE)
    digest = hashlib.sha256(prompt.encode()).digest()
    deep, mid, light = _palette(digest)
    scene = Image.composite(
        Image.new("RGB", size, mid), Image.new("RGB", size, deep), _ramp(size, digest[9])
    )
    scene.paste(light, (0, 0), _glow(size, digest[10], digest[11]))
    scene.paste(light, (0, 0), _bokeh(size, hashlib.sha256(digest).digest()))
    vignette = Image.radial_gradient("L").resize(size).point(lambda v: max(0, v - 90) * 1.5)
    scene.paste((0, 0, 0), (0, 0), vignette.point(lambda v: min(v, 200)))
    # A whisper of grain breaks up the 8-bit steps a smooth gradient turns into bands. Seeded by
    # the prompt (not effect_noise), so the same prompt always gives the same scene.
    grain = hashlib.shake_256(digest).digest(size[0] * size[1])
    noise = Image.frombytes("L", size, grain).point(lambda v: 124 + v // 32)
    return ImageChops.add(scene, noise.convert("RGB"), 1.0, -128)


# Base hues in degrees: blues, violets, roses, ambers and teals; yellow-greens read as sickly.
HUES = (15, 30, 170, 185, 200, 215, 230, 250, 270, 290, 320, 345)


def _palette(digest: bytes) -> tuple[tuple[int, int, int], ...]:
    """A dark base, a neighbouring mid tone and a pale light: related hues always look composed."""
    hue = (HUES[digest[0] % len(HUES)] + digest[1] % 12) / 360
    drift = (0.04 + digest[2] / 255 * 0.08) * (1 if digest[3] % 2 else -1)
    return (
        _hsv(hue, 0.85, 0.1 + digest[4] / 255 * 0.06),
        _hsv(hue + drift, 0.7 + digest[5] / 255 * 0.2, 0.45 + digest[6] / 255 * 0.2),
        _hsv(hue + 2.5 * drift, 0.25 + digest[7] / 255 * 0.25, 1.0),
    )


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _ramp(size: tuple[int, int], angle: int) -> Image.Image:
    """A diagonal 0..255 mask; the angle varies a little by prompt."""
    small = (size[0] // 4, size[1] // 4)  # a smooth ramp loses nothing at a quarter of the size
    side = math.ceil(math.hypot(*small))
    ramp = Image.linear_gradient("L").resize((side, side), Image.Resampling.BICUBIC)
    ramp = ramp.rotate(20 + angle / 255 * 50, Image.Resampling.BICUBIC)
    left, top = (side - small[0]) // 2, (side - small[1]) // 2
    ramp = ramp.crop((left, top, left + small[0], top + small[1]))
    # Squared, so the deep tone holds most of the frame and the mid tone pools in one corner.
    return ramp.resize(size, Image.Resampling.BICUBIC).point(lambda v: v * v // 255)


def _glow(size: tuple[int, int], x: int, y: int) -> Image.Image:
    """A broad soft light somewhere in the lower half, like a lamp just out of shot."""
    cx, cy = 0.2 + x / 255 * 0.6, 0.45 + y / 255 * 0.4  # centre, as fractions of the canvas
    # Sample the gradient's 256 px square as if it were twice the canvas width, centred there.
    k = 128 / size[0]
    box = (128 - cx * size[0] * k, 128 - cy * size[1] * k)
    box += (box[0] + size[0] * k, box[1] + size[1] * k)
    glow = Image.radial_gradient("L").resize(size, Image.Resampling.BICUBIC, box=box)
    return ImageOps.invert(glow).point(lambda v: v * v // 900)


def _bokeh(size: tuple[int, int], digest: bytes) -> Image.Image:
    """The mask of the lights: big faint discs and small bright ones, as with a fast lens."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for i in range(0, 30, 3):
        x, y = digest[i] / 255 * size[0], digest[i + 1] / 255 * size[1]
        spread = digest[i + 2] / 255
        r = size[1] * (0.02 + spread**2 * 0.14)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=round(130 - spread * 95))
    # Blurring only the mask (not coloured RGBA) avoids dark fringes around each light.
    return mask.filter(ImageFilter.GaussianBlur(size[1] / 120))


def _camera(canvas: Image.Image, t: float, width: int, height: int) -> Image.Image:
    """A crop of the canvas at time t (0..1): an eased push-in with a gentle sideways drift."""
    eased = 0.5 - math.cos(math.pi * t) / 2
    scale = (1 + ZOOM) / (1 + ZOOM * eased)  # crop size relative to the output
    crop_w, crop_h = width * scale, height * scale
    left = (canvas.width - crop_w) * (0.5 + 0.35 * (eased - 0.5))
    top = (canvas.height - crop_h) * 0.45
    box = (left, top, left + crop_w, top + crop_h)
    # BOX averages areas: as smooth as BILINEAR at these gentle scales, and a third cheaper.
    return canvas.resize((width, height), Image.Resampling.BOX, box=box)


def _overlay(prompt: str, width: int, height: int) -> list[Patch]:
    """The caption band and the label, drawn once; each frame only pastes these two pieces."""
    short = min(width, height)
    font = ImageFont.load_default(size=max(14, short // 22))
    small = ImageFont.load_default(size=max(11, short // 44))
    patches = [(_label(small, short // 40), (short // 28, short // 28))]
    if prompt.strip():
        band = _caption(prompt, font, width)
        patches.append((band, (0, height - band.height)))
    return patches


def _inset(face: Image.Image, width: int, height: int) -> Patch:
    """The subject's face as a rounded, bordered square in the top-right corner."""
    short = min(width, height)
    side, margin = round(short * INSET), short // 28
    border, radius = max(2, short // 180), side // 8
    square = ImageOps.fit(face, (side, side), Image.Resampling.LANCZOS).convert("RGBA")
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, side - 1, side - 1), radius, fill=255)
    square.putalpha(mask)
    ImageDraw.Draw(square).rounded_rectangle(
        (0, 0, side - 1, side - 1), radius, outline=(255, 255, 255, 230), width=border
    )
    return square, (width - side - margin, margin)


def _caption(prompt: str, font: Font, width: int) -> Image.Image:
    """White text over a dark band that fades in from the top, with a soft shadow for legibility."""
    lines = _wrap(prompt, font, width * 0.84)
    size = font.size
    line_h = round(size * 1.32)
    text_top = round(size * 2.6)  # room for the fade above the text
    band = Image.new("RGBA", (width, text_top + line_h * len(lines) + size), (0, 0, 0, 0))
    # Eased, so the band has no visible top edge; 175/255 keeps white text legible on any image.
    fade = Image.linear_gradient("L").resize((width, round(size * 3.2)))
    fade = fade.point(lambda v: round(175 * (v / 255) ** 2 * (3 - 2 * v / 255)))
    alpha = Image.new("L", band.size, 175)
    alpha.paste(fade, (0, 0))
    text = Image.new("L", band.size, 0)
    draw = ImageDraw.Draw(text)
    for row, line in enumerate(lines):
        draw.text((width / 2, text_top + row * line_h), line, font=font, fill=255, anchor="mt")
    shadow = text.filter(ImageFilter.GaussianBlur(size / 10))
    band.putalpha(ImageChops.lighter(alpha, shadow))
    white = Image.new("RGBA", band.size, (255, 255, 255, 255))
    return Image.composite(white, band, text)


def _label(font: Font, pad: int) -> Image.Image:
    """ "Local renderer — no AI" on a dark pill. Pillow's bundled font has no em dash glyph, so
    the dash is drawn as a line between the two words."""
    left, right = LABEL.split(" — ")
    gap, dash = font.size * 0.35, font.size * 0.9
    dash_x = pad + font.getlength(left) + gap
    right_x = dash_x + dash + gap
    ascent, descent = font.getmetrics()
    size = (round(right_x + font.getlength(right) + pad), ascent + descent + pad)
    pill = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(pill)
    draw.rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), size[1] // 2, (0, 0, 0, 150))
    amber, y, mid = (255, 214, 120, 255), pad / 2, pad / 2 + ascent * 0.62
    draw.text((pad, y), left, font=font, fill=amber)
    draw.line((dash_x, mid, dash_x + dash, mid), amber, max(1, font.size // 12))
    draw.text((right_x, y), right, font=font, fill=amber)
    return pill


def _wrap(text: str, font: Font, max_width: float, max_lines: int = 3) -> list[str]:
    """Greedy word wrap by measured width: at most three lines, an ellipsis if text was left."""
    lines: list[str] = []
    for word in text.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(joined) <= max_width:
            lines[-1] = joined
        elif len(lines) < max_lines:
            lines.append(word)
        else:  # a fourth line would start; stop measuring words nobody will see
            lines[-1] = lines[-1].rstrip(" .,;:") + "…"
            break
    return [_fit(line, font, max_width) for line in lines]


def _fit(line: str, font: Font, max_width: float) -> str:
    """Shortens a line that still overflows, such as a pasted URL, ending it with an ellipsis."""
    if font.getlength(line) <= max_width:
        return line
    # Hardly any glyph is narrower than a fifth of the size: this cut keeps the loop below short.
    line = line.removesuffix("…")[: int(max_width / font.size * 5)]
    while line and font.getlength(line.rstrip(" .,;:") + "…") > max_width:
        line = line[:-1]
    return line.rstrip(" .,;:") + "…"
