"""SPDX 3.0.1 JSON-LD through the official bindings (spdx-python-model): Core, Software and
SimpleLicensing profiles.

Every element but the files is a bindings object, checked by the bindings as it is built
(types, IRIs, enumerations), when the set links (every reference names an element of the
document) and when it is encoded (required properties, counts). The files, thousands of
one fixed shape, are written through a template the bindings' own encoder makes from a
file object with a marker in each varying field, the same way the SPDX 2 writer does, so
that the document streams from the temporary database instead of being built whole.

What the document states:
- ``software_sbomType``: ``source`` for a source archive, an sdist or a tree; ``build`` for
  a wheel or a Windows artifact.
- ``contains`` relationships: ``complete`` for the root, which was read whole and owns
  every file no bundled component claims; ``noAssertion`` for a bundled component's files
  (taken from the upstream declaration) and for ``dependsOn`` (only what the artifact
  declares is listed; build and system libraries are not examined).
- A file whose bytes sbomgen read (the artifact, a bundled wheel, an index file read
  whole) is the component's distribution file (``hasDistributionArtifact``) with its hashes,
  SHA-512 among them, and, where known, its URL (``binaryArtifact``); an archive is marked
  ``archive`` and ``container`` (BSI TR-03183-2's "structured"). A bundled component whose
  files the artifact holds (the C libraries of Misc/sbom.spdx.json) is distributed in the
  artifact: its distribution file is the artifact's own element, the root's ("the from
  Element is distributed as an artifact in each Element to, e.g. an RPM or archive file").
  A download never seen is no distribution file: its URL and SHA256 stay the package's.
- Source code: a source file that ``generates`` the package (an upstream source archive, the
  release's sdist; a source release's own artifact), or a ``vcs`` reference.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from datetime import timezone
from typing import Any
from urllib.parse import quote, urlsplit

from spdx_python_model import v3_0_1 as spdx3
from spdx_tools.spdx.validation.uri_validators import validate_download_location

from .. import __version__
from ..documents.creators import parse_creator
from ..errors import OutputValidationError
from ..model import Checksum, Component, Inventory, Party, content_id
from ..model.parts import Purpose
from . import INDEX_URL, in_artifact, index_files_json
from .spdx import INDEX_FILES, NAMESPACE_BASE, SpdxIds, _license, _package_ids

SPEC_VERSION = "3.0.1"
_HASHES = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
_HEX_DIGITS = {"SHA1": 40, "SHA256": 64, "SHA512": 128}
_LOWER_HEX = re.compile("[0-9a-f]+")
_PURPOSES = {Purpose.SOURCE: "source", Purpose.LIBRARY: "library", Purpose.APPLICATION: "application"}
_SOURCE_ARCHIVES = (".tar.gz", ".tgz", ".tar.xz", ".tar.bz2", ".tar")
_ARCHIVES = (*_SOURCE_ARCHIVES, ".zip", ".whl", ".msi", ".exe")
_FILE_MARKERS = ("@name@", "sbomgen:@id@", "@creation@", *(f"@{a}@" for a in _HASHES))


def _individual(enum: Any, name: str) -> str:
    return str(enum.NAMED_INDIVIDUALS[name])


def namespace(inventory: Inventory) -> str:
    """The document's own URI, and the base of every element's IRI."""
    return f"{NAMESPACE_BASE}/spdx3/{inventory.artifact.name}-{content_id(inventory)}"


def file_iri(base: str, path: str) -> str:
    """A file's IRI: unique as its path is, and the same whatever else the document holds."""
    return f"{base}#file/{quote(path, safe='/')}"


def sbom_type(inventory: Inventory) -> str:
    root = inventory.component(inventory.root)
    name = inventory.artifact.name.lower()
    is_source = (
        root.purpose is Purpose.SOURCE or name.endswith(_SOURCE_ARCHIVES) or not inventory.artifact.size
    )
    return "source" if is_source else "build"


class _Builder:
    """The bindings objects of one inventory's document, but its files."""

    def __init__(self, inventory: Inventory, creators: Sequence[str]) -> None:
        self.inventory = inventory
        self.base = namespace(inventory)
        self.objects: list[Any] = []
        self._agents: dict[Party, Any] = {}
        self._agent_ids = SpdxIds()
        self._licenses: dict[str, Any] = {}
        self._relationships = 0
        self._artifact: Any = None  # the artifact's distribution file, made once
        self.creation = spdx3.CreationInfo(
            specVersion=SPEC_VERSION, created=inventory.created.astimezone(timezone.utc)
        )
        # IDs allocated, sbomgen's first: a --creator tool named "sbomgen", or two whose names
        # differ only where an ID cannot (a b, a-b), would have taken one element's ID.
        tool_id = self._agent_ids.allocate("SPDXRef-Tool-", "sbomgen")
        tool = self._add(spdx3.Tool, tool_id, name=f"sbomgen-{__version__}")
        actors = [parse_creator(c) for c in creators]
        people = [self.agent(a) for a in actors if isinstance(a, Party)]
        tools = [
            self._add(spdx3.Tool, self._agent_ids.allocate("SPDXRef-Tool-", a), name=a)
            for a in dict.fromkeys(a for a in actors if isinstance(a, str))
        ]
        if not people:  # createdBy needs an agent: sbomgen itself
            people = [
                self._add(spdx3.SoftwareAgent, "SPDXRef-SoftwareAgent-sbomgen", name=f"sbomgen-{__version__}")
            ]
        self.creation.createdBy = people
        self.creation.createdUsing = [tool, *tools]

    def iri(self, local: str) -> str:
        return f"{self.base}#{local}"

    def _add(self, kind: Any, local: str, **properties: Any) -> Any:
        element = kind(spdxId=self.iri(local), creationInfo=self.creation, **properties)
        self.objects.append(element)
        return element

    def agent(self, party: Party) -> Any:
        if party not in self._agents:
            kind = spdx3.Person if party.kind == "Person" else spdx3.Organization
            local = self._agent_ids.allocate(f"SPDXRef-{kind.__name__}-", party.name)
            identifiers = [
                _identifier(what, value)
                for what, value in (("email", party.email), ("urlScheme", party.url))
                if value
            ]
            self._agents[party] = self._add(kind, local, name=party.name, externalIdentifier=identifiers)
        return self._agents[party]

    def license(self, expression: str) -> Any:
        if expression not in self._licenses:
            local = f"SPDXRef-License-{hashlib.sha256(expression.encode()).hexdigest()[:16]}"
            self._licenses[expression] = self._add(
                spdx3.simplelicensing_LicenseExpression, local, simplelicensing_licenseExpression=expression
            )
        return self._licenses[expression]

    def relate(self, source: Any, kind: str, targets: Sequence[Any], completeness: str | None = None) -> None:
        self._relationships += 1
        properties: dict[str, Any] = {}
        if completeness is not None:
            properties["completeness"] = _individual(spdx3.RelationshipCompleteness, completeness)
        self._add(
            spdx3.Relationship,
            f"SPDXRef-Relationship-{self._relationships}",
            from_=source,
            to=list(targets),
            relationshipType=_individual(spdx3.RelationshipType, kind),
            **properties,
        )

    def hashes(self, checksums: Sequence[Any]) -> list[Any]:
        return [
            spdx3.Hash(algorithm=_individual(spdx3.HashAlgorithm, _HASHES[c.algorithm]), hashValue=c.value)
            for c in checksums
            if c.algorithm in _HASHES
        ]

    def package(self, component: Component, local: str) -> Any:
        identifiers = []
        if component.purl:
            identifiers.append(_identifier("packageUrl", component.purl))
        if component.cpe:
            identifiers.append(_identifier("cpe23", component.cpe))
        properties: dict[str, Any] = {
            "name": component.name,
            "externalIdentifier": identifiers,
            "verifiedUsing": self.hashes(component.checksums),
            "software_primaryPurpose": _individual(
                spdx3.software_SoftwarePurpose, _PURPOSES[component.purpose]
            ),
        }
        if component.version:
            properties["software_packageVersion"] = component.version
        if component.purl:
            properties["software_packageUrl"] = component.purl
        location = component.download_location
        if location and validate_download_location(location):
            # As in the SPDX 2 document: a location SPDX's URL grammar refuses is said in words.
            properties["software_sourceInfo"] = f"downloaded from {location}"
        elif location:
            properties["software_downloadLocation"] = location
        if component.supplier is not None:
            properties["suppliedBy"] = self.agent(component.supplier)
        if component.originator is not None:
            properties["originatedBy"] = [self.agent(component.originator)]
        if component.copyright_text:
            properties["software_copyrightText"] = component.copyright_text
        if component.comment:
            properties["comment"] = component.comment
        return self._add(spdx3.software_Package, local, **properties)

    def distribution(self, component: Component, package: Any, local: str) -> None:
        """The file ``component`` is deployed as, linked only where sbomgen hashed its bytes
        (the artifact, a bundled wheel, an index file read whole): BSI TR-03183-2 asks its
        SHA-512, which no upstream declaration gives. A source release is its own source."""
        inventory = self.inventory
        if in_artifact(inventory, component):
            return  # linked to the artifact's file once it is made (build)
        is_root = component.key == inventory.root
        name: str | None = inventory.artifact.name
        if is_root:
            checksums = tuple(inventory.artifact.checksums)
        else:
            sha512 = component.distribution_sha512
            checksums = (*component.checksums, *((Checksum("SHA512", sha512),) if sha512 else ()))
            name = component.file_name or _url_name(component.download_location)
        if not name or not any(c.algorithm == "SHA512" for c in checksums):
            return
        location = component.download_location
        is_source = is_root and sbom_type(inventory) == "source"
        properties: dict[str, Any] = {"name": name, "verifiedUsing": self.hashes(checksums)}
        if name.lower().endswith(_ARCHIVES):
            purposes = ["source", "archive", "container"] if is_source else ["archive", "container"]
            properties["software_primaryPurpose"] = _purpose(purposes[0])
            properties["software_additionalPurpose"] = [_purpose(p) for p in purposes[1:]]
        if location and not validate_download_location(location):
            kinds = ("binaryArtifact", "sourceArtifact") if is_source else ("binaryArtifact",)
            properties["externalRef"] = [_reference(kind, location) for kind in kinds]
        artifact = self._add(
            spdx3.software_File, f"SPDXRef-Distribution-{local.removeprefix('SPDXRef-')}", **properties
        )
        if is_root:
            self._artifact = artifact
        self.relate(package, "hasDistributionArtifact", [artifact])
        if is_source and location:
            self.relate(artifact, "generates", [package])

    def source(self, component: Component, package: Any, local: str) -> None:
        """Where the component's source code is, as a source file that ``generates`` it: an
        upstream source archive (Misc/sbom.spdx.json's download), else the release's sdist
        on the index; a repository (core metadata's Project-URL) is a ``vcs`` reference."""
        location = component.download_location
        url = component.source_url
        if component.key == self.inventory.root:
            if url is None and location and sbom_type(self.inventory) == "source":
                if not validate_download_location(location):  # its distribution file generates it
                    package.externalRef.append(_reference("sourceArtifact", location))
                return
        elif url is None and _is_source_archive(location):
            url = location
        if url is None or validate_download_location(url):
            return
        name = _url_name(url) or url
        if not _is_source_archive(url):
            package.externalRef.append(_reference("vcs", url))
            return
        package.externalRef.append(_reference("sourceArtifact", url))
        sha256 = dict(component.index_files).get(name) if url != location else None
        checksums = (Checksum("SHA256", sha256),) if sha256 else component.checksums
        sha512 = component.distribution_sha512
        if url == location and sha512 and in_artifact(self.inventory, component):
            checksums = (*checksums, Checksum("SHA512", sha512))  # no distribution file says it
        properties: dict[str, Any] = {
            "name": name,
            "verifiedUsing": self.hashes(checksums),
            "software_primaryPurpose": _purpose("source"),
            "software_additionalPurpose": [_purpose("archive")],
            "externalRef": [_reference("sourceArtifact", url)],
        }
        artifact = self._add(
            spdx3.software_File, f"SPDXRef-Source-{local.removeprefix('SPDXRef-')}", **properties
        )
        self.relate(artifact, "generates", [package])

    def annotate(self, subject: Any, statement: str, local: str) -> None:
        self._add(
            spdx3.Annotation,
            local,
            annotationType=_individual(spdx3.AnnotationType, "other"),
            subject=subject,
            statement=statement,
        )

    def build(self) -> tuple[Any, set[str]]:
        """The object set, and the IRIs of the files it refers to (written apart)."""
        inventory = self.inventory
        ids = _package_ids(inventory)
        packages: dict[str, Any] = {}
        for component in sorted(inventory.components, key=lambda c: ids[c.key]):
            package = packages[component.key] = self.package(component, ids[component.key])
            self.distribution(component, package, ids[component.key])
            self.source(component, package, ids[component.key])
            for kind, expression in (
                ("hasConcludedLicense", component.license_concluded),
                ("hasDeclaredLicense", component.license_declared),
            ):
                if expression:  # normalised as in the SPDX 2 document
                    normal = str(_license(expression, ids[component.key]))
                    self.relate(package, kind, [self.license(normal)])
            if component.index_files:
                statement = f"{INDEX_FILES} {index_files_json(component)}"
                self.annotate(
                    package, statement, f"SPDXRef-Annotation-{ids[component.key].removeprefix('SPDXRef-')}"
                )
            if component.index_url:
                local = f"SPDXRef-Annotation-index-{ids[component.key].removeprefix('SPDXRef-')}"
                self.annotate(package, f"{INDEX_URL} {component.index_url}", local)
        if self._artifact is not None:  # what the artifact holds the files of is deployed as it
            for component in sorted(inventory.components, key=lambda c: ids[c.key]):
                if in_artifact(inventory, component):
                    self.relate(packages[component.key], "hasDistributionArtifact", [self._artifact])
        targets: dict[str, list[str]] = {}
        for dependency in inventory.dependencies:
            targets.setdefault(dependency.source, []).append(dependency.target)
        for source in sorted(targets, key=ids.__getitem__):
            wanted = sorted(set(targets[source]), key=ids.__getitem__)
            self.relate(packages[source], "dependsOn", [packages[t] for t in wanted], "noAssertion")
        files: set[str] = set()
        for component in sorted(inventory.components, key=lambda c: ids[c.key]):
            if component.files:
                iris = [file_iri(self.base, path) for path in component.files]
                files.update(iris)
                completeness = "complete" if component.key == inventory.root else "noAssertion"
                self.relate(packages[component.key], "contains", iris, completeness)
        root = packages[inventory.root]
        sbom = self._add(
            spdx3.software_Sbom,
            "SPDXRef-SBOM",
            rootElement=[root],
            software_sbomType=[_individual(spdx3.software_SbomType, sbom_type(inventory))],
        )
        document = spdx3.SpdxDocument(
            spdxId=self.base,
            creationInfo=self.creation,
            name=inventory.name,
            rootElement=[sbom],
            dataLicense=self.license("CC0-1.0"),
            profileConformance=[
                _individual(spdx3.ProfileIdentifierType, p) for p in ("core", "software", "simpleLicensing")
            ],
        )
        if inventory.derived_from is not None:
            upstream = inventory.derived_from
            document.import_ = [
                spdx3.ExternalMap(
                    externalSpdxId=upstream.namespace,
                    verifiedUsing=[
                        spdx3.Hash(
                            algorithm=_individual(spdx3.HashAlgorithm, "sha1"), hashValue=upstream.sha1
                        )
                    ],
                )
            ]
            for number, change in enumerate(inventory.changes, 1):
                self.annotate(document, change, f"SPDXRef-Annotation-change-{number}")
        self.objects.append(document)
        return spdx3.SHACLObjectSet(self.objects), files


def _purpose(name: str) -> str:
    return _individual(spdx3.software_SoftwarePurpose, name)


def _reference(kind: str, url: str) -> Any:
    return spdx3.ExternalRef(externalRefType=_individual(spdx3.ExternalRefType, kind), locator=[url])


def _url_name(url: str | None) -> str | None:
    return (urlsplit(url).path.rpartition("/")[2] or None) if url else None


def _is_source_archive(url: str | None) -> bool:
    name = _url_name(url) or ""
    return name.lower().endswith((*_SOURCE_ARCHIVES, ".zip"))


def _identifier(kind: str, value: str) -> Any:
    return spdx3.ExternalIdentifier(
        externalIdentifierType=_individual(spdx3.ExternalIdentifierType, kind), identifier=value
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("ascii")


class _FileText:
    """Files as the bindings encode them: one prototype per set of algorithms, made by the
    bindings with markers in the varying fields, then filled for each file."""

    def __init__(self, creation_id: str) -> None:
        self._creation_id = creation_id
        self._formats: dict[tuple[str, ...], tuple[str, list[int]]] = {}

    def _format(self, algorithms: tuple[str, ...]) -> tuple[str, list[int]]:
        found = self._formats.get(algorithms)
        if found is None:
            prototype = spdx3.software_File(
                spdxId=_FILE_MARKERS[1],
                name=_FILE_MARKERS[0],
                creationInfo=_FILE_MARKERS[2],
                verifiedUsing=[
                    spdx3.Hash(algorithm=_individual(spdx3.HashAlgorithm, _HASHES[a]), hashValue=f"@{a}@")
                    for a in algorithms
                ],
            )
            encoded = spdx3.JSONLDSerializer().serialize_data(spdx3.SHACLObjectSet([prototype]))
            encoded.pop("@context")
            text = _dumps(encoded).decode("ascii").replace("%", "%%")
            order = []
            markers = [*_FILE_MARKERS[:3], *(f"@{a}@" for a in algorithms)]
            positions = sorted((text.index(_dumps(m).decode("ascii")), i) for i, m in enumerate(markers))
            for _, index in positions:
                text = text.replace(_dumps(markers[index]).decode("ascii"), "%s", 1)
                order.append(index)
            found = self._formats[algorithms] = (text, order)
        return found

    def file(self, iri: str, path: str, digests: dict[str, str]) -> bytes:
        text, order = self._format(tuple(digests))
        values = [path, iri, self._creation_id, *digests.values()]
        return (text % tuple(json.dumps(values[i]) for i in order)).encode("ascii")


def _file_problem(path: str, digests: dict[str, str]) -> str | None:
    if not path or path.startswith("/"):
        return f"file name {path!r} is empty or absolute"
    for algorithm, value in digests.items():
        if len(value) != _HEX_DIGITS[algorithm] or not _LOWER_HEX.fullmatch(value):
            return f"{path}: {algorithm} checksum is not {_HEX_DIGITS[algorithm]} lowercase hex digits"
    return None


def _raise(problem: str) -> None:
    raise OutputValidationError(f"the SPDX 3 document failed validation: {problem}")


def render_parts(inventory: Inventory, creators: Sequence[str] = ()) -> Iterator[bytes]:
    """The validated SPDX 3.0.1 JSON-LD document, as pieces: every check is made before the
    first piece is returned."""
    objects, file_iris = _Builder(inventory, creators).build()
    unresolved = objects.link() - file_iris
    if unresolved:
        _raise(f"references to elements the document lacks: {', '.join(sorted(unresolved)[:3])}")
    try:
        encoded = spdx3.JSONLDSerializer().serialize_data(objects, force_at_graph=True)
    except ValueError as exc:  # a required property missing, a count exceeded
        _raise(str(exc))
    base = namespace(inventory)
    rows = []
    for path, _, *values in inventory.files.rows_by_path():
        iri = file_iri(base, path)
        if iri not in file_iris:
            continue  # a file no component contains is not in SPDX 2 either
        digests = {a: v for a, v in zip(_HASHES, values, strict=True) if v is not None}
        problem = _file_problem(path, digests)
        if problem:
            _raise(problem)
        rows.append(iri)
    if len(rows) != len(file_iris):
        _raise(f"{len(file_iris) - len(rows)} contained file(s) are not files of the artifact")
    creation_id = next(o["@id"] for o in encoded["@graph"] if o["type"] == "CreationInfo")
    return _pieces(inventory, encoded, base, file_iris, _FileText(creation_id))


def _pieces(
    inventory: Inventory, encoded: dict[str, Any], base: str, wanted: set[str], text: _FileText
) -> Iterator[bytes]:
    yield b'{"@context":' + _dumps(encoded["@context"]) + b',"@graph":['
    yield b",".join(_dumps(o) for o in encoded["@graph"])
    batch: list[bytes] = []
    for path, _, *values in inventory.files.rows_by_path():
        iri = file_iri(base, path)
        if iri in wanted:
            batch.append(
                text.file(iri, path, {a: v for a, v in zip(_HASHES, values, strict=True) if v is not None})
            )
            if len(batch) >= 512:
                yield b"," + b",".join(batch)
                batch = []
    if batch:
        yield b"," + b",".join(batch)
    yield b"]}\n"


def render(inventory: Inventory, creators: Sequence[str] = ()) -> bytes:
    return b"".join(render_parts(inventory, creators))
