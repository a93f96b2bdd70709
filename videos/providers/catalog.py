"""MiniMax's video models and what each accepts (reference/minimax-api.md §2).

Checked before anything is sent, so a choice MiniMax would refuse is refused in the form with a
message that says what to pick instead. Plain data: no HTTP here.
"""

from dataclasses import dataclass

from studio.lib.errors import ServiceError
from videos.providers.base import Job

T2V, I2V, FL2V, SUBJECT = "text", "image", "first+last frame", "subject reference"


@dataclass(frozen=True)
class Model:
    name: str
    modes: frozenset[str]
    # resolution -> allowed durations (seconds)
    matrix: dict[str, tuple[int, ...]]
    default_resolution: str
    # The 01 series rejects duration/resolution fields altogether (reference §2 note): omit them.
    sends_options: bool = True
    # useapi.net names the same model differently, per mode.
    useapi_names: dict[str, str] | None = None


_HAILUO_23 = {"768P": (6, 10), "1080P": (6,)}
MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model(
            "MiniMax-Hailuo-2.3",
            frozenset({T2V, I2V}),
            _HAILUO_23,
            "768P",
            useapi_names={T2V: "T2V-2.3", I2V: "I2V-2.3"},
        ),
        Model(
            "MiniMax-Hailuo-2.3-Fast",
            frozenset({I2V}),
            _HAILUO_23,
            "768P",
            useapi_names={I2V: "I2V-2.3-Fast"},
        ),
        Model(
            "MiniMax-Hailuo-02",
            frozenset({T2V, I2V, FL2V}),
            {"512P": (6, 10), "768P": (6, 10), "1080P": (6,)},
            "768P",
            useapi_names={T2V: "02", I2V: "02", FL2V: "02"},
        ),
        Model("T2V-01-Director", frozenset({T2V}), {"720P": (6,)}, "720P", False),
        Model("T2V-01", frozenset({T2V}), {"720P": (6,)}, "720P", False),
        Model("I2V-01-Director", frozenset({I2V}), {"720P": (6,)}, "720P", False),
        Model("I2V-01-live", frozenset({I2V}), {"720P": (6,)}, "720P", False),
        Model("I2V-01", frozenset({I2V}), {"720P": (6,)}, "720P", False),
        # A character's face (subject_reference) instead of a first frame; one image only.
        Model("S2V-01", frozenset({SUBJECT}), {"720P": (6,)}, "720P", False),
    )
}
DEFAULT_MODEL = {
    T2V: "MiniMax-Hailuo-2.3",
    I2V: "MiniMax-Hailuo-2.3",
    FL2V: "MiniMax-Hailuo-02",
    SUBJECT: "S2V-01",
}
RESOLUTIONS = ("512P", "720P", "768P", "1080P")
DURATIONS = (6, 10)


class OptionRefused(ServiceError, ValueError):
    """A choice the upstream would refuse. A ServiceError, so forms and the API put it on its
    `field`; a ValueError, as the providers have always raised for it at send time."""


@dataclass(frozen=True)
class Options:
    model: str
    resolution: str
    duration: int
    mode: str


def mode_for(*, has_image: bool, has_last_image: bool, has_subject: bool = False) -> str:
    if has_subject:
        return SUBJECT
    if has_last_image:
        return FL2V
    return I2V if has_image else T2V


def check_options(
    *,
    model: str = "",
    resolution: str = "",
    duration: int | None = None,
    has_image: bool = False,
    has_last_image: bool = False,
    has_subject: bool = False,
    default_model: str = "",
) -> Options:
    """Fills in defaults and checks the combination; raises OptionRefused saying what to change.

    The one place the rule lives: forms, the API and services reach it through `check_choices`,
    the providers call it at send time with the account's default model.
    """
    if has_last_image and not has_image:
        raise OptionRefused(
            "A last frame needs a first frame too: add the first-frame image.", field="image"
        )
    if has_subject and (has_image or has_last_image):
        raise OptionRefused(
            "A character (face) reference video has no first or last frame: S2V-01 takes the "
            "face alone. Remove the frame images, or the face.",
            field="subject_image",
        )
    mode = mode_for(has_image=has_image, has_last_image=has_last_image, has_subject=has_subject)
    if not model and default_model in MODELS and mode in MODELS[default_model].modes:
        model = default_model
    name = model or DEFAULT_MODEL[mode]
    spec = MODELS.get(name)
    if spec is None:
        raise OptionRefused(
            f"Unknown model {name!r}. Choose one of: {', '.join(MODELS)}.", field="model"
        )
    if mode not in spec.modes:
        fits = [m.name for m in MODELS.values() if mode in m.modes]
        if SUBJECT in spec.modes:
            message = f"{name} needs a character (face) reference image and nothing else."
        else:
            message = f"{name} does not do {mode} to video. For that, choose {' or '.join(fits)}."
        raise OptionRefused(message, field="model")
    resolution = (resolution or spec.default_resolution).upper()
    allowed = spec.matrix.get(resolution)
    if mode == FL2V and resolution == "512P":
        allowed = None
    if mode == T2V and name == "MiniMax-Hailuo-02" and resolution == "512P":
        allowed = None  # 512P is image-to-video only on Hailuo-02
    if allowed is None:
        offered = [r for r in spec.matrix if not (r == "512P" and mode != I2V)]
        raise OptionRefused(
            f"{name} does not make {resolution} videos; choose {', '.join(offered)}.",
            field="resolution",
        )
    duration = duration or allowed[0]
    if duration not in allowed:
        secs = " or ".join(f"{d} s" for d in allowed)
        raise OptionRefused(
            f"{name} at {resolution} makes {secs} videos, not {duration} s.", field="duration"
        )
    return Options(model=name, resolution=resolution, duration=duration, mode=mode)


def check_choices(
    *,
    model: str = "",
    resolution: str = "",
    duration: int | None = None,
    has_image: bool = False,
    has_last_image: bool = False,
    has_subject: bool = False,
) -> None:
    """What a submission asks for, checked before it is kept (by the page's form, the API and
    `video_submit` alike). Nothing chosen is left to the account's default model at send time,
    which only the account knows; raises OptionRefused naming the field to change."""
    if model or resolution or duration or has_last_image or has_subject:
        check_options(
            model=model,
            resolution=resolution,
            duration=duration,
            has_image=has_image,
            has_last_image=has_last_image,
            has_subject=has_subject,
        )


def useapi_request(options: Options) -> dict:
    """The model and options fields of a useapi.net create for the same choice."""
    spec = MODELS[options.model]
    body = {"model": (spec.useapi_names or {}).get(options.mode, spec.name)}
    if spec.sends_options:
        body["options"] = f"{options.resolution.lower()}-{options.duration}sec"
    return body


def job_options(job: Job, *, default_model: str) -> Options:
    """check_options for what a provider is about to send, with its account's default model."""
    return check_options(
        model=job.model,
        resolution=job.resolution,
        duration=job.duration,
        has_image=job.image_path is not None,
        has_last_image=job.last_image_path is not None,
        has_subject=job.subject_image_path is not None,
        default_model=default_model,
    )
