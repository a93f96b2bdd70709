"""The value types of the API's input schemas, each refusing a bad value in the words the API
has always used ("maxJobs must be from 1 to 10"): the exception handler writes each error as
its field's name followed by the message. Form bodies and query strings arrive as text, JSON
bodies as JSON values; every type takes both."""

from typing import Annotated, Any

from django import forms
from django.core.exceptions import ValidationError
from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from studio.lib.forms import whole_number

REQUIRED = "This field is required."


def refusal(message: str) -> PydanticCustomError:
    """A validation error whose message is exactly `message` (braces and all)."""
    return PydanticCustomError("refused", "{message}", {"message": message})


def text(
    *, max_length: int | None = None, too_long: str = "", strip: bool = True, required=False
) -> Any:
    """A string; absent or blank is "" (or refused, when required)."""

    def check(value: object) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise refusal("must be a string")
        if strip:
            value = value.strip()
        if required and not value:
            raise refusal(REQUIRED)
        if max_length is not None and len(value) > max_length:
            raise refusal(
                too_long
                or f"Ensure this value has at most {max_length} characters (it has {len(value)})."
            )
        return value

    return Annotated[str, BeforeValidator(check), Field(max_length=max_length)]


def whole(*, low: int, high: int, out_of_range: str = "", required=False) -> Any:
    """A whole number in ASCII digits (a JSON integer, or text), from `low` to `high`."""

    def check(value: object) -> int | None:
        if value is None or value == "":
            if required:
                raise refusal(REQUIRED)
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            number = whole_number(value) if isinstance(value, str) else None
            if number is None:
                raise refusal(f"must be a whole number, not {value!r}")
        if number < low:
            raise refusal(out_of_range or f"Ensure this value is greater than or equal to {low}.")
        if number > high:
            raise refusal(out_of_range or f"Ensure this value is less than or equal to {high}.")
        return number

    kind = int if required else int | None
    schema = {"type": "integer", "minimum": low, "maximum": high}
    return Annotated[kind, BeforeValidator(check), WithJsonSchema(schema)]


def _flag(value: object) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise refusal(f"must be true or false, not {value!r}")


# true or false, as JSON or as text ("false" from a form); absent is None.
Flag = Annotated[bool | None, BeforeValidator(_flag)]


def choice(values: list[str]) -> Any:
    """One of `values`, or "" when absent."""

    def check(value: object) -> str:
        if value in (None, ""):
            return ""
        if str(value) not in values:
            raise refusal(f"Select a valid choice. {value} is not one of the available choices.")
        return str(value)

    schema = {"type": "string", "enum": [*values, ""]}
    return Annotated[str, BeforeValidator(check), WithJsonSchema(schema)]


def _account(value: object) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int) or "\x00" in str(value):
        raise refusal("must be an account id (a string)")
    return str(value)


# An account's id (or its name), as text or a JSON number; "" when absent.
AccountRef = Annotated[str, BeforeValidator(_account)]

_URL = forms.URLField(required=False, assume_scheme="https")


def _url(value: object) -> str:
    # Django's URLField rules: the same URLs the account page takes.
    try:
        return _URL.clean(value)
    except ValidationError as exc:
        raise refusal("; ".join(exc.messages)) from None


Url = Annotated[str, BeforeValidator(_url), WithJsonSchema({"type": "string", "format": "uri"})]
