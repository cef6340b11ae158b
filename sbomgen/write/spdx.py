"""SPDX 2.3 JSON through spdx-tools: its model, its validators, its JSON converter."""

from __future__ import annotations

import bisect
import contextlib
import datetime
import functools
import hashlib
import io
import itertools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from license_expression import ExpressionError
from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
from spdx_tools.spdx.jsonschema.document_properties import DocumentProperty
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Annotation,
    AnnotationType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalDocumentRef,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    File,
    Package,
    PackagePurpose,
    PackageVerificationCode,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
    Version,
)
from spdx_tools.spdx.parser.actor_parser import ActorParser
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.validation.annotation_validator import validate_annotations
from spdx_tools.spdx.validation.creation_info_validator import validate_creation_info
from spdx_tools.spdx.validation.extracted_licensing_info_validator import (
    validate_extracted_licensing_infos,
)
from spdx_tools.spdx.validation.file_validator import validate_files
from spdx_tools.spdx.validation.package_validator import validate_packages
from spdx_tools.spdx.validation.relationship_validator import validate_relationship
from spdx_tools.spdx.validation.snippet_validator import validate_snippets
from spdx_tools.spdx.validation.spdx_id_validators import is_valid_internal_spdx_id
from spdx_tools.spdx.validation.uri_validators import validate_download_location
from spdx_tools.spdx.validation.validation_message import (
    SpdxElementType,
    ValidationContext,
    ValidationMessage,
)

from .. import __version__
from ..errors import ContentError, OutputError, OutputValidationError, UsageError
from ..licenses import licensing
from ..licenses import parse as parse_license
from ..model import Component, FileEntry, Inventory, Party, content_id

SPDX_VERSION = "SPDX-2.3"
LICENSE_LIST_VERSION = Version(3, 22)
NAMESPACE_BASE = "https://spdx.org/spdxdocs/sbomgen"
_UNSAFE = re.compile(r"[^a-zA-Z0-9.\-]+")


class SpdxIds:
    """SPDX IDs as CPython's release tooling makes them, made unique.

    Runs of characters not allowed in an ID become ``-``. When two values encode to the
    same ID, the first keeps it and later ones get ``-`` and the first 8 hex digits of
    the SHA256 of their unencoded value.
    """

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def allocate(self, prefix: str, value: str) -> str:
        plain = _UNSAFE.sub("-", f"{prefix}{value}")
        candidate = plain
        if candidate in self.taken:
            candidate = f"{plain}-{hashlib.sha256(value.encode()).hexdigest()[:8]}"
            counter = 2
            while candidate in self.taken:  # only a hash-prefix collision gets here
                candidate = f"{plain}-{hashlib.sha256(value.encode()).hexdigest()[:8]}-{counter}"
                counter += 1
        self.taken.add(candidate)
        return candidate


def verification_code(files: Iterable[FileEntry]) -> str:
    """SPDX 2.3 section 7.9: SHA1 over the sorted, concatenated SHA1s of the files."""
    digests = sorted((entry.digest("SHA1") or "").encode("ascii") for entry in files)
    return hashlib.sha1(b"".join(digests)).hexdigest()


class SpdxWriter:
    """Builds, validates and serialises the SPDX document of an inventory.

    ``prepare_file`` does the per-file part (checks, JSON text) and can be handed to
    ``scan`` as its ``on_file`` callback, so that work overlaps the archive's
    decompression instead of following it. ``render`` prepares whatever was not.

    Files and their CONTAINS relationships, thousands of elements of one fixed shape, are
    written through templates that spdx-tools' own converter makes from a model object of
    that shape (a test holds them equal to the converter's output) and checked by the
    rules spdx-tools' validators apply to them; the rest of the document is spdx-tools'
    model, validated by its validators and converted by its converter.
    """

    def __init__(self, creators: Sequence[str] = ()) -> None:
        """``creators``: extra SPDX creators, such as ``"Person: Python Release Managers"``."""
        self._creators = [_parse_creator(c) for c in creators]
        self._file_ids = SpdxIds()
        # Each file's JSON text waits in a temporary file, not in memory; by path: the
        # entry it was made from, its SPDX ID, where its text starts and how long it is.
        with _spooling():
            self._spool = tempfile.TemporaryFile(buffering=1 << 16)  # noqa: SIM115 - lives as long as the writer
        self._spooled_bytes = 0
        self._prepared: dict[str, tuple[FileEntry, str, int, int]] = {}
        self._problems: dict[str, list[ValidationMessage]] = {}
        self._converter = _converter()
        self._text = ElementText(self._converter)
        # Load the license list and build the tokenizer spdx-tools' validator uses: early,
        # while a scan runs, rather than after it.
        licensing().validate("MIT")

    def prepare_file(self, entry: FileEntry) -> None:
        prepared = self._prepared.get(entry.path)
        # A path prepared again (its entry changed) keeps its ID.
        spdx_id = prepared[1] if prepared else self._file_ids.allocate("SPDXRef-FILE-", entry.path)
        problems = file_problems(spdx_id, entry)
        if problems:
            self._problems[entry.path] = problems
        else:
            self._problems.pop(entry.path, None)
        text = self._text.file(spdx_id, entry)
        with _spooling():
            self._spool.write(text)  # appended through the buffer: no seek, no write per file
        self._prepared[entry.path] = (entry, spdx_id, self._spooled_bytes, len(text))
        self._spooled_bytes += len(text)

    def _prepare_all(self, inventory: Inventory) -> None:
        """Every file of the inventory prepared, as it is now."""
        for entry in inventory.files:
            prepared = self._prepared.get(entry.path)
            if prepared is None or prepared[0] != entry:
                self.prepare_file(entry)

    def build(self, inventory: Inventory, *, with_files: bool = True) -> Document:
        """The spdx-tools document. ``with_files=False`` leaves out the files and the
        CONTAINS relationships, which ``render_parts`` writes through templates."""
        root = inventory.component(inventory.root)
        package_ids = _package_ids(inventory)
        files_by_path = {f.path: f for f in inventory.files}
        creation = CreationInfo(
            spdx_version=SPDX_VERSION,
            spdx_id="SPDXRef-DOCUMENT",
            name="CPython SBOM",
            document_namespace=f"{NAMESPACE_BASE}/{inventory.artifact.name}-{content_id(inventory)}",
            creators=[*self._creators, Actor(ActorType.TOOL, f"sbomgen-{__version__}")],
            created=inventory.created,
            license_list_version=LICENSE_LIST_VERSION,
        )
        packages = sorted(
            (
                _package(c, package_ids[c.key], [files_by_path[p] for p in c.files])
                for c in inventory.components
            ),
            key=lambda p: p.spdx_id,
        )
        relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, package_ids[root.key])]
        relationships += sorted(
            (
                Relationship(package_ids[d.source], RelationshipType.DEPENDS_ON, package_ids[d.target])
                for d in inventory.dependencies
            ),
            key=lambda r: (r.spdx_element_id, r.related_spdx_element_id),
        )
        files = []
        if with_files:
            self._prepare_all(inventory)
            files = [
                _model_file(self._prepared[path][1], files_by_path[path]) for path in sorted(files_by_path)
            ]
            relationships += [
                Relationship(package, RelationshipType.CONTAINS, self._prepared[path][1])
                for package, path in _contained(inventory, package_ids)
            ]
        annotator = Actor(ActorType.TOOL, f"sbomgen-{__version__}")
        annotations = [
            Annotation(
                package_ids[c.key], AnnotationType.OTHER, annotator, inventory.created, index_files_comment(c)
            )
            for c in inventory.components
            if c.index_files
        ]
        if inventory.derived_from is not None:
            upstream = inventory.derived_from
            creation.external_document_refs = [
                ExternalDocumentRef(
                    "DocumentRef-upstream",
                    upstream.namespace,
                    Checksum(ChecksumAlgorithm.SHA1, upstream.sha1),
                )
            ]
            annotations += [
                Annotation("SPDXRef-DOCUMENT", AnnotationType.OTHER, annotator, inventory.created, change)
                for change in inventory.changes
            ]
        return Document(
            creation, packages=packages, files=files, relationships=relationships, annotations=annotations
        )

    def validated(self, inventory: Inventory) -> Document:
        """The whole spdx-tools document of an inventory, once its validators accept it."""
        document = self.build(inventory)
        _raise_for(validate_document(document))
        return document

    def render_tag_value(self, inventory: Inventory) -> bytes:
        """The validated document in SPDX's tag-value form."""
        from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document

        stream = io.StringIO()
        write_document(self.validated(inventory), stream)
        return stream.getvalue().encode("utf-8")

    def render(self, inventory: Inventory) -> bytes:
        """The validated SPDX 2.3 JSON document for an inventory."""
        return b"".join(self.render_parts(inventory))

    def render_parts(self, inventory: Inventory) -> Iterator[bytes]:
        """The SPDX 2.3 JSON document as pieces to write in order, validated before the
        first piece: files come from the spool, relationships are made as they are written,
        so memory holds neither."""
        self._prepare_all(inventory)
        paths = sorted(entry.path for entry in inventory.files)
        document = self.build(inventory, with_files=False)
        package_ids = _package_ids(inventory)
        problems = validate_document(document)
        problems += [p for entry in inventory.files for p in self._problems.get(entry.path, ())]
        problems += [
            ValidationMessage(f"{package} CONTAINS {path!r}, which is not in the document", None)  # type: ignore[arg-type]
            for package, path in _contained(inventory, package_ids)
            if not _holds(paths, path)
        ]
        _raise_for(problems)
        relationships = [
            _dumps(self._converter.relationship_converter.convert(r)) for r in document.relationships
        ]
        document.relationships.clear()
        as_json = self._converter.convert(document)
        with _spooling():
            self._spool.flush()
        sections = {
            "files": lambda: map(self._spooled, paths),
            "relationships": lambda: itertools.chain(
                relationships,
                (
                    self._text.contains(package, self._prepared[path][1])
                    for package, path in _contained(inventory, package_ids)
                ),
            ),
        }
        has_relationships = bool(relationships) or any(c.files for c in inventory.components)
        return self._pieces(as_json, sections, has_relationships)

    def _spooled(self, path: str) -> bytes:
        _, _, offset, length = self._prepared[path]
        with _spooling():
            if hasattr(os, "pread"):
                return os.pread(self._spool.fileno(), length, offset)
            self._spool.seek(offset)  # Windows: no pread
            return self._spool.read(length)

    @staticmethod
    def _pieces(
        as_json: dict[str, Any], sections: dict[str, Callable[[], Iterator[bytes]]], has_relationships: bool
    ) -> Iterator[bytes]:
        first = True
        for key in _KEY_ORDER:
            if key in sections and (key == "files" or has_relationships):
                yield b"{" if first else b","
                yield _dumps(key) + b":["
                for index, piece in enumerate(sections[key]()):
                    if index:
                        yield b","
                    yield piece
                yield b"]"
            elif key in as_json:
                yield b"{" if first else b","
                yield _dumps(key) + b":" + _dumps(as_json[key])
            else:
                continue
            first = False
        yield b"}\n"


@contextlib.contextmanager
def _spooling() -> Iterator[None]:
    """The spool's I/O errors (a full or read-only temporary folder) as sbomgen's own."""
    try:
        yield
    except OSError as exc:
        raise OutputError(
            f"cannot use a temporary file in {tempfile.gettempdir()}: {exc.strerror or exc}"
        ) from None


def _package_ids(inventory: Inventory) -> dict[str, str]:
    ids = SpdxIds()
    return {
        c.key: ids.allocate("SPDXRef-PACKAGE-", f"{c.name}-{c.version}" if c.versioned_id else c.name.lower())
        for c in inventory.components
    }


def _contained(inventory: Inventory, package_ids: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(package SPDX ID, file path) of every CONTAINS, packages in SPDX ID order."""
    for component in sorted(inventory.components, key=lambda c: package_ids[c.key]):
        for path in component.files:
            yield package_ids[component.key], path


def _holds(sorted_paths: list[str], path: str) -> bool:
    index = bisect.bisect_left(sorted_paths, path)
    return index < len(sorted_paths) and sorted_paths[index] == path


def _raise_for(problems: list[ValidationMessage]) -> None:
    if problems:
        first = problems[0]
        where = first.context.spdx_id if first.context else "document"
        raise OutputValidationError(
            f"the SPDX document failed validation ({len(problems)} problem(s)); first: "
            f"{first.validation_message} [{where}]"
        )


def _model_file(spdx_id: str, entry: FileEntry) -> File:
    checksums = [Checksum(ChecksumAlgorithm[c.algorithm], c.value) for c in entry.checksums]
    return File(name=entry.path, spdx_id=spdx_id, checksums=checksums)


_HEX_DIGITS = {"SHA1": 40, "SHA256": 64, "SHA512": 128}
_LOWER_HEX = re.compile("[0-9a-f]+")


def file_problems(spdx_id: str, entry: FileEntry) -> list[ValidationMessage]:
    """What spdx-tools' file, checksum and SPDX ID validators check of a file of this shape."""
    problems = []
    if not is_valid_internal_spdx_id(spdx_id):
        problems.append(f"invalid SPDX ID {spdx_id!r}")
    if entry.path.startswith("/"):
        problems.append(f'file name must not be an absolute path starting with "/", but is: {entry.path}')
    if not any(c.algorithm == "SHA1" for c in entry.checksums):
        problems.append("checksums must contain a SHA1 algorithm checksum")
    for checksum in entry.checksums:
        digits = _HEX_DIGITS.get(checksum.algorithm)
        if digits is None or len(checksum.value) != digits or not _LOWER_HEX.fullmatch(checksum.value):
            problems.append(f"{checksum.algorithm} checksum is not {digits} lowercase hex digits")
    context = ValidationContext(spdx_id=spdx_id, element_type=SpdxElementType.FILE) if problems else None
    return [ValidationMessage(problem, context) for problem in problems]  # type: ignore[arg-type]


class ElementText:
    """JSON text of files and CONTAINS relationships through templates: spdx-tools'
    converter turns a model object with a marker in each varying field into JSON once;
    each element is that text with its own JSON-encoded values in the markers' places."""

    def __init__(self, converter: DocumentConverter) -> None:
        self._converter = converter
        self._files: dict[tuple[str, ...], _Template] = {}
        prototype = Relationship(_marker(0), RelationshipType.CONTAINS, _marker(1))
        self._contains = _Template(converter.relationship_converter.convert(prototype), 2)

    def file(self, spdx_id: str, entry: FileEntry) -> bytes:
        algorithms = tuple(c.algorithm for c in entry.checksums)
        template = self._files.get(algorithms)
        if template is None:
            prototype = File(
                name=_marker(0),
                spdx_id=_marker(1),
                checksums=[Checksum(ChecksumAlgorithm[a], _marker(2 + i)) for i, a in enumerate(algorithms)],
            )
            as_json = self._converter.file_converter.convert(prototype, _NO_ANNOTATIONS)
            template = self._files[algorithms] = _Template(as_json, 2 + len(algorithms))
        return template.fill((entry.path, spdx_id, *(c.value for c in entry.checksums)))

    def contains(self, package_id: str, file_id: str) -> bytes:
        return self._contains.fill((package_id, file_id))


def _marker(index: int) -> str:
    return f"@{index}@"


class _Template:
    """JSON text with slots where markers were, filled with JSON-encoded strings."""

    def __init__(self, as_json: Any, slots: int) -> None:
        text = _dumps(as_json).decode("ascii")
        quoted = [_dumps(_marker(i)).decode("ascii") for i in range(slots)]
        found = sorted((text.index(quoted[i]), i) for i in range(slots))
        self._pieces: list[str] = []
        self._order: list[int] = []
        cursor = 0
        for position, index in found:
            self._pieces.append(text[cursor:position])
            self._order.append(index)
            cursor = position + len(quoted[index])
        self._tail = text[cursor:]

    def fill(self, values: Sequence[str]) -> bytes:
        out = []
        for piece, index in zip(self._pieces, self._order, strict=True):
            out.append(piece)
            out.append(encode_basestring_ascii(values[index]))
        out.append(self._tail)
        return "".join(out).encode("ascii")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def _cached_names(converter_class: type[Any]) -> Any:
    """A converter that derives each JSON property name once, not once per element.

    spdx-tools recomputes the camel-case name of every property of every element it
    converts: for a CPython tarball that is most of the conversion's cost.
    """

    class Cached(converter_class):
        @functools.cache  # noqa: B019 - a handful of converters live as long as the process
        def json_property_name(self, json_property: Any) -> str:
            return str(super().json_property_name(json_property))

    return Cached()


def _converter() -> DocumentConverter:
    from spdx_tools.spdx.jsonschema.checksum_converter import ChecksumConverter
    from spdx_tools.spdx.jsonschema.file_converter import FileConverter
    from spdx_tools.spdx.jsonschema.relationship_converter import RelationshipConverter

    converter = DocumentConverter()
    converter.file_converter = _cached_names(FileConverter)
    converter.file_converter.checksum_converter = _cached_names(ChecksumConverter)
    converter.relationship_converter = _cached_names(RelationshipConverter)
    return converter


_NO_ANNOTATIONS = Document(
    CreationInfo(
        SPDX_VERSION,
        "SPDXRef-DOCUMENT",
        "-",
        "https://spdx.org/spdxdocs/-",
        [],
        datetime.datetime(1970, 1, 1),
    )
)
_KEY_ORDER = [DocumentConverter().json_property_name(p) for p in DocumentProperty]


def validate_document(document: Document) -> list[ValidationMessage]:
    """spdx-tools' own validators, in the order its full-document validator runs them.

    Departure, same verdicts: packages
    and each relationship are checked against views holding only the elements that
    can concern them, instead of re-listing every ID of the document per relationship
    (quadratic: minutes on a CPython tarball).
    """
    version = document.creation_info.spdx_version
    elements: dict[str, Package | File] = {p.spdx_id: p for p in document.packages}
    elements.update({f.spdx_id: f for f in document.files})
    messages = list(validate_creation_info(document.creation_info, version))
    # Packages see the relationships that can concern them: those naming a package
    # whose files were not analysed (which must contain no files).
    unanalyzed = {p.spdx_id for p in document.packages if not p.files_analyzed}
    concerning = [
        r
        for r in document.relationships
        if r.spdx_element_id in unanalyzed or r.related_spdx_element_id in unanalyzed
    ]
    named_files = {
        i: elements[i]
        for r in concerning
        for i in (r.spdx_element_id, str(r.related_spdx_element_id))
        if isinstance(elements.get(i), File)
    }
    package_view = Document(
        document.creation_info,
        packages=document.packages,
        files=list(named_files.values()),  # type: ignore[arg-type]
        relationships=concerning,
        extracted_licensing_info=document.extracted_licensing_info,
    )
    messages += validate_packages(document.packages, version, package_view)
    messages += validate_files(document.files, version, document)
    messages += validate_snippets(document.snippets, version, document)
    messages += validate_annotations(document.annotations, document)
    view = Document(document.creation_info)
    for relationship in document.relationships:
        view.packages.clear()
        view.files.clear()
        for element_id in (relationship.spdx_element_id, str(relationship.related_spdx_element_id)):
            element = elements.get(element_id)
            if isinstance(element, Package):
                view.packages.append(element)
            elif isinstance(element, File):
                view.files.append(element)
        messages += validate_relationship(relationship, version, view)
    messages += validate_extracted_licensing_infos(document.extracted_licensing_info)
    if not any(
        r.relationship_type is RelationshipType.DESCRIBES and r.spdx_element_id == "SPDXRef-DOCUMENT"
        for r in document.relationships
    ):
        messages.append(ValidationMessage("the document DESCRIBES nothing", None))  # type: ignore[arg-type]
    if len(elements) != len(document.packages) + len(document.files):
        messages.append(ValidationMessage("SPDX IDs are not unique", None))  # type: ignore[arg-type]
    return messages


def _parse_creator(text: str) -> Actor:
    try:
        return ActorParser.parse_actor(text)
    except SPDXParsingError:
        raise UsageError(
            f"not an SPDX creator: {text!r} (expected 'Person: NAME', 'Organization: NAME' or 'Tool: NAME')"
        ) from None


INDEX_FILES_PREFIX = "sbomgen:index-release-files "


def index_files_comment(component: Component) -> str:
    """The release's files on the index when the SBOM was made, as an annotation's text."""
    files = [{"filename": name, "sha256": sha256} for name, sha256 in component.index_files]
    return INDEX_FILES_PREFIX + json.dumps(files, separators=(",", ":"))


def _actor(party: Party | None) -> Actor | None:
    if party is None:
        return None
    return Actor(ActorType[party.kind.upper()], party.name, party.email)


def _license(expression: str | None, where: str) -> Any:
    if expression is None:
        return SpdxNoAssertion()
    try:
        return parse_license(expression)
    except ExpressionError as exc:
        raise ContentError(f"{where}: invalid license expression {expression!r} ({exc})") from None


def _package(component: Component, spdx_id: str, files: list[FileEntry]) -> Package:
    refs = []
    if component.purl:
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", component.purl))
    if component.cpe:
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "cpe23Type", component.cpe))
    # A package whose files are not in this document says so (filesAnalyzed false)
    # rather than claiming an empty file list was analysed.
    analyzed = bool(files)
    location: str | SpdxNoAssertion = component.download_location or SpdxNoAssertion()
    source_info = None
    if isinstance(location, str) and validate_download_location(location):
        # SPDX's URL grammar wants a domain name: a mirror on an IP address does not fit.
        source_info = f"downloaded from {location}"
        location = SpdxNoAssertion()
    return Package(
        spdx_id=spdx_id,
        name=component.name,
        download_location=location,
        source_info=source_info,
        version=component.version,
        file_name=component.file_name,
        supplier=_actor(component.supplier),
        originator=_actor(component.originator),
        files_analyzed=analyzed,
        verification_code=PackageVerificationCode(verification_code(files)) if analyzed else None,
        checksums=[Checksum(ChecksumAlgorithm[c.algorithm], c.value) for c in component.checksums],
        license_concluded=_license(component.license_concluded, spdx_id),
        license_declared=(
            _license(component.license_declared, spdx_id) if component.license_declared else None
        ),
        external_references=refs,
        primary_package_purpose=PackagePurpose[component.purpose.name],
        comment=component.comment,
    )
