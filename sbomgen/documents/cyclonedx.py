"""CycloneDX 1.4-1.7, JSON and XML: the fields sbomgen reads, strictly typed.

One model for both encodings: XML is parsed with defusedxml (no DTD, no entities, UTF-8
only) and turned into the JSON shape, element for field, before the model sees it. Used
for the SBOMs given to ``diff``, ``report`` and ``validate``, the ``bom.cdx.json`` pip
vendors, and SBOMs a distribution carries (PEP 770).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ..errors import SbomgenError
from .fields import Line, NonEmptyLine, Purl, Strict, Text
from .parse import MAX_DEPTH, MAX_DOCUMENT_BYTES, load_json

SPEC_VERSIONS = ("1.4", "1.5", "1.6", "1.7")
# The hash algorithms of the CycloneDX schema, and the hex digits of each (None: variable).
HASH_LENGTHS: dict[str, int | None] = {
    "MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-384": 96, "SHA-512": 128,
    "SHA3-256": 64, "SHA3-384": 96, "SHA3-512": 128,
    "BLAKE2b-256": 64, "BLAKE2b-384": 96, "BLAKE2b-512": 128, "BLAKE3": None,
}  # fmt: skip
HashAlgorithm = Literal[
    "MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-384", "SHA3-512",
    "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3",
]  # fmt: skip
ComponentType = Literal[
    "application", "framework", "library", "container", "platform", "operating-system", "device",
    "device-driver", "firmware", "file", "machine-learning-model", "data", "cryptographic-asset",
]  # fmt: skip
Acknowledgement = Literal["declared", "concluded"]
_HEX = re.compile(r"[0-9a-fA-F]+")


class Hash(Strict):
    alg: HashAlgorithm
    content: NonEmptyLine

    @model_validator(mode="after")
    def _hex_of_its_length(self) -> Hash:
        length = HASH_LENGTHS[self.alg]
        if not _HEX.fullmatch(self.content) or (length is not None and len(self.content) != length):
            wanted = f"{length} hexadecimal digits" if length else "hexadecimal digits"
            raise ValueError(f"content: {self.alg} expects {wanted}, not {self.content[:80]!r}")
        if len(self.content) > 256:
            raise ValueError("content: longer than any digest")
        return self


class License(Strict):
    id: NonEmptyLine | None = None
    name: NonEmptyLine | None = None
    acknowledgement: Acknowledgement | None = None
    url: Line | None = None

    @model_validator(mode="after")
    def _named(self) -> License:
        if self.id is None and self.name is None:
            raise ValueError("a license needs an id or a name")
        return self


class LicenseChoice(Strict):
    license: License | None = None
    expression: NonEmptyLine | None = None
    acknowledgement: Acknowledgement | None = None

    @model_validator(mode="after")
    def _one(self) -> LicenseChoice:
        if (self.license is None) == (self.expression is None):
            raise ValueError("a license choice is either a license or an expression")
        return self

    @property
    def spdx(self) -> str | None:
        """The SPDX expression or license id this choice names, if any."""
        if self.expression is not None:
            return self.expression
        return self.license.id if self.license is not None else None

    @property
    def kind(self) -> Acknowledgement:
        return self.acknowledgement or (self.license and self.license.acknowledgement) or "declared"


class Evidence(Strict):
    licenses: list[LicenseChoice] = []


class ExternalReference(Strict):
    type: NonEmptyLine
    url: NonEmptyLine
    comment: Text | None = None
    hashes: list[Hash] = []


class Property(Strict):
    name: Line
    value: Text | None = None


class Contact(Strict):
    """An organizational contact or an individual author (what the compliance profiles read)."""

    name: Line | None = None
    email: Line | None = None


class OrganizationalEntity(Strict):
    name: Line | None = None
    url: list[Line] = []
    contact: list[Contact] = []


class Component(Strict):
    type: ComponentType = "library"
    name: NonEmptyLine
    group: Line | None = None
    version: Line | None = None
    bom_ref: Annotated[NonEmptyLine | None, Field(alias="bom-ref")] = None
    description: Text | None = None
    supplier: OrganizationalEntity | None = None
    publisher: Line | None = None
    purl: Purl | None = None
    cpe: Line | None = None
    hashes: list[Hash] = []
    licenses: list[LicenseChoice] = []
    externalReferences: list[ExternalReference] = []
    properties: list[Property] = []
    components: list[Component] = []
    # Read by the compliance profiles only (validate --profile).
    authors: list[Contact] = []
    manufacturer: OrganizationalEntity | None = None
    copyright: Text | None = None
    swid: dict[str, Any] | None = None
    evidence: Evidence | None = None

    @property
    def stated_licenses(self) -> list[LicenseChoice]:
        """Its licenses, and a declared one its evidence holds where CycloneDX 1.6 (and
        cyclonedx-python-lib) allow no other license beside a concluded expression: only
        where its licenses declare none and the evidence declares exactly one (another
        tool's evidence may list many a file says, each no more the declared license)."""
        evidence = self.evidence.licenses if self.evidence is not None else []
        declared = [
            c
            for c in evidence
            if (c.acknowledgement or (c.license and c.license.acknowledgement)) == "declared"
        ]
        if len(declared) != 1 or any(c.kind == "declared" for c in self.licenses):
            return self.licenses
        return self.licenses + declared

    def download(self, subject: Component | None = None) -> ExternalReference | None:
        """Where it was downloaded from: its first ``distribution`` reference that is not the
        ``subject``'s own; for a component distributed in the subject's artifact (its only
        distribution is the subject's), its ``source-distribution``, where it came from."""
        own = distributions(subject) if subject is not None and subject is not self else set()
        return download(self.externalReferences, own)

    def walk(self) -> Iterator[Component]:
        """This component and every one nested in it, depth first."""
        yield self
        for child in self.components:
            yield from child.walk()


def distributions(component: Component) -> set[str]:
    """The URLs of a component's ``distribution`` references."""
    return {r.url for r in component.externalReferences if r.type == "distribution"}


def download(references: Iterable[ExternalReference], own: Container[str]) -> ExternalReference | None:
    """``Component.download`` of a component with these references, the subject's
    distributions ``own``."""
    references = list(references)
    found = [r for r in references if r.type == "distribution"]
    first = next((r for r in found if r.url not in own), None)
    if first is not None or not found:
        return first
    return next((r for r in references if r.type == "source-distribution"), None)


class Lifecycle(Strict):
    phase: Line | None = None
    name: Line | None = None


class Metadata(Strict):
    timestamp: Line | None = None
    component: Component | None = None
    supplier: OrganizationalEntity | None = None
    # Read by the compliance profiles only (validate --profile); tools in either form.
    authors: list[Contact] = []
    manufacturer: OrganizationalEntity | None = None
    tools: list[Any] | dict[str, Any] | None = None
    lifecycles: list[Lifecycle] = []


class Composition(Strict):
    aggregate: Line
    assemblies: list[Line] = []
    dependencies: list[Line] = []


class Dependency(Strict):
    ref: NonEmptyLine
    dependsOn: list[NonEmptyLine] = []


class Header(Strict):
    """What tells a CycloneDX document's version, of any version (``validate`` reads this and
    leaves the rest to the version's own schema)."""

    bomFormat: Literal["CycloneDX"]
    specVersion: NonEmptyLine


class Bom(Strict):
    bomFormat: Literal["CycloneDX"]
    specVersion: Literal["1.4", "1.5", "1.6", "1.7"]
    serialNumber: Line | None = None
    version: int | None = None
    metadata: Metadata | None = None
    components: list[Component] = []
    dependencies: list[Dependency] = []
    compositions: list[Composition] = []

    def all_components(self) -> Iterator[Component]:
        """Every component, the metadata's first, nested ones included."""
        if self.metadata is not None and self.metadata.component is not None:
            yield from self.metadata.component.walk()
        for component in self.components:
            yield from component.walk()


def unique_refs(bom: Bom, source: str, error: type[SbomgenError]) -> None:
    """Refuse a bom-ref given to two components: dependencies could not say which."""
    seen: dict[str, str] = {}
    for component in bom.all_components():
        ref = component.bom_ref
        if ref is None:
            continue
        if ref in seen:
            both = f"{seen[ref][:200]!r} and {component.name[:200]!r}"
            raise error(f"{source}: bom-ref {ref[:200]!r} is given to both {both}")
        seen[ref] = component.name


def load(data: bytes | str, source: str, error: type[SbomgenError]) -> Bom:
    """A CycloneDX JSON document through the gate; ``error`` names ``source``."""
    bom = load_json(Bom, data, source, error)
    unique_refs(bom, source, error)
    return bom


# XML ----------------------------------------------------------------------------------------

_NAMESPACE = re.compile(r"\{http://cyclonedx\.org/schema/bom/(1\.\d+)\}bom")
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_TEXT = {"name", "version", "group", "description", "publisher", "purl", "cpe", "url", "timestamp",
         "id", "comment", "copyright"}  # fmt: skip


def xml_root(data: bytes, source: str, error: type[SbomgenError]) -> Any:
    """The root element of an XML document in UTF-8, parsed without DTDs or entities: every
    XML sbomgen reads passes here before anything else parses it."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if len(data) > MAX_DOCUMENT_BYTES:
        raise error(
            f"{source}: {len(data):,} bytes, more than the {MAX_DOCUMENT_BYTES:,} a document may have"
        )
    declared = _DECLARATION.match(data)
    encoding = declared.group(1).decode("ascii", "replace") if declared else "UTF-8"
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise error(f"{source}: declares the encoding {encoding!r}; only UTF-8 is read")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 (byte {exc.start})") from None
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise error(f"{source}: refused: the XML has a DTD or entities ({type(exc).__name__})") from None
    except ParseError as exc:
        raise error(f"{source}: not well-formed XML ({exc})") from None


def parse_xml(
    data: bytes, source: str, error: type[SbomgenError], root: Any = None
) -> tuple[str, dict[str, Any]]:
    """The CycloneDX version and the JSON shape of an XML BOM (``root``: its root element when
    ``xml_root`` has already parsed it)."""
    if root is None:
        root = xml_root(data, source, error)
    found = _NAMESPACE.fullmatch(root.tag)
    if not found:
        raise error(f"{source}: not a CycloneDX XML document (root element {root.tag[:80]!r})")
    namespace = root.tag[: -len("bom")]
    _check_elements(root, namespace, source, error)
    bom: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": found.group(1)}
    if "serialNumber" in root.attrib:
        bom["serialNumber"] = root.attrib["serialNumber"]
    if root.attrib.get("version", "").isdigit() and len(root.attrib["version"]) < 20:
        bom["version"] = int(root.attrib["version"])
    for child in root:
        tag = child.tag.removeprefix(namespace)
        if tag == "metadata":
            bom["metadata"] = _metadata(child, namespace, source, error)
        elif tag == "components":
            bom["components"] = [_component(c, namespace, 1, source, error) for c in child]
        elif tag == "dependencies":
            bom["dependencies"] = [_dependency(d, namespace) for d in child]
        elif tag == "compositions":
            bom["compositions"] = [_composition(c, namespace) for c in child]
    return found.group(1), bom


# Elements the schema allows once where they appear, and those that hold text alone.
_ONCE = _TEXT - {"url"} | {
    "metadata", "components", "dependencies", "compositions", "supplier", "manufacturer",
    "authors", "hashes", "licenses", "evidence", "externalReferences", "properties", "tools",
    "lifecycles", "timestamp", "aggregate", "assemblies", "email", "phase",
}  # fmt: skip
_TEXT_ONLY = _TEXT | {"timestamp", "aggregate", "email", "phase"}


def _check_elements(root: Any, ns: str, source: str, error: type[SbomgenError]) -> None:
    """Refuse what the reader would otherwise read one way among several, as the JSON gate
    refuses a key given twice: an element given twice where the schema allows it once (the
    reader kept the last), an element in no namespace (read as CycloneDX's own), an element
    of text with elements inside (its text read up to the first). Extensions (elements of
    other namespaces) are not looked into."""
    stack = [root]
    while stack:
        element = stack.pop()
        seen: set[str] = set()
        for child in element:
            if not isinstance(child.tag, str):  # a comment or processing instruction
                continue
            if not child.tag.startswith("{"):
                raise error(f"{source}: the element {child.tag[:80]!r} is in no namespace")
            if not child.tag.startswith(ns):
                continue
            tag = child.tag[len(ns) :]
            if tag in _ONCE:
                if tag in seen:
                    raise error(f"{source}: <{tag}> appears twice in one <{element.tag[len(ns) :]}>")
                seen.add(tag)
            if tag in _TEXT_ONLY and len(child):
                raise error(f"{source}: <{tag}> holds elements where it holds text")
            stack.append(child)


def _metadata(element: Any, ns: str, source: str, error: type[SbomgenError]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for child in element:
        tag = child.tag.removeprefix(ns)
        if tag == "component":
            result["component"] = _component(child, ns, 1, source, error)
        elif tag == "timestamp":
            result["timestamp"] = child.text or ""
        elif tag in ("supplier", "manufacturer"):
            result[tag] = _entity(child, ns)
        elif tag == "authors":
            result["authors"] = [_contact(a, ns) for a in child]
        elif tag == "tools":  # 1.4: <tool>s; 1.5+: <components> and <services>
            tools = [
                t for group in child for t in ([group] if len(group) == 0 or _name(group, ns) else group)
            ]
            result["tools"] = [{"name": _name(t, ns)} for t in tools if _name(t, ns)]
        elif tag == "lifecycles":
            result["lifecycles"] = [{c.tag.removeprefix(ns): c.text or "" for c in lc} for lc in child]
    return result


def _name(element: Any, ns: str) -> str | None:
    return next((c.text for c in element if c.tag.removeprefix(ns) == "name"), None)


def _contact(element: Any, ns: str) -> dict[str, Any]:
    return {
        c.tag.removeprefix(ns): c.text or "" for c in element if c.tag.removeprefix(ns) in ("name", "email")
    }


def _entity(element: Any, ns: str) -> dict[str, Any]:
    result: dict[str, Any] = {"url": [], "contact": []}
    for child in element:
        tag = child.tag.removeprefix(ns)
        if tag == "name":
            result["name"] = child.text or ""
        elif tag == "url":
            result["url"].append(child.text or "")
        elif tag == "contact":
            result["contact"].append(_contact(child, ns))
    return result


def _composition(element: Any, ns: str) -> dict[str, Any]:
    result: dict[str, Any] = {"aggregate": ""}
    for child in element:
        tag = child.tag.removeprefix(ns)
        if tag == "aggregate":
            result["aggregate"] = child.text or ""
        elif tag in ("assemblies", "dependencies"):
            result[tag] = [item.attrib.get("ref", "") for item in child]
    return result


def _component(element: Any, ns: str, depth: int, source: str, error: type[SbomgenError]) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise error(f"{source}: components nested more than {MAX_DEPTH} levels deep")
    result: dict[str, Any] = {
        key: value for key, value in element.attrib.items() if key in ("type", "bom-ref")
    }
    for child in element:
        tag = child.tag.removeprefix(ns)
        if tag in _TEXT:
            result[tag] = child.text or ""
        elif tag in ("supplier", "manufacturer"):
            result[tag] = _entity(child, ns)
        elif tag == "authors":
            result["authors"] = [_contact(a, ns) for a in child]
        elif tag == "hashes":
            result["hashes"] = [_hash(h) for h in child]
        elif tag == "licenses":
            result["licenses"] = [_license(choice, ns) for choice in child]
        elif tag == "evidence":
            found = [_license(c, ns) for e in child if e.tag.removeprefix(ns) == "licenses" for c in e]
            result["evidence"] = {"licenses": found}
        elif tag == "externalReferences":
            result["externalReferences"] = [_reference(r, ns) for r in child]
        elif tag == "properties":
            result["properties"] = [{"name": p.attrib.get("name", ""), "value": p.text or ""} for p in child]
        elif tag == "components":
            result["components"] = [_component(c, ns, depth + 1, source, error) for c in child]
    return result


def _license(element: Any, ns: str) -> dict[str, Any]:
    tag = element.tag.removeprefix(ns)
    acknowledgement = element.attrib.get("acknowledgement")
    if tag == "expression":
        choice: dict[str, Any] = {"expression": element.text or ""}
        if acknowledgement is not None:
            choice["acknowledgement"] = acknowledgement
        return choice
    body: dict[str, Any] = {}
    for child in element:
        if child.tag.removeprefix(ns) in ("id", "name", "url"):
            body[child.tag.removeprefix(ns)] = child.text or ""
    if acknowledgement is not None:
        body["acknowledgement"] = acknowledgement
    return {"license": body} if tag == "license" else {tag: body}


def _reference(element: Any, ns: str) -> dict[str, Any]:
    result: dict[str, Any] = {"type": element.attrib.get("type", "")}
    for child in element:
        tag = child.tag.removeprefix(ns)
        if tag in ("url", "comment"):
            result[tag] = child.text or ""
        elif tag == "hashes":  # a distribution's SHA-512 (BSI TR-03183-2)
            result["hashes"] = [_hash(h) for h in child]
    return result


def _hash(element: Any) -> dict[str, str]:
    return {"alg": element.attrib.get("alg", ""), "content": (element.text or "").strip()}


def _dependency(element: Any, ns: str) -> dict[str, Any]:
    return {"ref": element.attrib.get("ref", ""), "dependsOn": [d.attrib.get("ref", "") for d in element]}
