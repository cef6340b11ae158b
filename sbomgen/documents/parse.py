"""Bounded parsing and model validation: what every loader of the gate goes through.

Limits, and why:
- ``MAX_DOCUMENT_BYTES`` (256 MiB): the largest SBOM sbomgen writes (64 copies of a CPython
  tree, 300,000 files) is about 200 MB; nothing larger is a document a person hands over.
- ``MAX_DEPTH`` (64): SPDX documents are 5 levels deep, CycloneDX with nested components and
  in-toto statements in bundles 15-20; 64 leaves room and keeps every recursive walk short.
  The C parser stops at its own recursion guard (about 1,000 levels, a clean RecursionError);
  the parsed value is measured without recursion before anything else sees it.
- ``MAX_VALUES`` (16 million, counted from ',', '[', '{' before parsing): a value costs 50 to
  100 bytes as a Python object, so a document of small values could otherwise take 30 times
  its size in memory; the largest real SBOM has about 5 million.
- ``MAX_NUMBER_CHARS`` (40): sizes, counts and times fit in 20 digits; a longer number is
  only there to make ``int()`` quadratic or overflow a float.
- NaN, Infinity and duplicate keys are refused: JSON has none of them, and parsers disagree
  on duplicate keys (the first or the last wins), which lets one document say two things.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import SbomgenError
from .text import printable

MAX_DOCUMENT_BYTES = 256 << 20
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 40
MAX_VALUES = 16_000_000
MAX_KEY_CHARS = 64  # of a key named in an error

Model = TypeVar("Model", bound=BaseModel)


class _Refused(ValueError):
    """A value the bounded parser will not build; its text becomes the error message."""


def value_bound(data: bytes) -> int:
    """An upper bound of the array items and object members a JSON text holds (each but the
    document itself follows a ',', '[' or '{'): it bounds the parse's memory before it starts."""
    return data.count(b",") + data.count(b"[") + data.count(b"{") + 1


def deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise _Refused(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
        return kind(text)

    return parse


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999: the literal is JSON, the value is Infinity
        raise _Refused(f"the number {text[:40]} is too large for a float")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise _Refused(f"the key {duplicate!r} appears twice in one object")
    return result


def decoder() -> json.JSONDecoder:
    """The JSON parser within the limits on numbers, constants and keys (not the size, the
    value count or the depth, which ``parse_json`` bounds around it)."""
    return json.JSONDecoder(**_hooks())


def _hooks() -> dict[str, Any]:
    return {
        "object_pairs_hook": _object,
        "parse_int": _number(int),
        "parse_float": _number(_finite),
        "parse_constant": _constant,
    }


def decode_text(data: bytes, source: str, error: type[SbomgenError], max_bytes: int) -> str:
    """``data`` as UTF-8 text of at most ``max_bytes`` bytes; else ``error`` naming ``source``."""
    if len(data) > max_bytes:
        raise error(f"{source}: {len(data):,} bytes, more than the {max_bytes:,} a document may have")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 (byte {exc.start})") from None


def parse_json(
    data: bytes | str, source: str, error: type[SbomgenError], max_bytes: int = MAX_DOCUMENT_BYTES
) -> Any:
    """The JSON value of ``data`` (UTF-8) within the limits; else ``error`` naming ``source``."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise error(f"{source}: {len(data):,} bytes, more than the {max_bytes:,} a document may have")
    if value_bound(data) > MAX_VALUES:
        raise error(f"{source}: more than {MAX_VALUES:,} values")
    try:
        text = data.decode("utf-8")
        value = json.loads(text, **_hooks())  # json.loads, not decode: it refuses a BOM
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise error(f"{source}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except _Refused as exc:
        raise error(f"{source}: {exc}") from None
    except RecursionError:  # the parser's own guard, far deeper than MAX_DEPTH
        raise error(f"{source}: nested more than {MAX_DEPTH} levels deep") from None
    if isinstance(value, (dict, list)) and deeper_than(value, MAX_DEPTH):
        raise error(f"{source}: nested more than {MAX_DEPTH} levels deep")
    return value


def location(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a path: ``packages[3].versionInfo``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            # A key of the document is the input's own text: escaped and cut to keep one line.
            name = printable(part[:MAX_KEY_CHARS]) + ("…" if len(part) > MAX_KEY_CHARS else "")
            text = f"{text}.{name}" if text else name
    return text or "(top level)"


_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "bool_type": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "missing": "missing",
    "extra_forbidden": "not allowed here",
    "literal_error": "",
    "too_long": "",
    "too_short": "",
}


def describe(exc: ValidationError) -> str:
    """The first problem of a validation error, on one line: ``where: what``."""
    first = exc.errors(include_url=False)[0]
    where = location(tuple(part for part in first["loc"] if not _is_union_tag(part)))
    what = _EXPECTED.get(first["type"]) or first["msg"]
    if first["type"] in ("string_type", "int_type", "bool_type", "list_type", "dict_type", "model_type"):
        what += f", not {kind_of(first.get('input'))}"
    what = " ".join(what.replace("Value error, ", "").split())
    return f"{where}: {what}"


def _is_union_tag(part: int | str) -> bool:
    # pydantic names the union member it tried ("str", "function-after[...]"); not a place.
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "list", "dict"))


def kind_of(value: Any) -> str:
    """How a message names the JSON type of ``value``."""
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def validate(model: type[Model], value: Any, source: str, error: type[SbomgenError]) -> Model:
    """``value`` as ``model``; ``error`` with ``source: where: what`` when it does not fit."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise error(f"{source}: {describe(exc)}") from None
    except RecursionError:
        raise error(f"{source}: nested more than {MAX_DEPTH} levels deep") from None


def load_json(
    model: type[Model],
    data: bytes | str,
    source: str,
    error: type[SbomgenError],
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Model:
    """Parse ``data`` within the limits and accept it as ``model``: the gate in one call."""
    return validate(model, parse_json(data, source, error, max_bytes), source, error)
