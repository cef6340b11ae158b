"""SPDX tag-value through spdx-tools' element writers, in time linear in the document.

spdx-tools' ``write_document`` asks whether each file was written already, or belongs to
a package, by looking through lists of every file ID, and whether a relationship starts at
a package through a list of every package ID: quadratic, minutes for a tarball of tens of
thousands of files. This is its ``write_document`` with those lists as sets; the text is
the same, piece for piece (a test holds the two equal).

``write_document_and_files`` writes a document whose files come as text, made from a
template of spdx-tools' file writer (``FileText``): an SBOM's thousands of files need no
model object each.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from spdx_tools.spdx.model import (
    Checksum,
    ChecksumAlgorithm,
    Document,
    File,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
    SpdxNone,
)
from spdx_tools.spdx.writer.tagvalue.annotation_writer import write_annotation
from spdx_tools.spdx.writer.tagvalue.creation_info_writer import write_creation_info
from spdx_tools.spdx.writer.tagvalue.extracted_licensing_info_writer import write_extracted_licensing_info
from spdx_tools.spdx.writer.tagvalue.file_writer import write_file
from spdx_tools.spdx.writer.tagvalue.package_writer import write_package
from spdx_tools.spdx.writer.tagvalue.relationship_writer import write_relationship
from spdx_tools.spdx.writer.tagvalue.snippet_writer import write_snippet
from spdx_tools.spdx.writer.tagvalue.tagvalue_writer_helper_functions import (
    write_list_of_elements,
    write_optional_heading,
    write_separator,
)

from ..model import FileEntry

# (SPDX ID, a function that writes the file) for each file a package contains, in order
FilesOf = Callable[[str], Iterable[tuple[str, Callable[[TextIO], None]]]]


def write_document(document: Document, text_output: TextIO) -> None:
    relationships_to_write, contained_files_by_package_id = _scan_relationships(document)
    file_ids = {file.spdx_id for file in document.files}
    snippets_by_file_id: dict[str, list[Any]] = {}
    for snippet in document.snippets:
        if snippet.file_spdx_id in file_ids:
            snippets_by_file_id.setdefault(snippet.file_spdx_id, []).append(snippet)
    packaged_file_ids = {file.spdx_id for files in contained_files_by_package_id.values() for file in files}
    filed_snippet_ids = {snippet.spdx_id for snippets in snippets_by_file_id.values() for snippet in snippets}

    _write_head(document, text_output)
    for snippet in document.snippets:
        if snippet.spdx_id not in filed_snippet_ids:
            write_snippet(snippet, text_output)
            write_separator(text_output)

    for file in document.files:
        if file.spdx_id not in packaged_file_ids:
            _write_file(file, snippets_by_file_id, text_output)

    def files_of(package_id: str) -> Iterable[tuple[str, Callable[[TextIO], None]]]:
        for file in contained_files_by_package_id.get(package_id, ()):
            yield file.spdx_id, functools.partial(_write_file, file, snippets_by_file_id)

    relationships_to_write += _write_packages(document, files_of, text_output)
    _write_tail(document, relationships_to_write, text_output)


def write_document_and_files(
    document: Document,
    unpackaged: Iterable[str],
    files_of: Callable[[str], Iterable[tuple[str, Callable[[], str]]]],
    text_output: TextIO,
) -> None:
    """``write_document`` of ``document`` as if it held files, given apart: ``unpackaged``,
    the text of each file no package contains, in the document's order; ``files_of``, the
    SPDX ID and a maker of the text of each file a package CONTAINS, in the order of those
    relationships. ``document`` itself has neither files, snippets nor CONTAINS relationships."""
    assert not document.files and not document.snippets
    relationships_to_write, _ = _scan_relationships(document)
    _write_head(document, text_output)
    for text in unpackaged:
        text_output.write(text)

    def writers(package_id: str) -> Iterable[tuple[str, Callable[[TextIO], None]]]:
        for spdx_id, text in files_of(package_id):
            yield spdx_id, functools.partial(_write_text, text)

    relationships_to_write += _write_packages(document, writers, text_output)
    _write_tail(document, relationships_to_write, text_output)


class FileText:
    """A file's text as spdx-tools' file writer (and a separator) gives it, through a
    template that writer makes from a model file with a marker in each varying field: its
    values are written as they are, whatever they hold."""

    def __init__(self) -> None:
        self._templates: dict[tuple[str, ...], tuple[str, list[int]]] = {}

    def __call__(self, spdx_id: str, entry: FileEntry) -> str:
        algorithms = tuple(c.algorithm for c in entry.checksums)
        template = self._templates.get(algorithms)
        if template is None:
            template = self._templates[algorithms] = _template(algorithms)
        form, order = template
        values = (entry.path, spdx_id, *(c.value for c in entry.checksums))
        return form % tuple(values[i] for i in order)


def _template(algorithms: tuple[str, ...]) -> tuple[str, list[int]]:
    markers = [f"@{i}@" for i in range(2 + len(algorithms))]
    prototype = File(
        name=markers[0],
        spdx_id=markers[1],
        checksums=[Checksum(ChecksumAlgorithm[a], markers[2 + i]) for i, a in enumerate(algorithms)],
    )
    out = io.StringIO()
    _write_file(prototype, {}, out)
    text = out.getvalue()
    found = sorted((text.index(marker), i) for i, marker in enumerate(markers))
    pieces, cursor = [], 0
    for position, index in found:
        pieces.append(text[cursor:position].replace("%", "%%"))
        cursor = position + len(markers[index])
    pieces.append(text[cursor:].replace("%", "%%"))
    return "%s".join(pieces), [index for _, index in found]


def _write_text(text: Callable[[], str], text_output: TextIO) -> None:
    text_output.write(text())


def _write_head(document: Document, text_output: TextIO) -> None:
    text_output.write("## Document Information\n")
    write_creation_info(document.creation_info, text_output)
    write_separator(text_output)


def _write_packages(document: Document, files_of: FilesOf, text_output: TextIO) -> list[Relationship]:
    """Each package with the files it contains; the CONTAINS relationships of files
    written already, to be written as relationships."""
    again = []
    written_file_ids: set[str] = set()  # a file can belong to several packages but is written once
    for package in document.packages:
        write_package(package, text_output)
        write_separator(text_output)
        for spdx_id, write in files_of(package.spdx_id):
            if spdx_id in written_file_ids:
                again.append(Relationship(package.spdx_id, RelationshipType.CONTAINS, spdx_id))
            else:
                write(text_output)
                written_file_ids.add(spdx_id)
    return again


def _write_tail(document: Document, relationships_to_write: list[Relationship], text_output: TextIO) -> None:
    write_optional_heading(document.extracted_licensing_info, "## License Information\n", text_output)
    write_list_of_elements(
        document.extracted_licensing_info, write_extracted_licensing_info, text_output, with_separator=True
    )

    write_optional_heading(relationships_to_write, "## Relationships\n", text_output)
    write_list_of_elements(relationships_to_write, write_relationship, text_output)
    write_separator(text_output)

    write_optional_heading(document.annotations, "## Annotations\n", text_output)
    write_list_of_elements(document.annotations, write_annotation, text_output, with_separator=True)


def _write_file(file: File, snippets_by_file_id: dict[str, list[Any]], text_output: TextIO) -> None:
    write_file(file, text_output)
    write_separator(text_output)
    if file.spdx_id in snippets_by_file_id:
        write_list_of_elements(
            snippets_by_file_id[file.spdx_id], write_snippet, text_output, with_separator=True
        )


def _scan_relationships(document: Document) -> tuple[list[Relationship], dict[str, list[File]]]:
    """The relationships written as such, and the files each package contains (written
    under it), by the rule of spdx-tools' ``scan_relationships``."""
    contained: dict[str, list[File]] = {}
    to_write = []
    files_by_id = {file.spdx_id: file for file in document.files}
    package_ids = {package.spdx_id for package in document.packages}
    for relationship in document.relationships:
        origin, kind, target = (
            relationship.spdx_element_id,
            relationship.relationship_type,
            relationship.related_spdx_element_id,
        )
        if isinstance(target, (SpdxNoAssertion, SpdxNone)):
            to_write.append(relationship)
            continue
        if kind == RelationshipType.CONTAINS and origin in package_ids and target in files_by_id:
            package, file = origin, files_by_id[target]
        elif kind == RelationshipType.CONTAINED_BY and target in package_ids and origin in files_by_id:
            package, file = target, files_by_id[origin]
        else:
            to_write.append(relationship)
            continue
        contained.setdefault(package, []).append(file)
        if relationship.comment:
            to_write.append(relationship)
    return to_write, contained
