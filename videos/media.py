"""What a downloaded video is: its size, length and a poster frame, read with PyAV.

Upstream files are checked here before they reach the gallery, so a truncated download or an
error page saved as .mp4 is refused (and fetched again) instead of being shown as a broken clip.
"""

from dataclasses import dataclass
from pathlib import Path

import av

POSTER_AT_SECONDS = 1.0


class NotAVideo(Exception):
    pass


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration: float
    poster: Path


def probe(path: Path, *, poster: Path) -> VideoInfo:
    """Reads the video's geometry and writes a JPEG of the frame one second in (or the last
    frame, for a shorter clip). Decodes a handful of frames, never the whole file."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise NotAVideo("it has no video track")
            stream = container.streams.video[0]
            duration = _duration(container, stream)
            frame = None
            for frame in container.decode(stream):
                if frame.time is not None and frame.time >= min(POSTER_AT_SECONDS, duration / 2):
                    break
            if frame is None:
                raise NotAVideo("it has no frames")
            frame.to_image().convert("RGB").save(poster, "JPEG", quality=85)
            return VideoInfo(frame.width, frame.height, duration, poster)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise NotAVideo(str(exc)) from exc


def _duration(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0
