"""Compliance profiles (``sbomgen validate --profile``): each a list of named elements, each
element a rule over the neutral view of an SBOM (``sbom_view``), judged for the document or
for every component.

- ``ntia``: NTIA, "The Minimum Elements For a Software Bill of Materials" (July 2021),
  section IV "Minimum Elements", Data Fields (table 1).
- ``cisa-2024``: CISA, "Framing Software Component Transparency: Establishing a Common
  SBOM", third edition (September 2024), section 2.2 "Baseline Attributes", the Minimum
  Expected level of each.
- ``bsi-2.1``: BSI TR-03183-2 v2.1.0 (August 2025): section 4 (formats), 5.2.1 (the SBOM's
  fields), 5.2.2 (each component's fields); 8.1.13 explains the licences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..documents import sbom, spdx2, spdx3
from ..documents.parse import MAX_DOCUMENT_BYTES, parse_json
from ..documents.source import read_bounded
from ..documents.text import printable
from ..errors import ContentError
from .sbom_view import BSI_PROPERTIES, Component, View, from_cyclonedx, from_spdx2, from_spdx3

NAMES = ("ntia", "cisa-2024", "bsi-2.1")
# Components named in a line of the table before "and N more".
SHOWN = 10


@dataclass(frozen=True)
class Element:
    name: str
    source: str  # where the profile's text asks for it
    document: Callable[[View], bool] | None = None  # a rule for the SBOM as a whole
    component: Callable[[View, Component], bool] | None = None  # a rule for each component
    remedy: str = ""  # what gives it, said when it fails


@dataclass(frozen=True)
class Verdict:
    element: Element
    passed: bool
    missing: list[str]  # the components that miss it (component rules)
    of: int  # how many components were judged

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"element": self.element.name, "source": self.element.source}
        result["result"] = "pass" if self.passed else "fail"
        if not self.passed and self.element.remedy:
            result["remedy"] = self.element.remedy
        if self.element.component is not None:
            result.update(components=self.of, missing=self.missing)
        return result


def _reached(view: View, component: Component) -> bool:
    """The component is the root or hangs below it through dependency relationships."""
    return component.ref in view.reachable


def _property(name: str) -> Callable[[View, Component], bool]:
    # SPDX 3 states a property by a purpose the file has; its absence says "not" (no, not
    # unknown): only CycloneDX (bsi:component:*) can leave one unstated.
    return lambda view, c: view.format == "spdx3" or name in c.properties


NTIA = (
    Element("Supplier name", "NTIA 2021 §IV table 1", component=lambda v, c: bool(c.supplier)),
    Element("Component name", "NTIA 2021 §IV table 1", component=lambda v, c: bool(c.name)),
    Element("Version of the component", "NTIA 2021 §IV table 1", component=lambda v, c: bool(c.version)),
    Element("Other unique identifiers", "NTIA 2021 §IV table 1", component=lambda v, c: bool(c.identifiers)),
    Element("Dependency relationship", "NTIA 2021 §IV table 1", component=_reached),
    Element("Author of SBOM data", "NTIA 2021 §IV table 1", document=lambda v: bool(v.authors)),
    Element("Timestamp", "NTIA 2021 §IV table 1", document=lambda v: bool(v.timestamp)),
)

CISA_2024 = (
    Element("SBOM author name", "FSCT3 §2.2.1.1", document=lambda v: bool(v.authors)),
    Element("SBOM timestamp", "FSCT3 §2.2.1.2", document=lambda v: bool(v.timestamp)),
    Element("SBOM type", "FSCT3 §2.2.1.3", document=lambda v: bool(v.sbom_types)),
    Element("Primary component", "FSCT3 §2.2.1.4", document=lambda v: v.root is not None),
    Element("Component name", "FSCT3 §2.2.2.1", component=lambda v, c: bool(c.name)),
    Element("Version", "FSCT3 §2.2.2.2", component=lambda v, c: bool(c.version)),
    Element("Supplier name", "FSCT3 §2.2.2.3", component=lambda v, c: bool(c.supplier)),
    Element("Unique identifier", "FSCT3 §2.2.2.4", component=lambda v, c: bool(c.identifiers)),
    Element("Cryptographic hash", "FSCT3 §2.2.2.5", component=lambda v, c: bool(c.hashes)),
    Element("Relationship", "FSCT3 §2.2.2.6", component=_reached),
    Element("License (concluded)", "FSCT3 §2.2.2.7", component=lambda v, c: bool(c.concluded)),
    Element("Copyright notice", "FSCT3 §2.2.2.8", component=lambda v, c: bool(c.copyright)),
)

BSI_2_1 = (
    Element(
        "Format: CycloneDX >= 1.6 or SPDX >= 3.0.1",
        "TR-03183-2 §4",
        document=lambda v: v.version >= ((1, 6) if v.format == "cyclonedx" else (3, 0, 1)),
    ),
    Element(
        "Creator of the SBOM (e-mail or URL)",
        "TR-03183-2 §5.2.1",
        document=lambda v: bool(v.author_contacts),
        remedy="sbomgen gives it with --creator 'Organization: NAME (https://URL)' "
        "or 'Person: NAME <E-MAIL>' (or SBOMGEN_CREATOR)",
    ),
    Element("Timestamp", "TR-03183-2 §5.2.1", document=lambda v: bool(v.timestamp)),
    Element("SBOM-URI", "TR-03183-2 §5.2.1", document=lambda v: bool(v.uri)),
    Element(
        "Component creator (e-mail or URL)",
        "TR-03183-2 §5.2.2",
        component=lambda v, c: bool(c.creator_contacts),
    ),
    Element("Component name", "TR-03183-2 §5.2.2", component=lambda v, c: bool(c.name)),
    Element("Component version", "TR-03183-2 §5.2.2", component=lambda v, c: bool(c.version)),
    Element("Filename of the component", "TR-03183-2 §5.2.2", component=lambda v, c: bool(c.filename)),
    Element("Dependencies on other components", "TR-03183-2 §5.2.2", component=_reached),
    Element("Completeness of the dependencies", "TR-03183-2 §5.2.2", document=lambda v: v.completeness),
    Element("Distribution licences", "TR-03183-2 §5.2.2, §8.1.13", component=lambda v, c: bool(c.concluded)),
    Element(
        "SHA-512 of the deployable component",
        "TR-03183-2 §5.2.2",
        component=lambda v, c: "SHA-512" in c.deployable_hashes,
    ),
    *(
        Element(f"{p.capitalize()} property", "TR-03183-2 §5.2.2", component=_property(p))
        for p in BSI_PROPERTIES
    ),
    Element("Source code URI", "TR-03183-2 §5.2.2", component=lambda v, c: bool(c.source_uri)),
    Element("URI of the deployable form", "TR-03183-2 §5.2.2", component=lambda v, c: bool(c.deployable_uri)),
    Element("Other unique identifiers", "TR-03183-2 §5.2.2", component=lambda v, c: bool(c.identifiers)),
    Element("Original licences", "TR-03183-2 §5.2.2, §8.1.13", component=lambda v, c: bool(c.declared)),
)

PROFILES: dict[str, tuple[Element, ...]] = {"ntia": NTIA, "cisa-2024": CISA_2024, "bsi-2.1": BSI_2_1}


def view_of(path: Path) -> View:
    """The neutral view of the SBOM at ``path``; ContentError (exit 4) when it is none
    sbomgen reads."""
    data = read_bounded(path, str(path), ContentError, MAX_DOCUMENT_BYTES)
    if b'"@context"' in data:  # JSON-LD: SPDX 3, or a document sbom.load refuses in its own words
        value = parse_json(data, str(path), ContentError)
        if spdx3.is_spdx3(value):
            found = spdx3.load_value(value, str(path), ContentError)
            if found.problems:
                raise ContentError(f"{path}: not a valid SPDX 3.0.1 document: {found.problems[0]}")
            return from_spdx3(found)
    document = sbom.load(data, str(path), ContentError)
    if isinstance(document, spdx2.Document):
        return from_spdx2(document)
    return from_cyclonedx(document)


def evaluate(view: View, profile: str) -> list[Verdict]:
    verdicts = []
    for element in PROFILES[profile]:
        if element.component is not None:
            rule = element.component
            missing = [c.name for c in view.components if not rule(view, c)]
            passed = not missing and bool(view.components)
            verdicts.append(Verdict(element, passed, missing, len(view.components)))
        else:
            assert element.document is not None
            verdicts.append(Verdict(element, element.document(view), [], 0))
    return verdicts


def as_json(path: Path, view: View, profile: str, verdicts: list[Verdict]) -> dict[str, Any]:
    return {
        "file": str(path),
        "kind": view.kind,
        "profile": profile,
        "conformant": all(v.passed for v in verdicts),
        "elements": [v.as_dict() for v in verdicts],
    }


def as_table(path: Path, view: View, profile: str, verdicts: list[Verdict]) -> list[str]:
    """One line for the file, then one a element: its name, where the profile asks for it,
    pass or FAIL and the components that miss it (the first SHOWN, then "and N more")."""
    passed = sum(v.passed for v in verdicts)
    lines = [f"{path}: {profile} ({view.kind}): {passed} of {len(verdicts)} elements pass"]
    width = max(len(v.element.name) for v in verdicts)
    where = max(len(v.element.source) for v in verdicts)
    for verdict in verdicts:
        line = f"  {verdict.element.name:<{width}}  {verdict.element.source:<{where}}  "
        line += "pass" if verdict.passed else "FAIL"
        if verdict.missing:
            names = ", ".join(verdict.missing[:SHOWN])
            more = len(verdict.missing) - SHOWN
            line += f"  {len(verdict.missing)} of {verdict.of} missing: {names}"
            line += f" and {more} more" if more > 0 else ""
        elif not verdict.passed and verdict.element.component is not None:
            line += "  no components"
        if not verdict.passed and verdict.element.remedy:
            line += f"  ({verdict.element.remedy})"
        lines.append(printable(line.rstrip()))
    return lines


def check(path: Path, profile: str) -> tuple[bool, list[str], dict[str, Any]]:
    """Whether the SBOM at ``path`` meets every element of ``profile``, the table's lines
    and the same as JSON."""
    view = view_of(path)
    verdicts = evaluate(view, profile)
    return (
        all(v.passed for v in verdicts),
        as_table(path, view, profile, verdicts),
        as_json(path, view, profile, verdicts),
    )
