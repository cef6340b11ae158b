"""One neutral view of an SBOM for the compliance profiles (``profiles.py``): what each
format says of the document and of each component, read through the gate's models. Files
are not components here (SPDX files, CycloneDX components of type ``file``)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..documents import cyclonedx, spdx2

_UNSTATED = ("", "NOASSERTION")
_EMAIL = re.compile(r"[^@\s()<>]+@[^@\s()<>]+\.[^@\s()<>]+")
_URL = re.compile(r"https?://\S+")
# SPDX 2 relationships that say one package is part of or needed by another: (forward?)
_SPDX_EDGES = {"DEPENDS_ON": True, "CONTAINS": True, "DEPENDENCY_OF": False, "CONTAINED_BY": False}
_SPDX_IDENTIFIERS = {"purl", "cpe22Type", "cpe23Type", "swid"}
BSI_PROPERTIES = ("executable", "archive", "structured")


@dataclass(frozen=True)
class Component:
    ref: str
    name: str
    version: str | None = None
    supplier: str | None = None
    creator_contacts: tuple[str, ...] = ()  # e-mail addresses and URLs of who made it
    identifiers: tuple[str, ...] = ()  # PURL, CPE, SWID
    hashes: frozenset[str] = frozenset()  # algorithms, as "SHA-512"
    deployable_hashes: frozenset[str] = frozenset()  # of the deployable form
    concluded: str | None = None
    declared: str | None = None
    copyright: str | None = None
    filename: str | None = None
    source_uri: str | None = None
    deployable_uri: str | None = None
    properties: frozenset[str] = frozenset()  # the BSI properties stated (BSI_PROPERTIES)


@dataclass
class View:
    kind: str  # "SPDX 2.3", "CycloneDX 1.6"
    format: str  # "spdx2", "spdx3", "cyclonedx"
    version: tuple[int, ...]
    authors: tuple[str, ...] = ()
    author_contacts: tuple[str, ...] = ()
    timestamp: str | None = None
    sbom_types: tuple[str, ...] = ()
    uri: str | None = None
    root: str | None = None
    components: list[Component] = field(default_factory=list)
    edges: dict[str, list[str]] = field(default_factory=dict)
    completeness: bool = False  # the completeness of the dependencies is stated

    @cached_property
    def reachable(self) -> set[str]:
        """The components the root reaches through the relationships, the root included."""
        if self.root is None:
            return set()
        seen, todo = {self.root}, [self.root]
        while todo:
            for child in self.edges.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen


def _stated(value: str | None) -> str | None:
    return None if value is None or value.strip() in _UNSTATED else value


def _contacts(*texts: str | None) -> tuple[str, ...]:
    found: list[str] = []
    for text in texts:
        if text:
            found += _EMAIL.findall(text) + _URL.findall(text)
    return tuple(found)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def from_spdx2(document: spdx2.Document) -> View:
    info = document.creationInfo
    creators = tuple(info.creators) if info is not None else ()
    packages = {p.SPDXID for p in document.packages}
    edges: dict[str, list[str]] = defaultdict(list)
    for r in document.relationships:
        forward = _SPDX_EDGES.get(r.relationshipType)
        if forward is None and r.relationshipType.endswith("_DEPENDENCY_OF"):
            forward = False
        if forward is None or not {r.spdxElementId, r.relatedSpdxElement} <= packages:
            continue
        start, end = (r.spdxElementId, r.relatedSpdxElement)
        edges[start if forward else end].append(end if forward else start)
    described = [i for i in document.described() if i in packages]
    version = document.spdxVersion.removeprefix("SPDX-")
    return View(
        kind=f"SPDX {version}",
        format="spdx2",
        version=_version(version),
        authors=creators,
        # "Person: name (e-mail)", "Organization: name (e-mail)"; a tool has no contact.
        author_contacts=_contacts(*(c for c in creators if not c.startswith("Tool:"))),
        timestamp=_stated(info.created) if info is not None else None,
        uri=document.documentNamespace,
        root=described[0] if described else None,
        components=[_spdx2_package(p) for p in document.packages],
        edges=dict(edges),
    )


def _spdx2_package(package: spdx2.Package) -> Component:
    algorithms = frozenset(_algorithm(c.algorithm) for c in package.checksums)
    download = _stated(package.downloadLocation)
    return Component(
        ref=package.SPDXID,
        name=package.name,
        version=_stated(package.versionInfo),
        supplier=_stated(package.supplier),
        creator_contacts=_contacts(_stated(package.originator)),
        identifiers=tuple(
            r.referenceLocator for r in package.externalRefs if r.referenceType in _SPDX_IDENTIFIERS
        ),
        hashes=algorithms,
        deployable_hashes=algorithms,  # SPDX 2: the checksums of the package's file
        concluded=_stated(package.licenseConcluded),
        declared=_stated(package.licenseDeclared),
        copyright=_stated(package.copyrightText),
        filename=_stated(package.packageFileName),
        deployable_uri=download if download != "NONE" else None,
    )


def _algorithm(name: str) -> str:
    """``SHA512`` (SPDX 2) and ``SHA-512`` (CycloneDX) alike as ``SHA-512``."""
    return re.sub(r"^(SHA3|BLAKE2b|SHA)-?(\d)", r"\1-\2", name.upper().replace("BLAKE2B", "BLAKE2b"))


def from_cyclonedx(bom: cyclonedx.Bom) -> View:
    metadata = bom.metadata or cyclonedx.Metadata()
    authors = [a.name or a.email or "" for a in metadata.authors]
    for entity in (metadata.manufacturer, metadata.supplier):
        if entity is not None and entity.name:
            authors.append(entity.name)
    tools = metadata.tools
    if isinstance(tools, dict):  # 1.5+: {"components": [...], "services": [...]}
        tools = [*tools.get("components", []), *tools.get("services", [])]
    authors += [str(t.get("name")) for t in tools or () if isinstance(t, dict) and t.get("name")]
    components = [c for c in bom.all_components() if c.type != "file"]
    refs = {id(c): c.bom_ref or f"#{n}" for n, c in enumerate(components)}
    root = metadata.component
    serial = bom.serialNumber
    return View(
        kind=f"CycloneDX {bom.specVersion}",
        format="cyclonedx",
        version=_version(bom.specVersion),
        authors=tuple(a for a in authors if a),
        author_contacts=tuple(a.email for a in metadata.authors if a.email) + _entity(metadata.manufacturer),
        timestamp=_stated(metadata.timestamp),
        sbom_types=tuple(t for lc in metadata.lifecycles if (t := lc.phase or lc.name)),
        # BOM-Link (CycloneDX): urn:cdx:serial/version
        uri=f"urn:cdx:{serial.removeprefix('urn:uuid:')}/{bom.version or 1}" if serial else None,
        root=refs[id(root)] if root is not None and root.type != "file" else None,
        components=[_cdx_component(refs[id(c)], c) for c in components],
        edges={d.ref: list(d.dependsOn) for d in bom.dependencies},
        # Each composition's aggregate says how complete its dependencies are.
        completeness=bool(bom.compositions) and all(c.aggregate != "not_specified" for c in bom.compositions),
    )


def _entity(entity: cyclonedx.OrganizationalEntity | None) -> tuple[str, ...]:
    if entity is None:
        return ()
    return tuple(entity.url) + tuple(c.email for c in entity.contact if c.email)


def _cdx_component(ref: str, item: cyclonedx.Component) -> Component:
    licenses: dict[str, str | None] = {"declared": None, "concluded": None}
    for choice in item.stated_licenses:
        named = choice.spdx or (choice.license.name if choice.license is not None else None)
        licenses[choice.kind] = licenses[choice.kind] or named
    references = {r.type: r for r in reversed(item.externalReferences)}
    distribution = references.get("distribution") or references.get("distribution-intake")
    source = references.get("source-distribution") or references.get("vcs")
    properties = {p.name: p.value for p in item.properties}
    identifiers = [i for i in (item.purl, item.cpe) if i]
    if item.swid and item.swid.get("tagId"):
        identifiers.append(str(item.swid["tagId"]))
    supplier = item.supplier.name if item.supplier is not None else None
    own = frozenset(_algorithm(h.alg) for h in item.hashes)
    return Component(
        ref=ref,
        name=item.name,
        version=_stated(item.version),
        supplier=supplier or (item.manufacturer.name if item.manufacturer is not None else None),
        creator_contacts=_entity(item.manufacturer) + tuple(a.email for a in item.authors if a.email),
        identifiers=tuple(identifiers),
        hashes=own,
        deployable_hashes=own | frozenset(_algorithm(h.alg) for h in distribution.hashes)
        if distribution
        else own,
        concluded=licenses["concluded"],
        declared=licenses["declared"],
        copyright=_stated(item.copyright),
        filename=_stated(properties.get("bsi:component:filename")),
        source_uri=source.url if source is not None else None,
        deployable_uri=distribution.url if distribution is not None else None,
        properties=frozenset(p for p in BSI_PROPERTIES if _stated(properties.get(f"bsi:component:{p}"))),
    )


def _last(iri: Any) -> str:
    """The name an SPDX 3 vocabulary IRI ends with (``.../sha512`` -> ``sha512``)."""
    return str(iri).rpartition("/")[2]


def _agent_contacts(agent: Any) -> tuple[str, ...]:
    """An SPDX 3 agent's e-mail addresses and URLs, from its external identifiers."""
    found = []
    for identifier in getattr(agent, "externalIdentifier", None) or ():
        kind, value = _last(identifier.externalIdentifierType), identifier.identifier or ""
        if (kind == "email" and "@" in value) or (kind in ("urlScheme", "other") and _URL.match(value)):
            found.append(value)
    return tuple(found)


def _spdx3_algorithms(element: Any) -> frozenset[str]:
    return frozenset(
        _algorithm(_last(h.algorithm)) for h in element.verifiedUsing or () if type(h).__name__ == "Hash"
    )


def from_spdx3(document: Any) -> View:
    """The view of an SPDX 3.0.1 document (``documents.spdx3.Document``): packages are the
    components; a package's deployable form is the file it has as distribution artifact."""
    (spdx_document,) = document.of_type("SpdxDocument")
    info = spdx_document.creationInfo
    agents = [document.by_id(a) for a in info.createdBy or ()] if info is not None else []
    tools = [document.by_id(t) for t in info.createdUsing or ()] if info is not None else []
    packages = {p.spdxId: p for p in document.of_type("software_Package")}
    tops = [document.by_id(e) for e in spdx_document.rootElement or ()]
    sboms = [e for e in tops if type(e).__name__ == "software_Sbom"]
    roots = [document.by_id(r) for s in sboms for r in s.rootElement or ()] + tops
    root = next((r.spdxId for r in roots if r is not None and r.spdxId in packages), None)
    edges: dict[str, list[str]] = defaultdict(list)
    related: dict[tuple[str, str], list[Any]] = defaultdict(list)
    completeness = []
    for relationship in document.of_type("Relationship"):
        kind = _last(relationship.relationshipType)
        origin = document.by_id(relationship.from_)
        targets = [t for t in map(document.by_id, relationship.to) if t is not None]
        if origin is None:
            continue
        if kind in ("dependsOn", "contains"):
            edges[origin.spdxId] += [t.spdxId for t in targets if t.spdxId in packages]
            if origin.spdxId in packages:
                completeness.append(relationship.completeness is not None)
        related[origin.spdxId, kind] += targets
    return View(
        kind="SPDX 3.0.1",
        format="spdx3",
        version=(3, 0, 1),
        authors=tuple(a.name for a in agents + tools if a is not None and a.name),
        author_contacts=tuple(c for a in agents if a is not None for c in _agent_contacts(a)),
        timestamp=info.created.isoformat() if info is not None and info.created else None,
        sbom_types=tuple(_last(t) for s in sboms for t in s.software_sbomType or ()),
        # BSI's SBOM-URI: the IRI of the SBOM (or of the package) the document is about.
        uri=next((e.spdxId for e in tops if e is not None and (e in sboms or e.spdxId in packages)), None),
        root=root,
        components=[_spdx3_package(document, p, related) for p in packages.values()],
        edges=dict(edges),
        completeness=bool(completeness) and all(completeness),
    )


def _spdx3_package(document: Any, package: Any, related: dict[tuple[str, str], list[Any]]) -> Component:
    def license_of(kind: str) -> str | None:
        texts = [getattr(t, "simplelicensing_licenseExpression", None) for t in related[package.spdxId, kind]]
        return next((t for t in texts if _stated(t)), None)

    identifiers = [package.software_packageUrl] if package.software_packageUrl else []
    identifiers += [
        i.identifier
        for i in package.externalIdentifier or ()
        if _last(i.externalIdentifierType) in ("cpe22", "cpe23", "packageUrl", "swid", "swhid")
    ]
    artifacts = [
        f for f in related[package.spdxId, "hasDistributionArtifact"] if type(f).__name__ == "software_File"
    ]
    sources = [
        r.locator[0]
        for r in package.externalRef or ()
        if _last(r.externalRefType) in ("sourceArtifact", "vcs") and r.locator
    ]
    binaries = [
        r.locator[0]
        for f in artifacts
        for r in f.externalRef or ()
        if _last(r.externalRefType) == "binaryArtifact" and r.locator
    ]
    supplier = document.by_id(package.suppliedBy) if package.suppliedBy else None
    return Component(
        ref=package.spdxId,
        name=package.name or "",
        version=_stated(package.software_packageVersion),
        supplier=supplier.name if supplier is not None else None,
        creator_contacts=tuple(
            c for a in package.originatedBy or () for c in _agent_contacts(document.by_id(a))
        ),
        identifiers=tuple(identifiers),
        hashes=_spdx3_algorithms(package),
        deployable_hashes=frozenset(a for f in artifacts for a in _spdx3_algorithms(f)),
        concluded=license_of("hasConcludedLicense"),
        declared=license_of("hasDeclaredLicense"),
        copyright=_stated(package.software_copyrightText),
        filename=next((f.name for f in artifacts if f.name), None),
        source_uri=next(iter(sources), None),
        deployable_uri=next(iter(binaries), None) or _stated(package.software_downloadLocation),
    )
