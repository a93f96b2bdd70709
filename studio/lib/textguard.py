"""Text the studio cannot keep, found where it comes in and refused with a message naming where.

Two characters pass for text in Python but not in the layers under it:
- a lone UTF-16 surrogate (U+D800 to U+DFFF). JSON's "\\ud800" escape decodes to one; UTF-8 has
  no encoding for it, so SQLite, PostgreSQL and the response itself fail on it.
- NUL (U+0000), which PostgreSQL refuses in text.

JSON bodies are checked as they are parsed (`json_problem`: the API, MiniMax's callbacks). The
request line, query string and headers of every request are checked by
studio.middleware.TextGuardMiddleware, and its Content-Type by `content_type_problem`, there
and in studio/wsgi.py (Django fails on some charsets before any middleware runs). Form fields
need nothing more: Django decodes form bodies as UTF-8, which never yields a surrogate (any
other charset is refused), and its CharField refuses NUL with a field error.

Pure functions, no Django models: studio/wsgi.py imports this before the app is loaded.
"""

import codecs
import re

from django.utils.http import parse_header_parameters

_UNKEEPABLE = re.compile("[\x00\ud800-\udfff]")
# UTF-8 and its ASCII subset. Django already refuses any other charset for a urlencoded form;
# for a query string or a multipart form it would decode with it, and "unicode_escape" or
# "utf-7" make lone surrogates out of plain ASCII.
_READABLE_CHARSETS = {"utf-8", "ascii"}


def text_problem(text: str) -> str | None:
    """What makes `text` unkeepable, said so that it can follow the name of its field."""
    found = _UNKEEPABLE.search(text)
    if found is None:
        return None
    char, where = found.group(), f"at character {found.start() + 1}"
    if char == "\x00":
        return f"contains a NUL character (\\u0000) {where}; remove it."
    return (
        f"contains a lone UTF-16 surrogate (\\u{ord(char):04x}) {where}; send valid Unicode "
        "(a surrogate is only valid as half of a pair)."
    )


def quoted(text: str) -> str:
    """`text` in quotes, its unkeepable characters written as JSON escapes: safe in an answer."""
    return '"' + _UNKEEPABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + '"'


def json_problem(value: object) -> str | None:
    """The first unkeepable text in a decoded JSON value, keys included, as "FIELD PROBLEM"
    (FIELD a path such as `options.style[2]`), or None. Iterative, and a path is only spelt out
    when it is needed: the body may nest as deep as the JSON parser allowed."""
    pending: list[tuple[object, tuple | None]] = [(value, None)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return f"{_spelt(where) or 'The body'} {problem}"
        elif isinstance(item, dict):
            for key in item:
                problem = text_problem(key)
                if problem:
                    return f"The field name {quoted(_spelt((where, key)))} {problem}"
            pending.extend(reversed([(child, (where, key)) for key, child in item.items()]))
        elif isinstance(item, list):
            pending.extend(reversed([(child, (where, i)) for i, child in enumerate(item)]))
    return None


def _spelt(where: tuple | None) -> str:
    """A path kept as (parent, key or index) pairs, written out: `a.b[2]`."""
    segments: list[str | int] = []
    while where is not None:
        where, segment = where
        segments.append(segment)
    parts = []
    for segment in reversed(segments):
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append(f".{segment}" if parts else segment)
    return "".join(parts)


def content_type_problem(content_type: str) -> str | None:
    """Why the studio cannot read a body sent with this Content-Type header, or None."""
    try:
        _, params = parse_header_parameters(content_type)
    except (ValueError, LookupError):  # an RFC 2231 parameter in an unknown or binary codec
        return f"The Content-Type header {quoted(content_type)} cannot be read."
    charset = params.get("charset")
    if charset is None:
        return None
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = None
    if name in _READABLE_CHARSETS:
        return None
    return f"The Content-Type charset {quoted(charset)} is not supported: send UTF-8."
