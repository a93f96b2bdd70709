"""Where the input schemas read from: ninja param sources that keep the API's strictness.

`JsonOrForm()`: the body, as JSON or as a form (multipart or urlencoded), read as the API has
always read it: at most API_MAX_BODY_BYTES, numbers of sane length, no NUL or lone surrogate
anywhere (studio/lib/textguard.py), every refusal a 400 that names the problem. `StrictQuery()`:
the whole query string, so a schema refuses parameters it does not know."""

import json
import re

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja.params.models import Param, ParamModel

from studio import conf
from studio.api.errors import ApiError
from studio.lib import textguard

_LENGTH = re.compile(r"[0-9]{1,18}")
_MAX_JSON_DIGITS = 100
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def content_length(request: HttpRequest) -> int:
    # Django itself reads a malformed Content-Length as 0; so do we, rather than fail. ASCII
    # digits only: "²".isdigit() is true and int("²") fails.
    value = request.META.get("CONTENT_LENGTH") or "0"
    return int(value) if _LENGTH.fullmatch(value) else 0


def form_fields(request: HttpRequest) -> dict:
    try:
        return request.POST.dict()
    except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError) as exc:
        raise ApiError(400, f"The form body could not be read: {exc}") from None


def read_body(request: HttpRequest) -> dict:
    """The request's fields, from JSON or a form body."""
    data = _decoded_body(request)
    problem = textguard.json_problem(data)
    if problem:
        raise ApiError(400, problem)
    return data


def _decoded_body(request: HttpRequest) -> dict:
    if request.content_type in FORM_TYPES:
        return form_fields(request)
    length = content_length(request)
    limit = conf.API_MAX_BODY_BYTES
    if length > limit:
        raise ApiError(400, f"The body is {length:,} bytes; the limit is {limit:,}.")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(400, f"The body is over {limit:,} bytes.")
    if not raw.strip():
        return {}
    if request.content_type not in ("application/json", "", "text/plain"):
        raise ApiError(
            400,
            f"Send the body as application/json or multipart/form-data, "
            f"not {request.content_type}.",
        )
    try:
        data = json.loads(raw, parse_int=_json_int, parse_constant=_json_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "The body nests too deeply to read; send a flat JSON object.") from None
    if not isinstance(data, dict):
        raise ApiError(400, 'The body must be a JSON object, e.g. {"prompt": "..."}.')
    return data


def _json_int(digits: str) -> int:
    # Python's int() refuses more than 4,300 digits, with advice about sys.set_int_max_str_digits;
    # no field takes a number anywhere near that long.
    if len(digits) > _MAX_JSON_DIGITS:
        raise ApiError(
            400, f"The body holds a number {len(digits):,} digits long; no field takes one."
        )
    return int(digits)


def _json_constant(name: str):
    raise ApiError(400, f"The body is not valid JSON: {name} is not a JSON number.")


class _WholeSchemaModel(ParamModel):
    """One schema fed the whole input of its source, unknown fields and all (ninja would pick
    out the fields it knows, and drop the rest unseen)."""

    @classmethod
    def resolve(cls, request, api, path_params):
        (name,) = cls.model_fields
        data = {name: cls.get_request_data(request, api, path_params)}
        return cls.model_validate(data, context={"request": request})


class _BodyModel(_WholeSchemaModel):
    @classmethod
    def get_request_data(cls, request, api, path_params):
        return read_body(request)


class _QueryModel(_WholeSchemaModel):
    @classmethod
    def get_request_data(cls, request, api, path_params):
        return request.GET.dict()


class JsonOrForm(Param):
    _model = _BodyModel

    def __init__(self, **kwargs):
        super().__init__(..., **kwargs)

    @classmethod
    def _param_source(cls) -> str:
        return "body"


class StrictQuery(Param):
    _model = _QueryModel

    def __init__(self, **kwargs):
        super().__init__(..., **kwargs)

    @classmethod
    def _param_source(cls) -> str:
        return "query"


def form_body_too(schema_name: str) -> dict:
    """openapi_extra for an operation whose JSON body may also come as a form."""
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"requestBody": {"content": {t: {"schema": ref} for t in FORM_TYPES[:1]}}}
