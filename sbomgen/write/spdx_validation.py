"""spdx-tools' validation of a whole SPDX document, in time linear in the document's size.

spdx-tools' ``validate_full_spdx_document`` hands every element the whole document to look
things up in: each package whose files were not analysed scans every relationship (it must
contain no file), each reference lists every SPDX ID, each license expression every
extracted licence, each ``DocumentRef-`` every external document. That is quadratic:
minutes for a pip vendoring 16,000 packages, or a PEP 770 SBOM of as many components.

Here each element is checked by spdx-tools' own validator for its kind, against a view of
the document holding only what can concern that element, found through dictionaries built
once: the same checks, the same messages, in the same order.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from spdx_tools.spdx.model import Document, RelationshipType
from spdx_tools.spdx.model.relationship_filters import filter_by_type_and_origin, filter_by_type_and_target
from spdx_tools.spdx.validation.annotation_validator import validate_annotation
from spdx_tools.spdx.validation.creation_info_validator import validate_creation_info
from spdx_tools.spdx.validation.extracted_licensing_info_validator import validate_extracted_licensing_infos
from spdx_tools.spdx.validation.file_validator import validate_file_within_document
from spdx_tools.spdx.validation.package_validator import validate_package_within_document
from spdx_tools.spdx.validation.relationship_validator import validate_relationship
from spdx_tools.spdx.validation.snippet_validator import validate_snippet_within_document
from spdx_tools.spdx.validation.spdx_id_validators import get_list_of_all_spdx_ids
from spdx_tools.spdx.validation.validation_message import (
    SpdxElementType,
    ValidationContext,
    ValidationMessage,
)

_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
# Where a symbol of a license expression ends: it stands between spaces and parentheses.
_SYMBOL_BOUNDARY = re.compile(r"[\s()]+")


def validate_document(document: Document, spdx_version: str | None = None) -> list[ValidationMessage]:
    """What ``validate_full_spdx_document`` says of ``document``, message for message."""
    document_version = document.creation_info.spdx_version
    version = spdx_version or document_version
    context = ValidationContext(spdx_id=document.creation_info.spdx_id, element_type=SpdxElementType.DOCUMENT)
    refused = _version_problems(document_version, version, context)
    if refused:
        return refused
    view = _View(document)
    messages = list(validate_creation_info(document.creation_info, version))
    for package in document.packages:
        relationships = [] if package.files_analyzed else view.containing(package.spdx_id)
        ends = [end for r in relationships for end in (r.spdx_element_id, r.related_spdx_element_id)]
        licenses = (package.license_concluded, package.license_declared, *package.license_info_from_files)
        messages += validate_package_within_document(
            package, version, view.showing([package.spdx_id, *ends], licenses, relationships)
        )
    for file in document.files:
        licenses = (file.license_concluded, *file.license_info_in_file)
        messages += validate_file_within_document(file, version, view.showing([file.spdx_id], licenses))
    for snippet in document.snippets:
        licenses = (snippet.license_concluded, *snippet.license_info_in_snippet)
        shown = view.showing([snippet.spdx_id, snippet.file_spdx_id], licenses)
        messages += validate_snippet_within_document(snippet, version, shown)
    for annotation in document.annotations:
        messages += validate_annotation(annotation, view.showing([annotation.spdx_id]))
    for relationship in document.relationships:
        ends = [relationship.spdx_element_id, relationship.related_spdx_element_id]
        messages += validate_relationship(relationship, version, view.showing(ends))
    messages += validate_extracted_licensing_infos(document.extracted_licensing_info)
    messages += _document_problems(document)
    return messages


def _version_problems(
    document_version: str, version: str, context: ValidationContext
) -> list[ValidationMessage]:
    """spdx-tools validates nothing else of a document of another version."""
    if document_version not in _VERSIONS:
        problem = (
            'only SPDX versions "SPDX-2.2" and "SPDX-2.3" are supported, but the document\'s '
            f"spdx_version is: {document_version}"
        )
    elif version != document_version:
        problem = (
            f"provided SPDX version {version} does not match the document's SPDX version {document_version}"
        )
    else:
        return []
    cancelled = (
        "There are issues concerning the SPDX version of the document. As subsequent validation relies on "
        "the correct version, the validation process has been cancelled."
    )
    return [ValidationMessage(problem, context), ValidationMessage(cancelled, context)]


def _document_problems(document: Document) -> list[ValidationMessage]:
    """What the document as a whole must be: described, every SPDX ID once (one pass each)."""
    messages = []
    document_id = document.creation_info.spdx_id
    context = ValidationContext(spdx_id=document_id, element_type=SpdxElementType.DOCUMENT)
    describes = filter_by_type_and_origin(document.relationships, RelationshipType.DESCRIBES, document_id)
    described_by = filter_by_type_and_target(
        document.relationships, RelationshipType.DESCRIBED_BY, document_id
    )
    only_a_single_package = len(document.packages) == 1 and not document.files and not document.snippets
    if not only_a_single_package and not describes + described_by:
        messages.append(
            ValidationMessage(
                f'there must be at least one relationship "{document_id} DESCRIBES ..." or "... DESCRIBED_BY '
                f'{document_id}" when there is not only a single package present',
                context,
            )
        )
    seen: set[str] = set()
    duplicated = {i for i in get_list_of_all_spdx_ids(document) if i in seen or seen.add(i)}  # type: ignore[func-returns-value]
    if duplicated:
        messages.append(
            ValidationMessage(
                "every spdx_id must be unique within the document, but found the following duplicates: "
                f"{sorted(duplicated)}",
                context,
            )
        )
    return messages


class _View:
    """A document holding, at a time, what concerns one element: the packages, files and
    snippets it names, the extracted licences and external documents its IDs and license
    expressions can name, and the relationships it is given."""

    def __init__(self, document: Document) -> None:
        self._packages = _first_by_id(document.packages)
        self._files = _first_by_id(document.files)
        self._snippets = _first_by_id(document.snippets)
        self._licenses = _first_by_id(document.extracted_licensing_info, "license_id")
        self._references = _first_by_id(document.creation_info.external_document_refs, "document_ref_id")
        # Per package ID: the relationships spdx-tools' package validator looks for (the
        # package CONTAINS, or is CONTAINED_BY), in the document's order.
        self._containing: dict[str, list[Any]] = defaultdict(list)
        for relationship in document.relationships:
            kind = relationship.relationship_type
            if kind is RelationshipType.CONTAINS:
                self._containing[relationship.spdx_element_id].append(relationship)
            elif kind is RelationshipType.CONTAINED_BY and isinstance(
                relationship.related_spdx_element_id, str
            ):
                self._containing[relationship.related_spdx_element_id].append(relationship)
        creation_info = copy.copy(document.creation_info)
        creation_info.external_document_refs = []
        self.document = Document(creation_info)

    def containing(self, package_id: str) -> list[Any]:
        return self._containing.get(package_id, [])

    def showing(
        self, ids: Iterable[object], licenses: Iterable[object] = (), relationships: Sequence[Any] = ()
    ) -> Document:
        """The view for an element naming ``ids`` and ``licenses`` (expressions)."""
        named = {i for i in ids if isinstance(i, str)}
        symbols = {s for e in licenses if e is not None for s in _SYMBOL_BOUNDARY.split(str(e))}
        symbols |= {s.removesuffix("+") for s in symbols}
        view = self.document
        view.packages[:] = [self._packages[i] for i in named if i in self._packages]
        view.files[:] = [self._files[i] for i in named if i in self._files]
        view.snippets[:] = [self._snippets[i] for i in named if i in self._snippets]
        view.extracted_licensing_info[:] = [self._licenses[s] for s in symbols if s in self._licenses]
        documents = {name.partition(":")[0] for name in named | symbols if ":" in name}
        view.creation_info.external_document_refs[:] = [
            self._references[d] for d in documents if d in self._references
        ]
        view.relationships[:] = relationships
        return view


def _first_by_id(elements: Iterable[Any], key: str = "spdx_id") -> dict[Any, Any]:
    """Each element by its ID, the first of several with one: spdx-tools' lookups ask only
    whether some element has an ID, and of what kind."""
    found: dict[Any, Any] = {}
    for element in elements:
        found.setdefault(getattr(element, key), element)
    return found
