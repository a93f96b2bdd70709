import re

from django import forms

# ASCII digits only: str.isdigit() and int() also take "①" or "²" (which int() then refuses)
# and "١٢"; and int() refuses more than 4,300 digits.
_WHOLE = re.compile(r"-?[0-9]+")


# A number with more significant digits than this is past every field's max_value and past a
# 64-bit id: it is read as 10**19, so the field refuses it in its own words, unparsed.
_MAX_DIGITS = 19


def _whole(text: str) -> int | None:
    """The integer `text` writes in ASCII digits, or None."""
    text = text.strip()
    if not _WHOLE.fullmatch(text):
        return None
    negative, digits = text.startswith("-"), text.lstrip("-").lstrip("0")
    if len(digits) > _MAX_DIGITS:
        return -(10**_MAX_DIGITS) if negative else 10**_MAX_DIGITS
    return int(text)


class WholeNumberField(forms.IntegerField):
    """A whole number in ASCII digits, within bounds: max_value is required (see _whole)."""

    def __init__(self, *, max_value: int, **kwargs):
        super().__init__(max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # max_value and min_value check it
        number = _whole(value) if isinstance(value, str) else None
        if number is None:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            )
        return number


# A row id: a cursor, a team to switch to. Ids are 64-bit on every database the studio runs on.
MAX_ID = 2**63 - 1


def form_status(form) -> int:
    """A page showing a form with errors answers 400, so scripts and tests can tell."""
    return 400 if form.errors else 200
