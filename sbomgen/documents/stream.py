"""A CycloneDX JSON BOM read one component at a time, so that no reader holds every
component typed (or as parsed JSON) at once: memory grows with what the reader keeps of
each, not with the document's objects.

The same parser as the gate's (``parse.parse_json``: the C scanner with the same hooks,
limits and depth bound) reads the top-level object member by member and the
``components`` array item by item; each item is typed as ``cyclonedx.Component`` and handed
on, then dropped. What this reading would refuse or cannot tell (not JSON, not CycloneDX,
a value that does not fit the model, a bom-ref given twice) it does not explain: it answers
None, and the caller reads the document whole through the gate, which refuses it in its
own words. So a document is accepted here only where the gate accepts it, and refused
with the gate's one-line error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .cyclonedx import Bom, Component
from .parse import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_VALUES, decoder, deeper_than, value_bound

_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module skips it


class Refused(Exception):
    """What a reading a component at a time leaves to the gate."""


def read_members(data: bytes, take: Callable[[dict[str, Any], Any], None]) -> dict[str, Any] | None:
    """The top-level object of the JSON in ``data`` without its ``components``; each item of
    that array was given to ``take`` as parsed, in order, with the members before the array.
    None when the gate would refuse the JSON, when the object has no ``components`` array,
    or when ``take`` raised ``Refused``: the caller reads the document whole."""
    if len(data) > MAX_DOCUMENT_BYTES or value_bound(data) > MAX_VALUES:
        return None
    try:
        return _members(data.decode("utf-8"), take)
    except (Refused, UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: json.JSONDecodeError, the parser's refusals, pydantic's ValidationError.
        return None


def read_cyclonedx(data: bytes, take: Callable[[Component], None]) -> Bom | None:
    """The BOM in ``data`` without its ``components``, each of which was given to ``take``
    typed, in order; None when ``data`` is not a CycloneDX JSON BOM the gate accepts."""
    if b'"CycloneDX"' not in data:
        return None  # not worth reading twice: what says it is CycloneDX says so in these words
    refs: set[str] = set()

    def typed(members: dict[str, Any], item: Any) -> None:
        component = Component.model_validate(item)
        _unique(component, refs)
        take(component)

    document = read_members(data, typed)
    if document is None or document.keys() & {"spdxVersion", "@context"}:
        return None  # SPDX 2 or 3: the readers say which
    if document.get("bomFormat") != "CycloneDX":
        return None  # no SBOM: the gate says so
    try:
        bom = Bom.model_validate(document)
        if bom.metadata is not None and bom.metadata.component is not None:
            _unique(bom.metadata.component, refs)
    except (Refused, ValueError):
        return None
    return bom


def _members(text: str, take: Callable[[dict[str, Any], Any], None]) -> dict[str, Any]:
    parser = decoder()

    def value(at: int, limit: int) -> tuple[Any, int]:
        found, end = parser.raw_decode(text, at)
        if isinstance(found, (dict, list)) and deeper_than(found, limit):
            raise Refused
        return found, _space(text, end)

    members: dict[str, Any] = {}
    streamed = False
    at = _expect(text, _space(text, 0), "{")
    while True:
        if text[at : at + 1] != '"':
            raise Refused
        key, at = parser.raw_decode(text, at)  # a string: it opens with '"'
        at = _expect(text, _space(text, at), ":")
        if key in members or (key == "components" and streamed):
            raise Refused  # a key given twice
        if key == "components" and text[at : at + 1] == "[":
            streamed = True
            at = _space(text, at + 1)
            while text[at : at + 1] != "]":
                item, at = value(at, MAX_DEPTH - 2)  # the document, then the array, hold it
                take(members, item)
                del item
                if text[at : at + 1] == ",":
                    at = _space(text, at + 1)
                    if text[at : at + 1] == "]":
                        raise Refused
                elif text[at : at + 1] != "]":
                    raise Refused
            at = _space(text, at + 1)
        elif key == "components":
            raise Refused  # not a list: the model says so
        else:
            members[key], at = value(at, MAX_DEPTH - 1)
        if text[at : at + 1] == ",":
            at = _space(text, at + 1)
        elif text[at : at + 1] == "}":
            break
        else:
            raise Refused
    if _space(text, at + 1) != len(text) or not streamed:
        raise Refused
    return members


def _unique(component: Component, refs: set[str]) -> None:
    """Refused when a bom-ref is given twice (``cyclonedx.unique_refs`` names both)."""
    for each in component.walk():
        if each.bom_ref is not None:
            if each.bom_ref in refs:
                raise Refused
            refs.add(each.bom_ref)


def _space(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()  # type: ignore[union-attr]  # it matches the empty string


def _expect(text: str, at: int, token: str) -> int:
    if text[at : at + 1] != token:
        raise Refused
    return _space(text, at + 1)
