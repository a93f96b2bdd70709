import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting

from studio.lib.errors import ServiceError

# ASCII digits only: str.isdigit() and int() also take "①" or "²" (which int() then refuses)
# and "١٢"; and int() refuses more than 4,300 digits.
_WHOLE = re.compile(r"-?[0-9]+")


# A number with more significant digits than this is past every field's max_value and past a
# 64-bit id: it is read as 10**19, so the field refuses it in its own words, unparsed.
_MAX_DIGITS = 19


def whole_number(text: str) -> int | None:
    """The integer `text` writes in ASCII digits, or None."""
    text = text.strip()
    if not _WHOLE.fullmatch(text):
        return None
    negative, digits = text.startswith("-"), text.lstrip("-").lstrip("0")
    if len(digits) > _MAX_DIGITS:
        return -(10**_MAX_DIGITS) if negative else 10**_MAX_DIGITS
    return int(text)


class WholeNumberField(forms.IntegerField):
    """A whole number in ASCII digits, within bounds: max_value is required (see whole_number)."""

    def __init__(self, *, max_value: int, **kwargs):
        super().__init__(max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # max_value and min_value check it
        number = whole_number(value) if isinstance(value, str) else None
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


def add_service_error(form: forms.Form, exc: ServiceError | ValidationError) -> None:
    """Puts a service's refusal next to the field it names: `ServiceError.field`, or the fields
    a model's validation names. One the form does not show goes on the form as a whole."""
    if isinstance(exc, ServiceError):
        errors = {exc.field: [exc.message]}
    elif hasattr(exc, "error_dict"):
        errors = exc.message_dict
    else:
        errors = {"": exc.messages}
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)


class BoundField(forms.BoundField):
    """A field as FormRenderer shows it: its wrapper also takes the classes its form names for it
    in `field_css_classes` (studio.css shows some account fields for one provider only)."""

    def css_classes(self, extra_classes=None) -> str:
        own = getattr(self.form, "field_css_classes", {}).get(self.name, "").split()
        if hasattr(extra_classes, "split"):
            extra_classes = extra_classes.split()
        return super().css_classes([*(extra_classes or []), *own])


class FormRenderer(TemplatesSetting):
    """Every form renders through the studio's templates/forms/, so a page writes
    `{{ form.x.as_field_group }}` or `{{ form }}` and labels, help and errors have one markup.
    TemplatesSetting, so those templates sit with the project's own; a field with its own look
    (a toggle, the gallery's dropzone) names its template with `template_name`."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
    bound_field_class = BoundField
