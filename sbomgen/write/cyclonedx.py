"""CycloneDX 1.7 (or 1.6; JSON or XML) through cyclonedx-python-lib, validated strictly before it is written.

The artifact's own component is the BOM's subject (``metadata.component``). Bundled
packages, and what the subject itself vendors, are top-level components, with what a
bundled package vendors nested inside it; every file is a ``file`` component with its
hashes, nested under the package that contains it (top-level for the subject's own
files). The dependency graph mirrors the inventory's.
The release files the index listed for a package are a property of its component.

For BSI TR-03183-2 v2.1: each package carries the properties of BSI's taxonomy
(``bsi:component:filename``, ``…:executable``, ``…:archive``, ``…:structured``) for the
file it is deployed as (the artifact, or the upstream download), the subject the artifact's
SHA-512, and the document its lifecycle (pre-build for a source archive, build for what
was built); the SBOM's own URI is its serial number (``urn:uuid:…``). A bundled package
whose files the artifact holds is distributed in it, as in SPDX 3: its ``distribution``
reference is the artifact's URL with the artifact's hashes (SHA-512 among them), and the
upstream download it came from its ``source-distribution`` (with that download's hashes).
The completeness of what the document lists is stated in ``compositions``, as the SPDX 3
document states it on its relationships: the subject's assembly is ``complete`` (the
artifact was read whole), a bundled package's assembly and every dependency list ``unknown``
(its files are taken from the upstream declaration; build and system libraries are not
examined). The library has no model of compositions, so they are added to its serialised
text, before the strict validator reads it.

Files, thousands of components of one fixed shape, are written through templates that the
library's own serialiser makes from a file component of that shape (a test holds them
equal to its output) and checked by the rules its validators apply to them. The rest of
the document is the library's model, serialised and validated strictly by the library,
with one placeholder file wherever a component holds files: the files stream from the
inventory's table in the placeholder's place, in the library's order (by name), so memory
holds none of them. A file listed by several components is nested under the first of
them: a bom-ref names one element.

What the validators check of a whole array or document is uniqueness (JSON's uniqueItems,
XML's unique bom-refs), and it holds by keys: a file's component and ref carry its path,
and each path is written once (the table's key, the rule above); every other ref is
"component:" and a component's key, in the document the library validates.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json
import re
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement, LicenseExpression
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.spdx import is_supported_id
from packageurl import PackageURL
from py_serializable.xml import xs_normalizedString, xs_token

from .. import __version__
from ..documents.creators import parse_creator
from ..documents.parse import parse_json
from ..errors import OutputValidationError
from ..model import Checksum, Component, FileEntry, Inventory, Party, Purpose, content_id
from ..model.files import ALGORITHMS, OwnedPaths, entry_of, row_of
from . import (
    INDEX_FILES,
    INDEX_UNSIGNED,
    INDEX_URL,
    LICENSE_METHOD,
    in_artifact,
    index_files_json,
    index_unsigned_text,
)

SCHEMA_VERSION = SchemaVersion.V1_7
VERSIONS = {"1.7": SchemaVersion.V1_7, "1.6": SchemaVersion.V1_6}  # what --cyclonedx-version offers
_ALGORITHMS = {"SHA1": HashAlgorithm.SHA_1, "SHA256": HashAlgorithm.SHA_256, "SHA512": HashAlgorithm.SHA_512}
_NAMESPACE = uuid.UUID("6f1c8a52-3d0e-4a0e-9a57-8d2f6f4c1e11")  # sbomgen's, for serial numbers
_ITEM = {"assemblies": "assembly", "dependencies": "dependency"}  # compositions' XML elements
_BATCH = 512  # elements joined into one piece: few pieces, flat memory


def _hashes(checksums: tuple[Checksum, ...]) -> list[HashType]:
    return [
        HashType(alg=_ALGORITHMS[c.algorithm], content=c.value)
        for c in checksums
        if c.algorithm in _ALGORITHMS
    ]


def _entity(party: Party) -> OrganizationalEntity:
    """An organization with its URL, or e-mail as its contact's."""
    contacts = [OrganizationalContact(email=party.email)] if party.email else None
    return OrganizationalEntity(
        name=party.name, urls=[XsUri(party.url)] if party.url else None, contacts=contacts
    )


def _supplier(party: Party | None) -> OrganizationalEntity | None:
    if party is None:
        return None
    if party.kind == "Organization":
        return OrganizationalEntity(name=party.name)
    return OrganizationalEntity(contacts=[OrganizationalContact(name=party.name, email=party.email)])


def _file(entry: FileEntry) -> CdxComponent:
    return CdxComponent(
        type=ComponentType.FILE,
        name=entry.path,
        bom_ref=f"file:{entry.path}",
        hashes=_hashes(entry.checksums),
    )


def _licenses(component: Component) -> tuple[list[Any], list[Any]]:
    """The declared and the concluded license, and what goes in the evidence. Both are
    written by id where each is one license; a concluded expression of several goes alone,
    as cyclonedx-python-lib (and CycloneDX 1.6) allow no other license beside an expression,
    and the declared one then goes in the component's evidence, acknowledged as declared (as
    cyclonedx-py moves such licenses), so that it is not lost."""
    declared, concluded = component.license_declared, component.license_concluded
    found = [
        (expression, acknowledgement)
        for expression, acknowledgement in (
            (declared, LicenseAcknowledgement.DECLARED),
            (concluded, LicenseAcknowledgement.CONCLUDED),
        )
        if expression
    ]
    if len(found) < 2:
        return [LicenseExpression(e, acknowledgement=a) for e, a in found], []
    if all(is_supported_id(e) for e, _ in found):
        return [DisjunctiveLicense(id=e, acknowledgement=a) for e, a in found], []
    assert declared is not None and concluded is not None
    return [LicenseExpression(concluded, acknowledgement=LicenseAcknowledgement.CONCLUDED)], [
        LicenseExpression(declared, acknowledgement=LicenseAcknowledgement.DECLARED)
    ]


_ARCHIVES = (".tar.gz", ".tgz", ".tar.xz", ".tar.bz2", ".tar", ".zip", ".whl", ".nupkg")
_EXECUTABLES = (".exe", ".msi")


def _file_name(component: Component) -> str | None:
    """The name of the file the component's hashes are of: the artifact's, else the download's."""
    if component.file_name:
        return component.file_name
    if component.download_location:
        name = component.download_location.split("?", 1)[0].split("#", 1)[0].rstrip("/").rpartition("/")[2]
        return name or None
    return None


def _is_repository(url: str) -> bool:
    return not url.split("?", 1)[0].lower().endswith((*_ARCHIVES, ".zip"))


def _bsi_properties(name: str | None) -> list[Property]:
    """BSI TR-03183-2's properties of the component's file (none when its name is unknown)."""
    if name is None:
        return []
    archive = name.lower().endswith(_ARCHIVES)
    return [
        Property(name="bsi:component:archive", value="archive" if archive else "no archive"),
        Property(
            name="bsi:component:executable",
            value="executable" if name.lower().endswith(_EXECUTABLES) else "non-executable",
        ),
        Property(name="bsi:component:filename", value=name),
        Property(name="bsi:component:structured", value="structured" if archive else "unstructured"),
    ]


def _package(
    component: Component, ref: str, files: Iterable[CdxComponent], inventory: Inventory
) -> CdxComponent:
    licenses, evidence = _licenses(component)
    references = []
    deployed_in_artifact = in_artifact(inventory, component)
    if component.download_location:
        url = XsUri(component.download_location)
        sha512 = component.distribution_sha512
        hashes = _hashes((*component.checksums, Checksum("SHA512", sha512))) if sha512 else None
        if deployed_in_artifact:  # distributed in the artifact: its download is the source it came from
            references.append(
                ExternalReference(type=ExternalReferenceType.SOURCE_DISTRIBUTION, url=url, hashes=hashes)
            )
        else:
            references.append(
                ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=url, hashes=hashes)
            )
            if component.purpose is Purpose.SOURCE and not url.uri.endswith(
                ".whl"
            ):  # the source as published
                references.append(ExternalReference(type=ExternalReferenceType.SOURCE_DISTRIBUTION, url=url))
    said = deployed_in_artifact and component.source_url == component.download_location  # just above
    if component.source_url and not said:  # an sdist on the index, or a repository its metadata names
        kind = ExternalReferenceType.VCS if _is_repository(component.source_url) else None
        references.append(
            ExternalReference(
                type=kind or ExternalReferenceType.SOURCE_DISTRIBUTION, url=XsUri(component.source_url)
            )
        )
    if component.purl and component.purl.startswith("pkg:github/"):  # where its source is kept
        repository = PackageURL.from_string(component.purl)
        references.append(
            ExternalReference(
                type=ExternalReferenceType.VCS,
                url=XsUri(f"https://github.com/{repository.namespace}/{repository.name}"),
            )
        )
    name = _file_name(component)
    location = inventory.component(inventory.root).download_location
    if deployed_in_artifact:  # its deployable form is the artifact: its name, URL and hashes
        name = inventory.artifact.name
        if location and inventory.artifact.checksums:
            hashes = _hashes(inventory.artifact.checksums)
            references.append(
                ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(location), hashes=hashes)
            )
    properties = _bsi_properties(name)
    if component.index_files:
        properties.append(Property(name=INDEX_FILES, value=index_files_json(component)))
    if component.index_unsigned_export:
        properties.append(Property(name=INDEX_UNSIGNED, value=index_unsigned_text(component)))
    if component.license_comment:
        properties.append(Property(name=LICENSE_METHOD, value=component.license_comment))
    if component.index_url:
        properties.append(Property(name=INDEX_URL, value=component.index_url))
    originator = component.originator
    authors = [OrganizationalContact(name=originator.name, email=originator.email)] if originator else None
    return CdxComponent(
        type=ComponentType.LIBRARY,
        name=component.name,
        version=component.version,
        bom_ref=ref,
        supplier=_supplier(component.supplier),
        authors=authors,
        manufacturer=_entity(originator) if originator is not None and originator.url else None,
        hashes=_hashes(component.checksums),
        licenses=licenses,
        evidence=ComponentEvidence(licenses=evidence) if evidence else None,
        copyright=component.copyright_text,
        purl=PackageURL.from_string(component.purl) if component.purl else None,
        cpe=component.cpe,
        external_references=references,
        properties=properties,
        components=files,
    )


def build_bom(
    inventory: Inventory, files: Callable[[Component], Iterable[CdxComponent]], creators: Sequence[str] = ()
) -> Bom:
    """The library's BOM of an inventory; ``files``: the file components of a component;
    ``creators``: who made it (``--creator``): the first organization is the manufacturer,
    people and further organizations authors, tools beside sbomgen."""
    # Refs: "component:" and a component's key (unique in an inventory), "file:" and a path:
    # not PURL-shaped, so that no reader takes one for a package URL.
    refs = {c.key: f"component:{c.key}" for c in inventory.components}
    nodes = {c.key: _package(c, refs[c.key], files(c), inventory) for c in inventory.components}
    root = inventory.component(inventory.root)
    root_node = CdxComponent(
        type=ComponentType.APPLICATION,
        name=root.name,
        version=root.version,
        bom_ref=refs[root.key],
        supplier=_supplier(root.supplier),
        authors=nodes[root.key].authors,
        manufacturer=nodes[root.key].manufacturer,
        # The artifact's own digests too: BSI asks the deployable component's SHA-512.
        hashes=_hashes(tuple(dict.fromkeys((*root.checksums, *inventory.artifact.checksums)))),
        licenses=nodes[root.key].licenses,
        evidence=nodes[root.key].evidence,
        copyright=root.copyright_text,
        cpe=root.cpe,
        purl=nodes[root.key].purl,
        external_references=nodes[root.key].external_references,
        properties=nodes[root.key].properties,
    )
    serial = uuid.uuid5(_NAMESPACE, f"{inventory.artifact.name}:{content_id(inventory)}")
    bom = Bom(
        serial_number=serial,
        metadata=BomMetaData(
            timestamp=inventory.created.replace(tzinfo=datetime.timezone.utc),
            component=root_node,
            supplier=_supplier(root.supplier),
            lifecycles=[PredefinedLifecycle(_phase(inventory))],
        ),
    )
    bom.metadata.tools.components.add(
        CdxComponent(
            type=ComponentType.APPLICATION,
            name="sbomgen",
            version=__version__,
            bom_ref="tool:sbomgen",
        )
    )
    parsed = [parse_creator(c) for c in creators]
    parties = [c for c in parsed if isinstance(c, Party)]
    maker = next((p for p in parties if p.kind == "Organization"), None)
    if maker is not None:
        bom.metadata.manufacturer = _entity(maker)
    bom.metadata.authors = [
        OrganizationalContact(name=p.name, email=p.email) for p in parties if p is not maker
    ]
    for number, tool in enumerate(c for c in parsed if isinstance(c, str)):
        bom.metadata.tools.components.add(
            CdxComponent(type=ComponentType.APPLICATION, name=tool, bom_ref=f"tool:{number}")
        )
    for component in inventory.components:
        if component.key == root.key:
            continue
        if component.vendored_in in nodes and component.vendored_in != root.key:
            nodes[component.vendored_in].components.add(nodes[component.key])
        else:
            bom.components.add(nodes[component.key])
    bom.components.update(files(root))
    # The graph as the library's register_dependency leaves it (an entry for every source and
    # target), made at once: that looks each one up among all entries, quadratic in packages.
    graph: dict[str, list[str]] = {}
    for dependency in inventory.dependencies:
        graph.setdefault(dependency.source, []).append(dependency.target)
        graph.setdefault(dependency.target, [])
    bom.dependencies = [
        Dependency(
            (root_node if source == root.key else nodes[source]).bom_ref,
            [Dependency(nodes[t].bom_ref) for t in targets],
        )
        for source, targets in graph.items()
    ]
    return bom


def compositions(inventory: Inventory) -> list[tuple[str, str, list[str]]]:
    """(aggregate, "assemblies" or "dependencies", bom-refs): how complete each list is."""
    ref = "component:{}".format
    with_files = sorted(c.key for c in inventory.components if c.files and c.key != inventory.root)
    sources = sorted({d.source for d in inventory.dependencies})
    stated = [
        ("complete", "assemblies", [ref(inventory.root)]),
        ("unknown", "assemblies", [ref(key) for key in with_files]),
        ("unknown", "dependencies", [ref(key) for key in sources]),
    ]
    return [(aggregate, kind, refs) for aggregate, kind, refs in stated if refs]


def _phase(inventory: Inventory) -> LifecyclePhase:
    """Pre-build for a source archive or tree; build for a wheel, a Windows artifact, or a
    redistributor's build (an SBOM derived from another)."""
    name = inventory.artifact.name
    built = name.endswith((".whl", ".exe")) or "-embed-" in name or inventory.derived_from is not None
    return LifecyclePhase.BUILD if built else LifecyclePhase.PRE_BUILD


def render(
    inventory: Inventory,
    xml: bool = False,
    schema: SchemaVersion = SCHEMA_VERSION,
    creators: Sequence[str] = (),
) -> bytes:
    """The validated CycloneDX document (JSON, or XML when ``xml``)."""
    return b"".join(render_parts(inventory, xml, schema, creators))


def render_parts(
    inventory: Inventory,
    xml: bool = False,
    schema: SchemaVersion = SCHEMA_VERSION,
    creators: Sequence[str] = (),
) -> Iterator[bytes]:
    """The CycloneDX document as pieces to write in order, validated before the first
    piece: the files are read from the inventory's table again as they are written."""
    shapes = shapes_of(xml, schema)
    nesting = _Nesting(inventory)
    placeholders = {key: _placeholder(number) for number, key in enumerate(nesting.check(shapes))}
    bom = build_bom(inventory, lambda c: [placeholders[c.key]] if c.key in placeholders else [], creators)
    text = shapes.serialise(bom, compositions(inventory))
    _raise_for(shapes.problem(text))
    # Where each placeholder stands in the text, and what is written in its place.
    streams: list[tuple[int, str, Callable[[], Iterator[bytes]]]] = []
    for key, placeholder in placeholders.items():
        element = shapes.component(_row(placeholder.name)).decode()
        streams.append((_only(text, element), element, nesting.texts(key, shapes.component)))
        reference = shapes.dependency(_row(placeholder.name)).decode()
        if reference in text:  # top-level files: the library lists each in the dependency graph
            streams.append((_only(text, reference), reference, nesting.texts(key, shapes.dependency)))
    return _pieces(text, sorted(streams, key=lambda stream: stream[0]), shapes.separator)


def _pieces(
    text: str, streams: list[tuple[int, str, Callable[[], Iterator[bytes]]]], separator: bytes
) -> Iterator[bytes]:
    cursor = 0
    for position, placeholder, elements in streams:
        yield text[cursor:position].encode()
        made, joiner = elements(), b""
        while batch := list(itertools.islice(made, _BATCH)):
            yield joiner + separator.join(batch)
            joiner = separator
        cursor = position + len(placeholder)
    yield text[cursor:].encode() + b"\n"


def _raise_for(problem: Any) -> None:
    if problem is not None:
        raise OutputValidationError(f"the CycloneDX document failed validation: {problem}")


def _only(text: str, part: str) -> int:
    position = text.find(part)
    if position < 0 or text.find(part, position + 1) >= 0:
        raise RuntimeError(f"the CycloneDX document holds {part!r} other than once")
    return position


Row = tuple[str, int, "str | None", "str | None", "str | None"]  # a file: path, size, SHA1, SHA256, SHA512


def _row(path: str) -> Row:
    return (path, 0, None, None, None)


def _placeholder(number: int) -> CdxComponent:
    return _file(entry_of(_row(f"sbomgen-files-{number}")))


class _Nesting:
    """The files each component holds in the document: its files sorted and each once, as
    the library's sorted sets keep them, less those an earlier component lists. Read from
    the inventory's table when asked for, not kept."""

    def __init__(self, inventory: Inventory) -> None:
        self._table = inventory.files
        self._components = {c.key: c for c in inventory.components if c.files}
        self._held: dict[str, list[str]] = {}  # for a component listing paths: those it holds
        self._first: dict[str, int] = {}  # a listed path: the index of the first component listing it
        self._rests: list[tuple[int, OwnedPaths]] = []  # the table's own views of an owner's paths
        for index, component in enumerate(self._components.values()):
            paths = component.files
            if isinstance(paths, OwnedPaths) and paths.table is self._table:
                self._rests.append((index, paths))
                continue
            held = [p for p in sorted(set(paths)) if p not in self._first and not self._in_rest(p, index)]
            self._first.update((p, index) for p in held)
            self._held[component.key] = held
        self._index = {key: index for index, key in enumerate(self._components)}

    def _in_rest(self, path: str, before: int) -> bool:
        return any(index < before and path in rest for index, rest in self._rests)

    def rows(self, key: str) -> Iterator[Row]:
        """The files a component holds, in name order; one that is not in the inventory
        an OutputValidationError."""
        if key in self._held:
            for path in self._held[key]:
                entry = self._table.get(path)
                if entry is None:
                    raise OutputValidationError(
                        f"the CycloneDX document failed validation: component:{key} contains {path!r},"
                        " which is not one of the files"
                    )
                yield row_of(entry)
            return
        index = self._index[key]
        paths = self._components[key].files
        assert isinstance(paths, OwnedPaths)
        if any(rest.owner == paths.owner for i, rest in self._rests if i < index):
            return
        first = self._first
        for row in paths.rows():
            if first.get(row[0], index) >= index:
                yield row

    def texts(self, key: str, text: Callable[[Row], bytes]) -> Callable[[], Iterator[bytes]]:
        return lambda: map(text, self.rows(key))

    def check(self, shapes: _Shapes) -> list[str]:
        """The keys of the components that hold files, once every file passed ``shapes``' checks."""
        holders = []
        for key in self._components:
            held = False
            for row in self.rows(key):
                _raise_for(shapes.file_problem(row))
                held = True
            if held:
                holders.append(key)
        return holders


@functools.cache
def shapes_of(xml: bool, schema: SchemaVersion = SCHEMA_VERSION) -> _Shapes:
    """The shapes of one format and version, made once."""
    return _Shapes(xml, schema)


# What the schemas allow as a hash value (their patterns, anchored at both ends), and the
# characters XML 1.0 can carry.
_HASH_VALUE = re.compile(r"[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128}")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Shapes:
    """The library's serialiser and strict validator for one format and version, and the
    templates of file components made with them: files come as table rows."""

    def __init__(self, xml: bool, schema: SchemaVersion) -> None:
        self.xml, self.schema = xml, schema
        self.separator = b"" if xml else b", "
        if xml:  # lxml, for XML alone
            from cyclonedx.validation.xml import XmlValidator

            self._xml_validator = XmlValidator(schema)
            self._xml_validator._validator  # noqa: B018 - its schema, loaded now
        else:
            json_validator(schema)
        self._files: dict[tuple[bool, ...], _Template] = {}
        self._dependency = self._templates(())[1]

    def serialise(self, bom: Bom, compositions: Sequence[tuple[str, str, list[str]]] = ()) -> str:
        output_format = OutputFormat.XML if self.xml else OutputFormat.JSON
        # The library warns on stderr about a root without dependencies; stderr is sbomgen's own.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"cyclonedx\.")
            text = str(make_outputter(bom, output_format, self.schema).output_as_string(indent=None))
        if not compositions:
            return text
        if self.xml:  # the schema's sequence: compositions come right after dependencies, last here
            items = "".join(
                f"<composition><aggregate>{aggregate}</aggregate><{kind}>"
                + "".join(f'<{_ITEM[kind]} ref="{_xml_attribute(r)}"/>' for r in refs)
                + f"</{kind}></composition>"
                for aggregate, kind, refs in compositions
            )
            end = text.rindex("</bom>")
            return f"{text[:end]}<compositions>{items}</compositions>{text[end:]}"
        items = ", ".join(
            json.dumps({"aggregate": aggregate, kind: refs}, separators=(", ", ": "))
            for aggregate, kind, refs in compositions
        )
        end = text.rindex("}")
        return f'{text[:end]}, "compositions": [{items}]{text[end:]}'

    def problem(self, text: str) -> Any:
        """What the library's strict validator finds first in a document; None if nothing."""
        if self.xml:
            try:
                return self._xml_validator.validate_str(text)
            except SyntaxError as exc:  # lxml's, for what XML cannot carry: the library raises it
                return exc
        document = parse_json(text, "the CycloneDX document", OutputValidationError)
        return next(json_validator(self.schema).iter_errors(document), None)

    def file_problem(self, row: Row) -> Any:
        """What the strict validator finds in a file's component: at once for the usual
        file, from the library for any other."""
        if all(d is None or _HASH_VALUE.fullmatch(d) for d in row[2:]) and not (
            self.xml and _NOT_XML.search(row[0])
        ):
            return None
        return self.problem(self.serialise(Bom(components=[_file(entry_of(row))])))

    def component(self, row: Row) -> bytes:
        """The text of a file's component."""
        path, _, sha1, sha256, sha512 = row
        if not path:  # an empty XML element has a form of its own: the library's text
            component = _file(entry_of(row))
            return self._cut(self.serialise(Bom(components=[component])), str(component.bom_ref))[0].encode()
        present = (sha1 is not None, sha256 is not None, sha512 is not None)
        template = self._files.get(present)
        if template is None:
            algorithms = tuple(a for a, here in zip(ALGORITHMS, present, strict=True) if here)
            template = self._files[present] = self._templates(algorithms)[0]
        return template.fill([path, "file:" + path, *(d for d in (sha1, sha256, sha512) if d is not None)])

    def dependency(self, row: Row) -> bytes:
        """The text of a file's entry in the dependency graph, depending on nothing."""
        return self._dependency.fill(("", f"file:{row[0]}"))

    def _templates(self, algorithms: tuple[str, ...]) -> tuple[_Template, _Template]:
        """Templates of a file component with these hashes and of its dependency entry, from
        the library's text of a prototype whose name (0), bom-ref (1) and hash values (2...)
        are markers, and of the prototype with a probe in each marker's place in turn."""
        count = 2 + len(algorithms)

        def texts(values: Sequence[str]) -> tuple[str, str]:
            checksums = tuple(Checksum(a, values[2 + i]) for i, a in enumerate(algorithms))
            prototype = _file(FileEntry(values[0], 0, checksums))
            prototype.bom_ref.value = values[1]
            return self._cut(self.serialise(Bom(components=[prototype])), values[1])

        markers = [_marker(i) for i in range(count)]
        plain = texts(markers)
        probed = [texts([*markers[:i], _PROBE, *markers[i + 1 :]]) for i in range(count)]
        element, dependency = (_Template(plain[part], [p[part] for p in probed], self.xml) for part in (0, 1))
        return element, dependency

    def _cut(self, text: str, ref: str) -> tuple[str, str]:
        """The text of the only component of a serialised BOM, and of its dependency entry."""
        if self.xml:
            return _within(text, "components"), _within(text, "dependencies")
        document = parse_json(text, "the CycloneDX document", OutputValidationError)
        [component] = document["components"]
        [dependency] = [d for d in document["dependencies"] if d["ref"] == ref]
        return json.dumps(component), json.dumps(dependency)


def _within(text: str, tag: str) -> str:
    return text[text.index(f"<{tag}>") + len(tag) + 2 : text.index(f"</{tag}>")]


def _marker(index: int) -> str:
    return f"@{index}@"


# A value the serialisers change in every way they change values: JSON's escapes, XML's
# references, the library's whitespace rules for an XML normalizedString or token; with
# characters they might escape and do not.
_PROBE = " \t@probe@\r\n  &<>\"' %\x7f\x85\u00e9\u2028\U0001f600 "
# How ElementTree writes a value as an element's text and in an attribute.
_XML_CHANGED = re.compile(r'[&<>"\r\n\t]|  |^\s|\s$')  # what any writing of an XML value changes
_XML_ESCAPED = re.compile('[&<>"\r\n\t]')
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_XML_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
)


def _xml_text(value: str) -> str:
    return value.translate(_XML_TEXT) if _XML_ESCAPED.search(value) else value


def _xml_attribute(value: str) -> str:
    return value.translate(_XML_ATTRIBUTE) if _XML_ESCAPED.search(value) else value


def _json_string(value: str) -> str:
    return encode_basestring_ascii(value)


def _composed(escape: Callable[[str], str], change: Callable[[str], str]) -> Callable[[str], str]:
    return lambda value: escape(change(value))


_WRITINGS: dict[bool, list[Callable[[str], str]]] = {  # how a serialiser may write a value
    False: [_json_string],
    True: [
        _composed(escape, change)
        for escape in (_xml_text, _xml_attribute)
        for change in (str, xs_normalizedString, xs_token)
    ],
}


class _Template:
    """The text of an element with a slot where each marker was: a printf-style format,
    so that filling one is a single C call. Each slot's value is written the way the
    library wrote the probe in its place (``probed``: the text with the probe in place of
    each marker in turn)."""

    def __init__(self, text: str, probed: Sequence[str], xml: bool) -> None:
        found = []  # (where, marker's text, its index, how its value is written)
        for index, changed in enumerate(probed):
            marker = _marker(index) if xml else _json_string(_marker(index))
            where = text.find(marker)
            if where < 0:
                if changed != text:
                    raise RuntimeError(f"the library writes a value where no marker stands: {changed!r}")
                continue
            before, after = text[:where], text[where + len(marker) :]
            written = changed[len(before) : len(changed) - len(after)]
            ways = [w for w in _WRITINGS[xml] if w(_PROBE) == written]
            if not (changed.startswith(before) and changed.endswith(after) and ways):
                raise RuntimeError(f"the library writes a value in a way of its own: {changed!r}")
            found.append((where, marker, index, ways[0]))
        pieces, cursor = [], 0
        found.sort(key=lambda slot: slot[0])
        for where, marker, _, _ in found:
            pieces.append(text[cursor:where].replace("%", "%%"))
            cursor = where + len(marker)
        pieces.append(text[cursor:].replace("%", "%%"))
        self._format = "%s".join(pieces)
        self._order = [index for _, _, index, _ in found]
        self._writes = [write for _, _, _, write in found]
        self._json = not xml

    def fill(self, values: Sequence[str]) -> bytes:
        ordered = map(values.__getitem__, self._order)
        if self._json:
            return (self._format % tuple(map(encode_basestring_ascii, ordered))).encode("ascii")
        # Most values no writing changes: as they are.
        return (
            self._format
            % tuple(
                write(v) if _XML_CHANGED.search(v) else v
                for v, write in zip(ordered, self._writes, strict=True)
            )
        ).encode()


@functools.cache
def json_validator(schema: SchemaVersion = SCHEMA_VERSION) -> Any:
    """cyclonedx-python-lib's strict CycloneDX JSON schema validator, with the same verdicts
    in linear time:

    - ``uniqueItems``: jsonschema compares the items of an array of objects pairwise, which
      for a CPython tarball's thousands of file components took most of a minute. Items
      are compared by a key equal where jsonschema's equality holds instead. (For arrays
      it can sort, jsonschema compares neighbours only: of arrays of arrays that mix
      booleans and numbers, it may miss a repeated item this check finds.)
    - ``iri`` and ``iri-reference``: jsonschema parses each with an Earley parser, about
      50 ms per URL. What an ASCII pattern that the grammar derives shows is one (a
      scheme, an authority, a path, query and fragment, as nearly every URL is) is
      accepted at once; anything else, the parser judges.
    """
    import jsonschema
    from cyclonedx.validation.json import JsonStrictValidator

    strict = JsonStrictValidator(schema)._validator
    formats = jsonschema.FormatChecker(())
    formats.checkers = dict(strict.format_checker.checkers)
    for name in ("iri", "iri-reference"):
        if name in formats.checkers:
            parse, raises = formats.checkers[name]
            formats.checks(name, raises)(functools.partial(_is_iri, parse))
    linear = jsonschema.validators.extend(type(strict), {"uniqueItems": _unique_items})
    return linear(strict.schema, registry=strict._registry, format_checker=formats)


# An IRI by RFC 3987's grammar (as rfc3987-syntax writes it): a scheme, "//", a host name
# (ireg-name), perhaps a port, a path of segments, perhaps a query and a fragment, of
# ASCII characters and percent-encoded octets alone.


def _run(extra: str) -> str:
    """Any number of unreserved, sub-delims or ``extra`` characters and percent-encoded octets."""
    return rf"(?:[A-Za-z0-9\-._~!$&'()*+,;={extra}]|%[0-9A-Fa-f]{{2}})*"


_PLAIN_IRI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*://{_run('')}(?::[0-9]*)?(?:/{_run(':@')})*(?:\?{_run(':@/?')})?(?:#{_run(':@/?')})?"
)


def _is_iri(parse: Callable[[object], bool], instance: object) -> bool:
    return (isinstance(instance, str) and _PLAIN_IRI.fullmatch(instance) is not None) or parse(instance)


def _unique_items(validator: Any, unique: bool, instance: Any, schema: Any) -> Iterator[Any]:
    if not unique or not validator.is_type(instance, "array"):
        return
    # Items by their key's hash, the keys made again on a collision: a number an item kept.
    seen: dict[int, list[Any]] = {}
    for item in instance:
        key = equality_key(item)
        alike = seen.setdefault(hash(key), [])
        if any(equality_key(other) == key for other in alike):
            from jsonschema import ValidationError

            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        alike.append(item)


def equality_key(value: Any) -> Any:
    """Equal for JSON values jsonschema holds equal: numbers by value (1 and 1.0 alike),
    booleans apart from numbers, arrays item by item, objects by their members."""
    if isinstance(value, dict):
        return ("object", frozenset((k, equality_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", tuple(map(equality_key, value)))
    if isinstance(value, bool):
        return ("boolean", value)
    return (type(value) is str, value)
