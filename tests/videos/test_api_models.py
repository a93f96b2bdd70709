"""useapi.net's create fields per model (reference/useapi-minimax.md §4), as api_choice takes
them: each documented field is taken by the models the reference lists for it and refused, naming
the field and those models, by every other one. The tables here are written out from the
reference, not derived from api_models, so a slip there shows as a failure here."""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from videos.providers.api_models import (
    API_MODELS,
    DOCUMENTED,
    ApiChoice,
    api_choice,
    reference_fields,
)
from videos.providers.catalog import OptionRefused

SEEDANCE = ("Seedance-2.0", "Seedance-2.0-Fast", "Seedance-2.0-Mini")
VEO = ("Veo-3.1", "Veo-3.1-Fast")
VEO_S2V = ("Veo-3.1-S2V", "Veo-3.1-S2V-Fast")
HAILUO_02 = ("02", "MiniMax-Hailuo-02")
HAILUO_23 = (
    "T2V-2.3",
    "I2V-2.3",
    "I2V-2.3-Fast",
    "MiniMax-Hailuo-2.3",
    "MiniMax-Hailuo-2.3-Fast",
)
MODELS_01 = ("T2V-01", "I2V-01", "I2V-01-live", "T2V-01-Director", "I2V-01-Director", "S2V-01")
USEAPI_ONLY = ("Sora-2", *VEO, *VEO_S2V, *SEEDANCE)

VEO_OPTIONS = ("veo-720p-8sec", "veo-1080p-8sec", "veo-4k-8sec")
HAILUO_23_OPTIONS = ("768p-6sec", "768p-10sec", "1080p-6sec")
# model -> the `options` it takes (§4's model table).
OPTIONS = {
    **dict.fromkeys(HAILUO_02, ("512p-6sec", "512p-10sec", *HAILUO_23_OPTIONS)),
    **dict.fromkeys(HAILUO_23, HAILUO_23_OPTIONS),
    "Sora-2": ("720p-4sec", "720p-8sec", "720p-12sec"),
    **dict.fromkeys(VEO + VEO_S2V, VEO_OPTIONS),
}
SEEDANCE_RATIOS = ("Auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
ASPECT_RATIOS = {
    "Sora-2": ("16:9", "9:16"),
    **dict.fromkeys(VEO + VEO_S2V, ("16:9", "9:16")),
    **dict.fromkeys(SEEDANCE, SEEDANCE_RATIOS),
}
RESOLUTIONS = {
    "Seedance-2.0": ("480", "720", "1080", "4K"),
    "Seedance-2.0-Fast": ("480", "720"),
    "Seedance-2.0-Mini": ("480", "720"),
}
MEDIA = tuple(f"{kind}FileID{n}" for kind in ("video", "audio") for n in (1, 2, 3))
# field -> the models that take it.
TAKEN_BY = {
    "options": tuple(OPTIONS),
    "end_frame_fileID": (*HAILUO_02, *VEO),
    "aspectRatio": tuple(ASPECT_RATIOS),
    "resolution": SEEDANCE,
    "duration": SEEDANCE,
    **{f"fileID{n}": (*VEO_S2V, *SEEDANCE) for n in range(2, 10)},  # Seedance: up to 9 images
    **{f"fileID{n}": VEO_S2V for n in range(10, 15)},  # Veo S2V: up to 14
    **dict.fromkeys(MEDIA, SEEDANCE),
}


def refusal(model: str, fields: dict) -> OptionRefused:
    with pytest.raises(OptionRefused) as caught:
        api_choice(model, fields)
    return caught.value


def a_value(field: str, model: str) -> object:
    """A value of `field` that `model` takes (any value, for a model that does not take it)."""
    if field == "options":
        return OPTIONS.get(model, ("768p-6sec",))[-1]
    if field == "aspectRatio":
        return ASPECT_RATIOS.get(model, ("16:9",))[-1]
    if field == "resolution":
        return RESOLUTIONS.get(model, ("720",))[-1]
    if field == "duration":
        return 5
    return "user:1-minimax:auto-file:1"


def test_the_tables_here_cover_every_documented_field_and_model():
    assert set(TAKEN_BY) == set(DOCUMENTED)
    assert set(API_MODELS) == {*HAILUO_02, *HAILUO_23, *MODELS_01, *USEAPI_ONLY}


ACCEPTED = [(f, m) for f, models in TAKEN_BY.items() if f not in MEDIA for m in models]
REFUSED = [(f, m) for f, models in TAKEN_BY.items() for m in API_MODELS if m not in models]


@pytest.mark.parametrize(("field", "model"), ACCEPTED)
def test_a_documented_field_is_taken_by_each_model_it_applies_to(field, model):
    choice = api_choice(model, {field: a_value(field, model)})
    assert isinstance(choice, ApiChoice)
    assert choice.useapi_only == (model in USEAPI_ONLY)


@pytest.mark.parametrize(("field", "model"), REFUSED)
def test_a_documented_field_is_refused_by_a_model_it_does_not_apply_to(field, model):
    exc = refusal(model, {field: a_value(field, model)})
    assert exc.field == field
    assert exc.message.startswith(f"{field} is not taken by {model};")
    listed = exc.message.split("it applies to ", 1)[1].split(". ", 1)[0].split(", ")
    assert listed == [m for m in API_MODELS if m in TAKEN_BY[field]]


@pytest.mark.parametrize("field", MEDIA)
@pytest.mark.parametrize("model", SEEDANCE)
def test_video_and_audio_file_ids_are_refused_as_the_studio_stores_images_only(field, model):
    exc = refusal(model, {field: "user:1-minimax:auto-file:1"})
    assert exc.field == field
    assert exc.message.startswith(f"{field}: the studio stores image uploads only")
    assert f"leave {field} out" in exc.message


@pytest.mark.parametrize("model", [m for m in API_MODELS if m not in OPTIONS])
def test_a_model_without_presets_refuses_any_options(model):
    assert refusal(model, {"options": "768p-6sec"}).field == "options"


@pytest.mark.parametrize(("model", "options"), OPTIONS.items())
def test_each_model_takes_exactly_its_options_and_lists_them_when_refusing(model, options):
    for option in options:
        choice = api_choice(model, {"options": option.upper()})  # any case
        if model in USEAPI_ONLY:
            assert choice.passthrough == {"options": option}
        else:
            resolution, seconds = option.removesuffix("sec").split("p-")
            assert (choice.resolution, choice.duration) == (f"{resolution}P", int(seconds))
    wrong = "1080p-10sec"
    exc = refusal(model, {"options": wrong})
    assert exc.field == "options"
    assert exc.message == f"options {wrong!r} is not one {model} takes: {', '.join(options)}."


@pytest.mark.parametrize(
    ("model", "minimax"),
    [
        ("02", "MiniMax-Hailuo-02"),
        ("T2V-2.3", "MiniMax-Hailuo-2.3"),
        ("I2V-2.3", "MiniMax-Hailuo-2.3"),
        ("I2V-2.3-Fast", "MiniMax-Hailuo-2.3-Fast"),
        ("MiniMax-Hailuo-02", "MiniMax-Hailuo-02"),
        *[(m, m) for m in MODELS_01],
    ],
)
def test_useapis_names_map_onto_minimaxs_models(model, minimax):
    choice = api_choice(model, {})
    assert (choice.model, choice.useapi_only, choice.passthrough) == (minimax, False, {})
    assert choice.subject == (model == "S2V-01")


@pytest.mark.parametrize("model", USEAPI_ONLY)
def test_a_model_only_useapi_runs_is_kept_by_its_own_name(model):
    choice = api_choice(model, {})
    assert (choice.model, choice.useapi_only, choice.passthrough) == (model, True, {})
    assert choice.prompt_max == (7500 if model in SEEDANCE else 2000)


def test_without_a_model_a_preset_is_taken_for_the_accounts_default_to_check():
    assert api_choice("", {"options": "768p-6sec"}) == ApiChoice(resolution="768P", duration=6)
    assert api_choice("", {"end_frame_fileID": "x"}) == ApiChoice()
    exc = refusal("", {"options": "huge"})
    assert (exc.field, exc.message) == (
        "options",
        "options 'huge' is not of the form \"768p-6sec\".",
    )


@pytest.mark.parametrize(
    "field", ["aspectRatio", "resolution", "duration", "fileID2", "audioFileID1"]
)
def test_without_a_model_the_other_models_fields_are_refused(field):
    exc = refusal("", {field: a_value(field, "")})
    assert exc.field == field
    assert exc.message.startswith(f"{field} is not taken by the default model; it applies to ")


@pytest.mark.parametrize("model", ["Sora-3", "veo-3.1", "model", "Seedance"])
def test_an_unknown_model_names_the_choices_and_says_model_once(model):
    exc = refusal(model, {})
    assert exc.field == "model"
    assert exc.message.startswith(f"model {model!r} is not one the studio or useapi.net runs")
    assert "model model" not in exc.message.lower()
    assert exc.message.endswith(f"choose one of: {', '.join(API_MODELS)}.")


# Seedance


@pytest.mark.parametrize(("model", "resolutions"), RESOLUTIONS.items())
def test_seedance_takes_its_resolutions_in_any_case_with_or_without_a_p(model, resolutions):
    for resolution in resolutions:
        for sent in (
            resolution,
            resolution.lower(),
            f"{resolution}p" if resolution != "4K" else "4k",
        ):
            assert api_choice(model, {"resolution": sent}).passthrough == {"resolution": resolution}
    for wrong in [r for r in ("360", "480", "1080", "4K", "2K") if r not in resolutions]:
        exc = refusal(model, {"resolution": wrong})
        assert exc.field == "resolution" and ", ".join(resolutions) in exc.message


def test_seedance_takes_a_resolution_with_a_capital_p():
    assert api_choice("Seedance-2.0", {"resolution": "1080P"}).passthrough == {"resolution": "1080"}


@pytest.mark.parametrize("model", SEEDANCE)
def test_seedance_takes_4_to_15_seconds(model):
    for seconds in (4, 5, 15):
        assert api_choice(model, {"duration": seconds}).passthrough == {"duration": seconds}
    for wrong in (3, 16, 0, -5, "8", 7.5):
        exc = refusal(model, {"duration": wrong})
        assert exc.field == "duration"
        assert "makes videos of 4 to 15 seconds" in exc.message


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("auto", "Auto"), ("AUTO", "Auto"), ("Auto", "Auto"), (" 21:9 ", "21:9"), ("1:1", "1:1")],
)
def test_seedance_takes_an_aspect_ratio_in_any_case(sent, kept):
    assert api_choice("Seedance-2.0", {"aspectRatio": sent}).passthrough == {"aspectRatio": kept}


@pytest.mark.parametrize(("model", "ratios"), ASPECT_RATIOS.items())
def test_each_model_refuses_an_aspect_ratio_it_does_not_make_listing_those_it_does(model, ratios):
    exc = refusal(model, {"aspectRatio": "5:4"})
    assert exc.field == "aspectRatio"
    assert exc.message == f"aspectRatio '5:4' is not one {model} takes: {', '.join(ratios)}."
    if "Auto" not in ratios:
        assert refusal(model, {"aspectRatio": "auto"}).field == "aspectRatio"


def test_a_seedance_create_keeps_every_field_as_useapi_spells_it():
    sent = {"aspectRatio": "auto", "resolution": "4k", "duration": 15, "fileID2": "a"}
    choice = api_choice("Seedance-2.0", sent)
    assert choice.passthrough == {"aspectRatio": "Auto", "resolution": "4K", "duration": 15}
    assert (choice.resolution, choice.duration) == ("", None), "not MiniMax's options"


# Reference images: fileID2 … fileID14


def test_reference_fields_are_listed_in_order_from_file_id_2():
    sent = {f"fileID{n}": f"ref-{n}" for n in (4, 2, 3)}
    assert reference_fields(sent) == ["fileID2", "fileID3", "fileID4"]
    assert reference_fields({"fileID": "first"}) == []
    every = {f"fileID{n}": "x" for n in range(2, 15)}
    assert reference_fields(every) == list(every)


@pytest.mark.parametrize(
    ("sent", "missing"),
    [
        (("fileID3",), "fileID2"),
        (("fileID2", "fileID4"), "fileID3"),
        (("fileID2", "fileID3", "fileID14"), "fileID4"),
    ],
)
def test_a_gap_in_the_reference_fields_is_refused_naming_the_missing_one(sent, missing):
    with pytest.raises(OptionRefused) as caught:
        reference_fields(dict.fromkeys(sent, "x"))
    assert caught.value.field == missing
    assert caught.value.message.startswith(f"{missing} is missing: reference images fill fileID2")


def test_a_reference_field_sent_empty_counts_as_not_sent():
    assert reference_fields({"fileID2": "a", "fileID3": "", "fileID4": None}) == ["fileID2"]


@pytest.mark.parametrize(("model", "last"), [("Veo-3.1-S2V", 14), ("Seedance-2.0-Mini", 9)])
def test_each_model_takes_references_up_to_its_last_slot(model, last):
    api_choice(model, {f"fileID{n}": "x" for n in range(2, last + 1)})
    if last < 14:  # fileID14 is the last field there is
        exc = refusal(model, {f"fileID{n}": "x" for n in range(2, last + 2)})
        assert exc.field == f"fileID{last + 1}"


# Property: whatever arrives, api_choice answers with a choice or an OptionRefused naming a field.

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.text(st.characters(), max_size=30),
    st.sampled_from(
        ["auto", "4K", "4k", "1080p", "768p-6sec", "VEO-4K-8SEC", "16:9", "9:16", "", " ", "\x00"]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
MODEL_NAMES = st.one_of(st.sampled_from([*API_MODELS, ""]), st.text(st.characters(), max_size=25))


@hypothesis_settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(model=MODEL_NAMES, fields=st.dictionaries(st.sampled_from(DOCUMENTED), VALUES, max_size=6))
def test_api_choice_only_ever_refuses_with_an_option_refused_naming_the_field(model, fields):
    try:
        choice = api_choice(model, fields)
        references = reference_fields(fields)
    except OptionRefused as exc:
        assert exc.field in (*DOCUMENTED, "model")
        assert exc.message.startswith(exc.field), exc.message
        return
    assert set(choice.passthrough) <= {"options", "aspectRatio", "resolution", "duration"}
    json.dumps(choice.passthrough)  # stored in a JSONField as it is
    assert choice.useapi_only == (model in USEAPI_ONLY)
    assert references == sorted(references, key=lambda name: int(name.removeprefix("fileID")))
