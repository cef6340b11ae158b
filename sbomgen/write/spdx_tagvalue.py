"""SPDX tag-value through spdx-tools' element writers, in time linear in the document.

spdx-tools' ``write_document`` asks whether each file was written already, or belongs to
a package, by looking through lists of every file ID, and whether a relationship starts at
a package through a list of every package ID: quadratic, minutes for a tarball of tens of
thousands of files. This is its ``write_document`` with those lists as sets; the text is
the same, piece for piece (a test holds the two equal).
"""

from __future__ import annotations

from typing import Any, TextIO

from spdx_tools.spdx.model import Document, File, Relationship, RelationshipType, SpdxNoAssertion, SpdxNone
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


def write_document(document: Document, text_output: TextIO) -> None:
    relationships_to_write, contained_files_by_package_id = _scan_relationships(document)
    file_ids = {file.spdx_id for file in document.files}
    snippets_by_file_id: dict[str, list[Any]] = {}
    for snippet in document.snippets:
        if snippet.file_spdx_id in file_ids:
            snippets_by_file_id.setdefault(snippet.file_spdx_id, []).append(snippet)
    packaged_file_ids = {file.spdx_id for files in contained_files_by_package_id.values() for file in files}
    filed_snippet_ids = {snippet.spdx_id for snippets in snippets_by_file_id.values() for snippet in snippets}

    text_output.write("## Document Information\n")
    write_creation_info(document.creation_info, text_output)
    write_separator(text_output)

    for snippet in document.snippets:
        if snippet.spdx_id not in filed_snippet_ids:
            write_snippet(snippet, text_output)
            write_separator(text_output)

    for file in document.files:
        if file.spdx_id not in packaged_file_ids:
            _write_file(file, snippets_by_file_id, text_output)

    written_file_ids: set[str] = set()  # a file can belong to several packages but is written once
    for package in document.packages:
        write_package(package, text_output)
        write_separator(text_output)
        for file in contained_files_by_package_id.get(package.spdx_id, ()):
            if file.spdx_id in written_file_ids:
                relationships_to_write.append(
                    Relationship(package.spdx_id, RelationshipType.CONTAINS, file.spdx_id)
                )
            else:
                _write_file(file, snippets_by_file_id, text_output)
                written_file_ids.add(file.spdx_id)

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
