"""Path converters; importing this module registers them (every urls.py that uses <id:> does)."""

from django.urls import register_converter


class IdConverter:
    """A row id in a path: ASCII digits, at most 18 (under 2**63). Django's <int:> takes any
    number of digits, and a foreign-key lookup past 64 bits fails on SQLite (OverflowError)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
