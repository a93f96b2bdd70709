"""useapi.net's create fields for the models only it runs (useapi-minimax.md §4): Sora and Veo's
`aspectRatio`, Seedance's `resolution`/`duration`/`aspectRatio`, and the extra reference images
`fileID2`…`fileID14`. Kept apart from useapi.py, which handles the rest of a create.
"""

import re
from typing import Any

WIDE = ("16:9", "9:16")
SEEDANCE_RATIOS = ("Auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
# Seedance model -> resolutions; it takes resolution and duration instead of `options`.
SEEDANCE = {
    "Seedance-2.0": ("480", "720", "1080", "4K"),
    "Seedance-2.0-Fast": ("480", "720"),
    "Seedance-2.0-Mini": ("480", "720"),
}
SEEDANCE_SECONDS = (4, 15)  # inclusive; 5 when not given
SEEDANCE_PROMPT_MAX = 7500
ASPECT_RATIOS = {
    "Sora-2": WIDE,
    **dict.fromkeys(("Veo-3.1", "Veo-3.1-Fast", "Veo-3.1-S2V", "Veo-3.1-S2V-Fast"), WIDE),
    **dict.fromkeys(SEEDANCE, SEEDANCE_RATIOS),
}
# How many of fileID2, fileID3, … a model takes (on top of fileID).
REFERENCES = {"Veo-3.1-S2V": 13, "Veo-3.1-S2V-Fast": 13, **dict.fromkeys(SEEDANCE, 8)}
REFERENCE_FIELD = re.compile(r"^fileID(\d+)$")


class Invalid(ValueError):
    """A create the real service would refuse with a 400."""


def prompt_max(model: str) -> int:
    return SEEDANCE_PROMPT_MAX if model in SEEDANCE else 2000


def aspect_ratio(body: dict[str, Any], model: str) -> str:
    value = body.get("aspectRatio")
    if value is None:
        return ""
    allowed = ASPECT_RATIOS.get(model)
    if allowed is None:
        raise Invalid(f"Model {model} does not support aspectRatio")
    if value not in allowed:
        raise Invalid(f"aspectRatio {value!r} is not valid for {model}: {', '.join(allowed)}")
    return value


def seedance_size(body: dict[str, Any], model: str) -> tuple[str, int]:
    """(resolution as "1080P", seconds) of a Seedance create."""
    if body.get("options"):
        raise Invalid(f"Model {model} takes resolution and duration, not options")
    resolution = body.get("resolution", "720")
    if str(resolution) not in SEEDANCE[model]:
        raise Invalid(
            f"resolution {resolution!r} is not valid for {model}: {', '.join(SEEDANCE[model])}"
        )
    duration = body.get("duration", 5)
    low, high = SEEDANCE_SECONDS
    if not isinstance(duration, int) or isinstance(duration, bool) or not low <= duration <= high:
        raise Invalid(f"duration must be a whole number of seconds from {low} to {high}")
    resolution = str(resolution)
    return resolution if resolution == "4K" else f"{resolution}P", duration


def no_seedance_fields(body: dict[str, Any], model: str) -> None:
    for name in ("resolution", "duration"):
        if name in body:
            raise Invalid(f"{name} is for Seedance models only; {model} takes options")


def reference_ids(body: dict[str, Any], model: str, has_file: bool) -> list[tuple[str, Any]]:
    """(field, fileID) of fileID2.. in order; they must run from fileID2 without gaps."""
    numbers = sorted(
        int(match.group(1))
        for name in body
        if (match := REFERENCE_FIELD.match(name)) and int(match.group(1)) >= 2 and body[name]
    )
    if not numbers:
        return []
    limit = REFERENCES.get(model, 0)
    if not limit:
        raise Invalid(f"Model {model} does not support fileID{numbers[0]}")
    if not has_file:
        raise Invalid(f"fileID{numbers[0]} needs fileID as the first reference")
    if numbers != list(range(2, len(numbers) + 2)):
        gap = next(n for n, m in zip(range(2, 16), numbers, strict=False) if n != m)
        raise Invalid(f"fileID{gap} is missing: references must fill fileID2, fileID3, … in order")
    if len(numbers) > limit:
        raise Invalid(f"Model {model} takes at most {limit + 1} reference images (fileID..)")
    return [(f"fileID{n}", body[f"fileID{n}"]) for n in numbers]
