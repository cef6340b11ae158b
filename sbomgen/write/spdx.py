"""SPDX 2.3 JSON through spdx-tools: its model, its validators, its JSON converter."""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import itertools
import json
import operator
import re
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
from spdx_tools.spdx.validation.spdx_id_validators import is_valid_internal_spdx_id
from spdx_tools.spdx.validation.uri_validators import validate_download_location
from spdx_tools.spdx.validation.validation_message import (
    SpdxElementType,
    ValidationContext,
    ValidationMessage,
)

from .. import __version__
from ..errors import ContentError, OutputValidationError
from ..model import Component, FileEntry, Inventory, Party, content_id
from ..model.files import (
    BATCH,
    DIGEST_COLUMNS,
    ROW,
    FileTable,
    entry_of,
    in_order,
    row_of,
    temporary_database,
    temporary_storage,
)
from ..model.licenses import licensing
from ..model.licenses import parse as parse_license
from . import INDEX_FILES, INDEX_UNSIGNED, INDEX_URL, index_files_json, index_unsigned_text
from .spdx_validation import validate_document

SPDX_VERSION = "SPDX-2.3"
LICENSE_LIST_VERSION = Version(3, 22)
NAMESPACE_BASE = "https://spdx.org/spdxdocs/sbomgen"
_UNSAFE = re.compile(r"[^a-zA-Z0-9.\-]+")


class SpdxIds:
    """SPDX IDs as CPython's release tooling makes them, made unique.

    Runs of characters not allowed in an ID become ``-``. When two values encode to the
    same ID, the first keeps it and later ones get ``-`` and the first 8 hex digits of
    the SHA256 of their unencoded value; should that be taken too (a hash-prefix
    collision, or another value that encodes to it), ``-2``, ``-3``... follow. ``taken``
    says whether an ID is in use; by default, whether this object allocated it.
    """

    def __init__(self, taken: Callable[[str], bool] | None = None) -> None:
        self._allocated: set[str] = set()
        self._keeps_allocated = taken is None
        self._taken = taken if taken is not None else self._allocated.__contains__

    @staticmethod
    def plain(prefix: str, value: str) -> str:
        return _UNSAFE.sub("-", f"{prefix}{value}")

    def allocate(self, prefix: str, value: str) -> str:
        plain = candidate = self.plain(prefix, value)
        if self._taken(candidate):
            candidate = f"{plain}-{hashlib.sha256(value.encode()).hexdigest()[:8]}"
            counter = 2
            while self._taken(candidate):
                candidate = f"{plain}-{hashlib.sha256(value.encode()).hexdigest()[:8]}-{counter}"
                counter += 1
        if self._keeps_allocated:
            self._allocated.add(candidate)
        return candidate


def verification_code(sorted_sha1s: Iterable[str]) -> str:
    """SPDX 2.3 section 7.9: SHA1 over the concatenated SHA1s of the files, given sorted."""
    code, digests = hashlib.sha1(), iter(sorted_sha1s)
    while batch := list(itertools.islice(digests, 1024)):
        code.update("".join(batch).encode("ascii"))
    return code.hexdigest()


class SpdxWriter:
    """Builds, validates and serialises the SPDX document of an inventory.

    ``prepare_file`` does the per-file part (checks, JSON text); ``render`` prepares every
    file of the inventory that is not prepared as it is now.

    Files and their CONTAINS relationships, thousands of elements of one fixed shape, are
    written through templates that spdx-tools' own converter makes from a model object of
    that shape (a test holds them equal to the converter's output) and checked by the
    rules spdx-tools' validators apply to them; the rest of the document is spdx-tools'
    model, validated by its validators and converted by its converter.
    """

    def __init__(self, creators: Sequence[str] = ()) -> None:
        """``creators``: extra SPDX creators, such as ``"Person: Python Release Managers"``."""
        self._creators = [_parse_creator(c) for c in creators]
        # Each prepared file waits in a temporary database, not in memory: the entry it
        # was made from, its SPDX ID and its JSON text. One B-tree, by path: IDs are made
        # unique when the document is rendered, not file by file.
        self._elements = temporary_database(
            f"CREATE TABLE elements (path TEXT PRIMARY KEY, size INTEGER NOT NULL, {DIGEST_COLUMNS},"
            " spdx_id TEXT NOT NULL, json BLOB NOT NULL) WITHOUT ROWID",
            self,
        )
        self._unusual_ids: dict[str, str] = {}  # paths whose ID is not the plain one: few
        self._pending: list[tuple[Any, ...]] = []
        self._version = 0  # changes whenever the prepared files do
        self._problems: dict[str, list[ValidationMessage]] = {}
        self._converter = _converter()
        self._text = ElementText(self._converter)
        # Load the license list and build the tokenizer spdx-tools' validator uses.
        licensing().validate("MIT")

    def prepare_file(self, entry: FileEntry) -> None:
        """Check a file and make its JSON text; written in batches."""
        entry = in_order(entry)
        spdx_id = self._file_id(entry.path)
        text = self._text.file(spdx_id, entry)
        self._pending.append((*row_of(entry), spdx_id, text))
        self._note_problems(spdx_id, entry)
        if len(self._pending) >= BATCH:
            self._write()

    def _note_problems(self, spdx_id: str, entry: FileEntry) -> None:
        problems = file_problems(spdx_id, entry)
        if problems:
            self._problems[entry.path] = problems
        else:
            self._problems.pop(entry.path, None)

    def _write(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            self._version += 1
            with temporary_storage():
                added = self._elements.executemany(_INSERT_ELEMENT, rows).rowcount
                if added < len(rows):  # paths prepared before: each brought up to date, in order
                    self._elements.executemany(_UPDATE_ELEMENT, rows)

    def _make_ids_unique(self, files: FileTable) -> None:
        """Where paths share a plain ID, the first in the inventory's order keeps it and
        each later one gets its own, by SpdxIds' rule: the IDs depend on the inventory
        alone, not on what the writer saw before."""
        before = dict(self._unusual_ids)
        with temporary_storage():
            self._give_unique_ids(files)
        if self._unusual_ids != before:  # the same IDs again: the same texts, nothing changed
            self._version += 1

    def _give_unique_ids(self, files: FileTable) -> None:
        for path in list(self._unusual_ids):
            self._give_id(path, SpdxIds.plain("SPDXRef-FILE-", path))
        query = "SELECT spdx_id FROM elements GROUP BY spdx_id HAVING count(*) > 1"
        shared = self._elements.execute(query).fetchall()
        if not shared:
            return
        self._elements.execute("CREATE INDEX IF NOT EXISTS elements_by_id ON elements (spdx_id)")
        ids = SpdxIds(taken=self._id_taken)
        query = "SELECT path FROM elements WHERE spdx_id = ?"
        for (spdx_id,) in shared:
            paths = sorted(
                (path for (path,) in self._elements.execute(query, (spdx_id,))), key=files.position
            )
            for path in paths[1:]:
                self._give_id(path, ids.allocate("SPDXRef-FILE-", path))

    def _give_id(self, path: str, spdx_id: str) -> None:
        row = self._elements.execute(f"SELECT {ROW} FROM elements WHERE path = ?", (path,)).fetchone()
        entry = entry_of(row)
        text = self._text.file(spdx_id, entry)
        self._elements.execute(
            "UPDATE elements SET spdx_id = ?, json = ? WHERE path = ?", (spdx_id, text, path)
        )
        self._note_problems(spdx_id, entry)
        if spdx_id == SpdxIds.plain("SPDXRef-FILE-", path):
            self._unusual_ids.pop(path, None)
        else:
            self._unusual_ids[path] = spdx_id

    def _id_taken(self, spdx_id: str) -> bool:
        query = "SELECT 1 FROM elements WHERE spdx_id = ?"
        return self._elements.execute(query, (spdx_id,)).fetchone() is not None

    def _prepare_all(self, inventory: Inventory) -> None:
        """Every file of the inventory prepared as it is now, and no other file kept;
        prepared in the inventory's order, as a scan would have."""
        self._write()
        with temporary_storage():
            changed, gone = self._compare(inventory.files)
            self._elements.executemany("DELETE FROM elements WHERE path = ?", ((path,) for path in gone))
            self._version += bool(gone)
        for path in gone:
            self._problems.pop(path, None)
            self._unusual_ids.pop(path, None)
        if changed is None or changed:
            for entry in inventory.files:
                if changed is None or entry.path in changed:
                    self.prepare_file(entry)
            self._write()
        self._make_ids_unique(inventory.files)

    def _compare(self, files: FileTable) -> tuple[set[str] | None, list[str]]:
        """``_differences`` between the files and the prepared ones; at once where the writer
        prepared every file already (a second render)."""
        query = f"SELECT {ROW} FROM elements ORDER BY path"
        (count,) = self._elements.execute("SELECT count(*) FROM elements").fetchone()
        if count == len(files) and all(map(operator.eq, files.rows_by_path(), self._elements.execute(query))):
            return set(), []
        return _differences(files.rows_by_path(), self._elements.execute(query))

    def _file_id(self, path: str) -> str:
        """The SPDX ID of a prepared file."""
        return self._unusual_ids.get(path) or SpdxIds.plain("SPDXRef-FILE-", path)

    def build(self, inventory: Inventory, *, with_files: bool = True) -> Document:
        """The spdx-tools document. ``with_files=False`` leaves out the files and the
        CONTAINS relationships, which ``render_parts`` writes through templates."""
        root = inventory.component(inventory.root)
        package_ids = _package_ids(inventory)
        creation = CreationInfo(
            spdx_version=SPDX_VERSION,
            spdx_id="SPDXRef-DOCUMENT",
            name=inventory.name,
            document_namespace=f"{NAMESPACE_BASE}/{inventory.artifact.name}-{content_id(inventory)}",
            creators=[*self._creators, Actor(ActorType.TOOL, f"sbomgen-{__version__}")],
            created=inventory.created,
            license_list_version=LICENSE_LIST_VERSION,
        )
        packages = sorted(
            (_package(c, package_ids[c.key], inventory) for c in inventory.components),
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
            with temporary_storage():
                rows = self._elements.execute(f"SELECT spdx_id, {ROW} FROM elements ORDER BY path")
                files = [_model_file(spdx_id, entry_of(row)) for spdx_id, *row in rows]
            relationships += [
                Relationship(package, RelationshipType.CONTAINS, self._file_id(path))
                for package, paths in _contained(inventory, package_ids)
                for path in paths
            ]
        annotator = Actor(ActorType.TOOL, f"sbomgen-{__version__}")
        annotations = [
            Annotation(
                package_ids[c.key], AnnotationType.OTHER, annotator, inventory.created, index_files_comment(c)
            )
            for c in inventory.components
            if c.index_files
        ]

        def notes(text_of: Callable[[Component], str | None]) -> list[Annotation]:
            return [
                Annotation(package_ids[c.key], AnnotationType.OTHER, annotator, inventory.created, text)
                for c in inventory.components
                if (text := text_of(c))
            ]

        annotations += notes(
            lambda c: c.index_unsigned_export and f"{INDEX_UNSIGNED} {index_unsigned_text(c)}"
        )
        annotations += notes(lambda c: c.index_url and f"{INDEX_URL} {c.index_url}")
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

    def render_tag_value(self, inventory: Inventory) -> bytes:
        """The validated document in SPDX's tag-value form; checked as ``render_parts``
        checks it, files written through a template of spdx-tools' file writer."""
        from .spdx_tagvalue import FileText, write_document_and_files

        document = self._checked(inventory)
        packaged = {path for component in inventory.components for path in component.files}
        text = FileText()
        query = f"SELECT spdx_id, {ROW} FROM elements"

        def unpackaged() -> Iterator[str]:
            for spdx_id, *row in self._elements.execute(f"{query} ORDER BY path"):
                if row[0] not in packaged:
                    yield text(spdx_id, entry_of(row))

        def contained(package_id: str) -> Iterator[tuple[str, Callable[[], str]]]:
            for path in paths.get(package_id, ()):
                spdx_id, *row = self._elements.execute(f"{query} WHERE path = ?", (path,)).fetchone()
                yield spdx_id, functools.partial(text, spdx_id, entry_of(row))

        paths = dict(_contained(inventory, _package_ids(inventory)))
        stream = io.StringIO()
        with temporary_storage():
            write_document_and_files(document, unpackaged(), contained, stream)
        return stream.getvalue().encode("utf-8")

    def render(self, inventory: Inventory) -> bytes:
        """The validated SPDX 2.3 JSON document for an inventory."""
        return b"".join(self.render_parts(inventory))

    def render_parts(self, inventory: Inventory) -> Iterator[bytes]:
        """The SPDX 2.3 JSON document as pieces to write in order, validated before the
        first piece: files come from the temporary database, relationships are made as they
        are written, so memory holds neither."""
        document = self._checked(inventory)
        package_ids = _package_ids(inventory)
        relationships = [
            _dumps(self._converter.relationship_converter.convert(r)) for r in document.relationships
        ]
        document.relationships.clear()
        as_json = self._converter.convert(document)
        version = self._version
        sections = {
            "files": lambda: self._unchanged_since(version, self._file_texts()),
            "relationships": lambda: self._unchanged_since(
                version,
                itertools.chain(
                    relationships,
                    *(
                        self._text.contains(package, map(self._file_id, paths))
                        for package, paths in _contained(inventory, package_ids)
                    ),
                ),
            ),
        }
        has_relationships = bool(relationships) or any(c.files for c in inventory.components)
        return self._pieces(as_json, sections, has_relationships)

    def _checked(self, inventory: Inventory) -> Document:
        """The document without its files and CONTAINS relationships, once it, every file
        and every file a package CONTAINS pass what spdx-tools' validators check of them."""
        self._prepare_all(inventory)
        document = self.build(inventory, with_files=False)
        package_ids = _package_ids(inventory)
        problems = validate_document(document)
        problems += [problem for found in self._problems.values() for problem in found]
        problems += [
            ValidationMessage(f"{package_ids[c.key]} CONTAINS {path!r}, which is not in the document", None)  # type: ignore[arg-type]
            for c in inventory.components
            for path in inventory.files.missing(c.files)
        ]
        _raise_for(problems)
        return document

    def _unchanged_since(self, version: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        """``pieces``, as long as the writer prepares nothing else meanwhile: the document
        was checked as it was then."""
        for piece in pieces:
            if self._version != version:
                raise RuntimeError("the SPDX writer prepared other files before this document was written")
            yield piece

    def _file_texts(self) -> Iterator[bytes]:
        with temporary_storage():
            for (text,) in self._elements.execute("SELECT json FROM elements ORDER BY path"):
                yield text

    @staticmethod
    def _pieces(
        as_json: dict[str, Any], sections: dict[str, Callable[[], Iterator[bytes]]], has_relationships: bool
    ) -> Iterator[bytes]:
        first = True
        for key in _KEY_ORDER:
            if key in sections and (key == "files" or has_relationships):
                yield b"{" if first else b","
                yield _dumps(key) + b":["
                elements, separator = sections[key](), b""
                while batch := list(itertools.islice(elements, 512)):  # few pieces, flat memory
                    yield separator + b",".join(batch)
                    separator = b","
                yield b"]"
            elif key in as_json:
                yield b"{" if first else b","
                yield _dumps(key) + b":" + _dumps(as_json[key])
            else:
                continue
            first = False
        yield b"}\n"


def _differences(
    wanted: Iterator[tuple[Any, ...]], have: Iterator[tuple[Any, ...]]
) -> tuple[set[str] | None, list[str]]:
    """Paths whose row is in ``wanted`` but not in ``have``, and paths only in ``have``;
    both iterators in path order. None for the first: ``have`` is empty, every path."""
    mine = next(have, None)
    if mine is None:
        return None, []
    changed, gone = set(), []
    for row in wanted:
        while mine is not None and mine[0] < row[0]:
            gone.append(mine[0])
            mine = next(have, None)
        if mine != row:
            changed.add(row[0])
        if mine is not None and mine[0] == row[0]:
            mine = next(have, None)
    while mine is not None:
        gone.append(mine[0])
        mine = next(have, None)
    return changed, gone


def _package_ids(inventory: Inventory) -> dict[str, str]:
    ids = SpdxIds()
    return {
        c.key: ids.allocate("SPDXRef-PACKAGE-", f"{c.name}-{c.version}" if c.versioned_id else c.name.lower())
        for c in inventory.components
    }


def _contained(inventory: Inventory, package_ids: dict[str, str]) -> Iterator[tuple[str, Sequence[str]]]:
    """(package SPDX ID, paths of the files it CONTAINS), packages in SPDX ID order."""
    for component in sorted(inventory.components, key=lambda c: package_ids[c.key]):
        yield package_ids[component.key], component.files


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


_INSERT_ELEMENT = f"INSERT OR IGNORE INTO elements ({ROW}, spdx_id, json) VALUES (?, ?, ?, ?, ?, ?, ?)"
_UPDATE_ELEMENT = (
    "UPDATE elements SET size = ?2, sha1 = ?3, sha256 = ?4, sha512 = ?5, spdx_id = ?6, json = ?7"
    " WHERE path = ?1"
)
_HEX_DIGITS = {"SHA1": 40, "SHA256": 64, "SHA512": 128}
_LOWER_HEX = re.compile("[0-9a-f]+")


# Stricter than spdx-tools' ID rule (its "$" also matches before a final newline): what
# passes here passes there, so a file passing these needs no closer look.
_PLAIN_VALID_ID = re.compile(r"SPDXRef-[\da-zA-Z.-]+")


def file_problems(spdx_id: str, entry: FileEntry) -> list[ValidationMessage]:
    """What spdx-tools' file, checksum and SPDX ID validators check of a file of this shape."""
    checksums = entry.checksums
    if (
        _PLAIN_VALID_ID.fullmatch(spdx_id)
        and entry.path[:1] != "/"
        and checksums[:1]
        and checksums[0].algorithm == "SHA1"
        and all(len(c.value) == _HEX_DIGITS.get(c.algorithm) for c in checksums)
        and _LOWER_HEX.fullmatch("".join([c.value for c in checksums]))
    ):
        return []
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

    def contains(self, package_id: str, file_ids: Iterable[str]) -> Iterator[bytes]:
        """The CONTAINS relationships of one package, one per file."""
        per_file = self._contains.fill_all_but_one({0: package_id})
        return ((per_file % encode_basestring_ascii(file_id)).encode("ascii") for file_id in file_ids)


def _marker(index: int) -> str:
    return f"@{index}@"


class _Template:
    """JSON text with slots where markers were, filled with JSON-encoded strings: a
    printf-style format, so that filling one is a single C call."""

    def __init__(self, as_json: Any, slots: int) -> None:
        text = _dumps(as_json).decode("ascii")
        quoted = [_dumps(_marker(i)).decode("ascii") for i in range(slots)]
        found = sorted((text.index(quoted[i]), i) for i in range(slots))
        pieces, cursor = [], 0
        for position, index in found:
            pieces.append(text[cursor:position].replace("%", "%%"))
            cursor = position + len(quoted[index])
        pieces.append(text[cursor:].replace("%", "%%"))
        self._format = "%s".join(pieces)
        self._order = [index for _, index in found]

    def fill(self, values: Sequence[str]) -> bytes:
        encoded = tuple(map(encode_basestring_ascii, map(values.__getitem__, self._order)))
        return (self._format % encoded).encode("ascii")

    def fill_all_but_one(self, values: dict[int, str]) -> str:
        """The format with every slot but one filled: the one left is its only ``%s``."""
        assert len(self._order) - len(values) == 1
        return self._format % tuple(
            encode_basestring_ascii(values[i]).replace("%", "%%") if i in values else "%s"
            for i in self._order
        )


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


class _LinearConverter(DocumentConverter):
    """spdx-tools' converter, giving each package, file and snippet its annotations from
    one grouping made per document: its own looks through every annotation of the document
    for each element (quadratic: minutes for thousands of packages with index metadata)."""

    def _get_property_value(  # type: ignore[override] # DocumentConverter's names, not its base's
        self, document: Document, document_property: Any, _document: Document | None = None
    ) -> Any:
        elements: dict[Any, tuple[list[Any], Any]] = {
            DocumentProperty.PACKAGES: (document.packages, self.package_converter),
            DocumentProperty.FILES: (document.files, self.file_converter),
            DocumentProperty.SNIPPETS: (document.snippets, self.snippet_converter),
        }
        if document_property is DocumentProperty.ANNOTATIONS:
            # The document's own: those no element of it carries.
            ids = {element.spdx_id for kind, _ in elements.values() for element in kind}
            own = [a for a in document.annotations if a.spdx_id not in ids]
            return [self.annotation_converter.convert(a) for a in own] or None
        if document_property not in elements:
            return super()._get_property_value(document, document_property, _document)
        kind, converter = elements[document_property]
        by_element: dict[str, list[Annotation]] = {}
        for annotation in document.annotations:
            by_element.setdefault(annotation.spdx_id, []).append(annotation)
        view = Document(document.creation_info)  # what an element's converter reads: its annotations
        converted = []
        for element in kind:
            view.annotations[:] = by_element.get(element.spdx_id, ())
            converted.append(converter.convert(element, view))
        return converted or None


def _converter() -> DocumentConverter:
    from spdx_tools.spdx.jsonschema.checksum_converter import ChecksumConverter
    from spdx_tools.spdx.jsonschema.file_converter import FileConverter
    from spdx_tools.spdx.jsonschema.package_converter import PackageConverter
    from spdx_tools.spdx.jsonschema.relationship_converter import RelationshipConverter

    converter = _LinearConverter()
    converter.package_converter = _cached_names(PackageConverter)
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


def _parse_creator(text: str) -> Actor:
    """A ``--creator`` as spdx-tools' actor: the contact, an e-mail or a URL, in its parentheses."""
    from ..documents.creators import parse_creator

    creator = parse_creator(text)
    if isinstance(creator, str):
        return Actor(ActorType.TOOL, creator)
    return Actor(ActorType[creator.kind.upper()], creator.name, creator.email or creator.url)


def index_files_comment(component: Component) -> str:
    """The release's files on the index when the SBOM was made, as an annotation's text."""
    return f"{INDEX_FILES} {index_files_json(component)}"


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


def _package(component: Component, spdx_id: str, inventory: Inventory) -> Package:
    refs = []
    if component.purl:
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", component.purl))
    if component.cpe:
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "cpe23Type", component.cpe))
    # A package whose files are not in this document says so (filesAnalyzed false)
    # rather than claiming an empty file list was analysed.
    analyzed = bool(component.files)
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
        verification_code=(
            PackageVerificationCode(
                verification_code(inventory.files.sorted_digests(component.files, "SHA1"))
            )
            if analyzed
            else None
        ),
        checksums=[Checksum(ChecksumAlgorithm[c.algorithm], c.value) for c in component.checksums],
        license_concluded=_license(component.license_concluded, spdx_id),
        license_declared=(
            _license(component.license_declared, spdx_id) if component.license_declared else None
        ),
        license_comment=component.license_comment,
        copyright_text=component.copyright_text,
        external_references=refs,
        primary_package_purpose=PackagePurpose[component.purpose.name],
        comment=component.comment,
    )
