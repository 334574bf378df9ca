"""The small template language of HTTP systems in policy packs: values, never code.

A template is a string with placeholders in braces: ``{subject.email}`` (an identity of the
subject), ``{record.id}`` (a field of the record the search found), ``{previous.job_status.id}``
(a field of the previous response in the same chain), ``{details.corrections.email}`` (the
request's details), and one of a few named functions of one value: ``{md5_lower(subject.email)}``
for APIs that key members by the MD5 of the lower-cased e-mail. ``{{`` and ``}}`` are literal
braces. There is no expression, no attribute access on Python objects, no eval: a placeholder is
a dotted path into plain JSON data, optionally passed through a function from ``FUNCTIONS``.

JSON pointers (RFC 6901) say where records and ids sit in a response: ``/data``, ``/users/0/id``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

FUNCTIONS: dict[str, Callable[[str], str]] = {
    "md5_lower": lambda v: hashlib.md5(v.strip().lower().encode(), usedforsecurity=False).hexdigest(),
    "sha256_lower": lambda v: hashlib.sha256(v.strip().lower().encode()).hexdigest(),
    "lower": lambda v: v.lower(),
    "upper": lambda v: v.upper(),
}
ROOTS = ("subject", "record", "previous", "details", "task")

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_EXPRESSION = re.compile(r"^\s*(?:([a-z_][a-z0-9_]*)\(\s*([A-Za-z0-9_.-]+)\s*\)|([A-Za-z0-9_.-]+))\s*$")


class TemplateError(ValueError):
    """A template in a pack is malformed (a configuration error: no retry can mend it)."""


class MissingValue(TemplateError):
    """A template names a value this request does not have (e.g. no phone number given)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no value for {{{path}}}")
        self.path = path


def _parse(expression: str) -> tuple[str | None, str]:
    found = _EXPRESSION.match(expression)
    if not found:
        raise TemplateError(f"malformed placeholder {{{expression}}}")
    function, argument, plain = found.groups()
    path = argument or plain
    if path.split(".")[0] not in ROOTS:
        raise TemplateError(f"placeholder {{{expression}}} must start with one of {', '.join(ROOTS)}")
    if function is not None and function not in FUNCTIONS:
        raise TemplateError(f"unknown function {function!r} (known: {', '.join(sorted(FUNCTIONS))})")
    return function, path


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``previous.users.0.id``); MissingValue when absent or null."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise MissingValue(path)
    if value is None:
        raise MissingValue(path)
    return value


def _value(expression: str, context: Mapping[str, Any]) -> Any:
    function, path = _parse(expression)
    value = lookup(context, path)
    if function is None:
        return value
    return FUNCTIONS[function](str(value))


def render(template: str, context: Mapping[str, Any], escape: Callable[[str], str] = str) -> str:
    """Fill a template's placeholders from ``context``; each value goes through ``escape``
    (e.g. percent-encoding for a URL path segment)."""

    def replace(found: re.Match[str]) -> str:
        if found.group(0) in ("{{", "}}"):
            return found.group(0)[0]
        value = _value(found.group(1), context)
        if isinstance(value, dict | list):
            raise TemplateError(f"{{{found.group(1)}}} is not a single value")
        return escape(str(value))

    return _PLACEHOLDER.sub(replace, template)


def render_value(template: Any, context: Mapping[str, Any]) -> Any:
    """Fill a JSON body template: strings are rendered, a string that is exactly one
    placeholder keeps the value's JSON type (a number stays a number), containers recurse."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole and whole.group(1) is not None:
            return _value(whole.group(1), context)
        return render(template, context)
    if isinstance(template, list):
        return [render_value(item, context) for item in template]
    if isinstance(template, dict):
        return {key: render_value(item, context) for key, item in template.items()}
    return template


def check(template: Any) -> None:
    """Raise TemplateError for any malformed placeholder (used when a pack is checked)."""
    if isinstance(template, str):
        for found in _PLACEHOLDER.finditer(template):
            if found.group(1) is not None:
                _parse(found.group(1))
        if _PLACEHOLDER.sub("", template).count("{") or _PLACEHOLDER.sub("", template).count("}"):
            raise TemplateError(f"unbalanced brace in template {template!r}")
    elif isinstance(template, list):
        for item in template:
            check(item)
    elif isinstance(template, dict):
        for item in template.values():
            check(item)


def pointer(document: Any, where: str) -> Any:
    """The value at a JSON pointer (RFC 6901); None when the path does not exist. ``""`` is the
    whole document."""
    if where == "":
        return document
    if not where.startswith("/"):
        raise TemplateError(f"JSON pointer {where!r} must start with '/'")
    value = document
    for raw in where[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value
