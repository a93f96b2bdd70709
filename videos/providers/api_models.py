"""The models useapi.net's POST videos/create names, and which of its fields each takes
(reference/useapi-minimax.md §4). A create is checked here before anything is kept, so a field
a model does not take is refused naming the models that do, instead of reaching an upstream.

Models MiniMax's own API runs map onto catalog.MODELS and can go to any account; the rest
(Sora, Veo, Seedance) only a useapi.net account can run, so their fields are kept as sent and
passed through to one. Plain data: no HTTP here.
"""

import re
from dataclasses import dataclass, field

from videos.providers.catalog import MODELS, OptionRefused

_HAILUO_02 = ("512p-6sec", "512p-10sec", "768p-6sec", "768p-10sec", "1080p-6sec")
_HAILUO_23 = ("768p-6sec", "768p-10sec", "1080p-6sec")
_VEO = ("veo-720p-8sec", "veo-1080p-8sec", "veo-4k-8sec")
_SORA = ("720p-4sec", "720p-8sec", "720p-12sec")
_WIDE = ("16:9", "9:16")
_SEEDANCE_RATIOS = ("Auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
_SEEDANCE_RESOLUTIONS = ("480", "720", "1080", "4K")
MEDIA_FIELDS = tuple(f"{kind}FileID{n}" for kind in ("video", "audio") for n in (1, 2, 3))
REFERENCE_FIELDS = tuple(f"fileID{n}" for n in range(2, 15))


@dataclass(frozen=True)
class ApiModel:
    name: str
    minimax: str = ""  # MiniMax's name for it; "" when only useapi.net runs it
    options: tuple[str, ...] = ()
    end_frame: bool = False
    references: int = 0  # fileID2 … fileID<references + 1>
    media: bool = False  # videoFileID1..3, audioFileID1..3
    resolutions: tuple[str, ...] = ()
    durations: tuple[int, int] | None = None  # inclusive range
    aspect_ratios: tuple[str, ...] = ()
    prompt_max: int = 2000
    needs_image: bool = False  # fileID is required (image-to-video names, Veo's S2V)
    text_only: bool = False  # fileID is refused (text-to-video names)


def _seedance(name: str, resolutions: tuple[str, ...]) -> ApiModel:
    return ApiModel(
        name,
        references=8,
        media=True,
        resolutions=resolutions,
        durations=(4, 15),
        aspect_ratios=_SEEDANCE_RATIOS,
        prompt_max=7500,
    )


API_MODELS: dict[str, ApiModel] = {
    m.name: m
    for m in (
        # useapi.net names the mode in the model (T2V, I2V); MiniMax's 2.3 does both, so the
        # name, not the model, says whether fileID is wanted.
        ApiModel("T2V-01", "T2V-01", text_only=True),
        ApiModel("I2V-01", "I2V-01", needs_image=True),
        ApiModel("I2V-01-live", "I2V-01-live", needs_image=True),
        ApiModel("T2V-01-Director", "T2V-01-Director", text_only=True),
        ApiModel("I2V-01-Director", "I2V-01-Director", needs_image=True),
        ApiModel("S2V-01", "S2V-01"),
        ApiModel("02", "MiniMax-Hailuo-02", _HAILUO_02, end_frame=True),
        ApiModel("T2V-2.3", "MiniMax-Hailuo-2.3", _HAILUO_23, text_only=True),
        ApiModel("I2V-2.3", "MiniMax-Hailuo-2.3", _HAILUO_23, needs_image=True),
        ApiModel("I2V-2.3-Fast", "MiniMax-Hailuo-2.3-Fast", _HAILUO_23, needs_image=True),
        # MiniMax's own names, which the studio has always taken too.
        ApiModel("MiniMax-Hailuo-02", "MiniMax-Hailuo-02", _HAILUO_02, end_frame=True),
        ApiModel("MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3", _HAILUO_23),
        ApiModel("MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-2.3-Fast", _HAILUO_23),
        ApiModel("Sora-2", options=_SORA, aspect_ratios=_WIDE),
        ApiModel("Veo-3.1", options=_VEO, end_frame=True, aspect_ratios=_WIDE),
        ApiModel("Veo-3.1-Fast", options=_VEO, end_frame=True, aspect_ratios=_WIDE),
        ApiModel("Veo-3.1-S2V", options=_VEO, references=13, aspect_ratios=_WIDE, needs_image=True),
        ApiModel(
            "Veo-3.1-S2V-Fast", options=_VEO, references=13, aspect_ratios=_WIDE, needs_image=True
        ),
        _seedance("Seedance-2.0", _SEEDANCE_RESOLUTIONS),
        _seedance("Seedance-2.0-Fast", ("480", "720")),
        _seedance("Seedance-2.0-Mini", ("480", "720")),
    )
}
assert all(m.minimax in MODELS for m in API_MODELS.values() if m.minimax)

DOCUMENTED = (
    "options",
    "end_frame_fileID",
    "aspectRatio",
    "resolution",
    "duration",
    *REFERENCE_FIELDS,
    *MEDIA_FIELDS,
)
# What each documented field needs of a model, to name the models a misplaced field fits.
_TAKES = {
    "options": lambda m: bool(m.options),
    "end_frame_fileID": lambda m: m.end_frame,
    "aspectRatio": lambda m: bool(m.aspect_ratios),
    "resolution": lambda m: bool(m.resolutions),
    "duration": lambda m: m.durations is not None,
    **{f: (lambda m, n=n: m.references >= n - 1) for n, f in enumerate(REFERENCE_FIELDS, 2)},
    **dict.fromkeys(MEDIA_FIELDS, lambda m: m.media),
}


@dataclass(frozen=True)
class ApiChoice:
    """What a create asks for, in the studio's terms."""

    model: str = ""  # MiniMax's name, a useapi.net-only model's name, or "" (the default)
    resolution: str = ""
    duration: int | None = None
    subject: bool = False  # fileID is the face of a subject reference (S2V-01)
    needs_image: bool = False  # fileID is required
    text_only: bool = False  # fileID is refused
    useapi_only: bool = False
    passthrough: dict = field(default_factory=dict)  # useapi.net's fields, as sent
    prompt_max: int = 2000


def api_choice(model: str, fields: dict[str, object]) -> ApiChoice:
    """useapi.net's `model` and the other documented fields that were sent (non-empty ones
    only) as the studio's choice; raises OptionRefused naming the field to change."""
    spec = API_MODELS.get(model) if model else None
    if model and spec is None:
        raise OptionRefused(
            f"model {model!r} is not one the studio or useapi.net runs; choose one of: "
            f"{', '.join(API_MODELS)}.",
            field="model",
        )
    for name in fields:
        if spec is None and name != "end_frame_fileID" and name != "options":
            _misplaced(name, "the default model")
        if spec is not None and not _TAKES[name](spec):
            _misplaced(name, spec.name)
    if spec is None:
        return ApiChoice(**_options(MODELS_DEFAULT_OPTIONS, fields.get("options")))
    if spec.minimax:
        chosen = _options(spec, fields.get("options"))
        return ApiChoice(
            model=spec.minimax,
            subject=spec.name == "S2V-01",
            needs_image=spec.needs_image,
            text_only=spec.text_only,
            **chosen,
        )
    return ApiChoice(
        model=spec.name,
        useapi_only=True,
        needs_image=spec.needs_image,
        passthrough=_passthrough(spec, fields),
        prompt_max=spec.prompt_max,
    )


# Without a model the account's default runs it: any "768p-6sec"-shaped options is taken and
# checked against that model when the video is sent (the catalog knows its limits).
MODELS_DEFAULT_OPTIONS = ApiModel("default")


def _options(spec: ApiModel, options: object) -> dict:
    if not options:
        return {}
    text = str(options).strip().lower()
    if spec.options and text not in spec.options:
        raise OptionRefused(
            f"options {options!r} is not one {spec.name} takes: {', '.join(spec.options)}.",
            field="options",
        )
    match = re.fullmatch(r"([0-9]{3,4})p-([0-9]{1,2})sec", text)
    if match is None:
        raise OptionRefused(f'options {options!r} is not of the form "768p-6sec".', field="options")
    return {"resolution": f"{match[1]}P", "duration": int(match[2])}


def _passthrough(spec: ApiModel, fields: dict[str, object]) -> dict:
    sent: dict[str, object] = {}
    if "options" in fields:
        option = str(fields["options"]).strip().lower()
        if option not in spec.options:
            raise OptionRefused(
                f"options {fields['options']!r} is not one {spec.name} takes: "
                f"{', '.join(spec.options)}.",
                field="options",
            )
        sent["options"] = option
    if "aspectRatio" in fields:
        ratio = _one_of(spec.aspect_ratios, fields["aspectRatio"])
        if ratio is None:
            raise OptionRefused(
                f"aspectRatio {fields['aspectRatio']!r} is not one {spec.name} takes: "
                f"{', '.join(spec.aspect_ratios)}.",
                field="aspectRatio",
            )
        sent["aspectRatio"] = ratio
    if "resolution" in fields:
        given = str(fields["resolution"]).strip().lower().removesuffix("p")
        resolution = _one_of(spec.resolutions, given)
        if resolution is None:
            raise OptionRefused(
                f"resolution {fields['resolution']!r} is not one {spec.name} takes: "
                f"{', '.join(spec.resolutions)}.",
                field="resolution",
            )
        sent["resolution"] = resolution
    if "duration" in fields:
        low, high = spec.durations or (0, 0)
        if not isinstance(fields["duration"], int) or not low <= fields["duration"] <= high:
            raise OptionRefused(
                f"duration {fields['duration']!r}: {spec.name} makes videos of {low} to "
                f"{high} seconds; give a whole number in that range.",
                field="duration",
            )
        sent["duration"] = fields["duration"]
    for name in MEDIA_FIELDS:
        if name in fields:
            raise OptionRefused(
                f"{name}: the studio stores image uploads only, so it has no video or audio "
                f"file to give {spec.name}; leave {name} out (see the README's API section).",
                field=name,
            )
    return sent


def _one_of(allowed: tuple[str, ...], value: object) -> str | None:
    """`value` as spelled in `allowed`, matched without regard to case."""
    text = str(value).strip().lower()
    return next((a for a in allowed if a.lower() == text), None)


def _misplaced(name: str, model: str) -> None:
    fits = [m.name for m in API_MODELS.values() if _TAKES[name](m)]
    raise OptionRefused(
        f"{name} is not taken by {model}; it applies to {', '.join(fits)}. "
        f"Leave {name} out or choose one of those models.",
        field=name,
    )


def reference_fields(fields: dict[str, object]) -> list[str]:
    """The fileID2.. fields sent, in order; refused unless they are contiguous from fileID2."""
    sent = [name for name in REFERENCE_FIELDS if fields.get(name)]
    expected = list(REFERENCE_FIELDS[: len(sent)])
    if sent != expected:
        gap = next(f for f, s in zip(expected, sent, strict=False) if f != s)
        raise OptionRefused(
            f"{gap} is missing: reference images fill fileID2, fileID3, … without gaps.",
            field=gap,
        )
    return sent
