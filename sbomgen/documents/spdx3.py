"""SPDX 3.0.1 JSON-LD, read through the official bindings (spdx-python-model): their
deserializer is the typed model (every property checked as it is set), their linker says
which references name no element, their encoder which required properties are missing.

The bounded JSON parser of the gate reads the bytes first; what the bindings refuse is one
line naming the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import StringConstraints

from ..errors import SbomgenError
from .fields import Line, Strict
from .parse import parse_json

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def is_spdx3(value: Any) -> bool:
    """Whether a parsed JSON value claims to be SPDX 3.0.1 JSON-LD (by its ``@context``)."""
    if not isinstance(value, dict):
        return False
    context = value.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return CONTEXT in contexts


class PackageFields(Strict):
    """What ``check`` reads of a ``software_Package``: the bindings type them only as
    strings, so a name or download location could carry a terminal's escapes into a report
    and a SHA256 be any text; here each is one line, as in SPDX 2, and the SHA256 hex."""

    name: Line | None
    version: Line | None
    purl: Line | None
    location: Line | None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")] | None


@dataclass
class Document:
    """The elements of an SPDX 3 document, by IRI, and what the bindings found wrong."""

    objects: Any  # the bindings' SHACLObjectSet
    problems: list[str] = field(default_factory=list)

    def of_type(self, kind: str) -> list[Any]:
        from spdx_python_model import v3_0_1 as spdx3

        return sorted(self.objects.foreach_type(getattr(spdx3, kind)), key=lambda o: o.spdxId or "")

    def by_id(self, iri: Any) -> Any:
        return iri if not isinstance(iri, str) else self.objects.find_by_id(iri)


def load_value(value: Any, source: str, error: type[SbomgenError]) -> Document:
    """The document in a parsed JSON value; ``error`` when the bindings cannot read it."""
    from spdx_python_model import v3_0_1 as spdx3

    if not is_spdx3(value):
        raise error(f"{source}: not SPDX 3.0.1 JSON-LD (its @context is not {CONTEXT})")
    objects = spdx3.SHACLObjectSet()
    try:
        spdx3.JSONLDDeserializer().deserialize_data(value, objects)
    except Exception as exc:  # the bindings raise TypeError, ValueError, KeyError... on bad input
        raise error(f"{source}: not a valid SPDX 3.0.1 document: {_first_line(exc)}") from None
    document = Document(objects)
    named_twice = _defined_twice(value, objects)
    if named_twice:
        document.problems.append(
            f"{len(named_twice)} IRI(s) defined by more than one object: {named_twice[0]}"
        )
    missing = sorted(objects.link())
    if missing:
        document.problems.append(f"{len(missing)} reference(s) to elements not in the document: {missing[0]}")
    try:
        spdx3.JSONLDSerializer().serialize_data(objects, force_at_graph=True)
    except ValueError as exc:  # a required property missing, a count exceeded
        document.problems.append(_first_line(exc))
    if len(list(objects.foreach_type(spdx3.SpdxDocument))) != 1:
        document.problems.append("not exactly one SpdxDocument element")
    return document


def _defined_twice(value: Any, objects: Any) -> list[str]:
    """The IRIs that more than one object of the JSON value defines. The bindings decode the
    first and skip the others unread: a second package of one IRI, of another version or with
    properties no model accepts, would go unseen by every check."""
    seen: set[str] = set()
    twice: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
            iri = next((item[k] for k in ("spdxId", "@id") if isinstance(item.get(k), str)), None)
            if iri is not None:
                iri = objects.expand_iri(iri) or iri
                (twice if iri in seen else seen).add(iri)
    return sorted(twice)


def load(data: bytes, source: str, error: type[SbomgenError]) -> Document:
    return load_value(parse_json(data, source, error), source, error)


def _first_line(exc: BaseException) -> str:
    """The bindings' message, without the memory address they name an object by."""
    text = str(exc).strip().splitlines()
    return re.sub(r" \(\d+\)", "", text[0] if text else type(exc).__name__)[:300]
