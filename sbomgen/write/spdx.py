"""SPDX 2.3 JSON through spdx-tools: its model, its validators, its writer."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable

from license_expression import ExpressionError, get_spdx_licensing
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
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
from spdx_tools.spdx.validation.annotation_validator import validate_annotations
from spdx_tools.spdx.validation.creation_info_validator import validate_creation_info
from spdx_tools.spdx.validation.extracted_licensing_info_validator import (
    validate_extracted_licensing_infos,
)
from spdx_tools.spdx.validation.file_validator import validate_files
from spdx_tools.spdx.validation.package_validator import validate_packages
from spdx_tools.spdx.validation.relationship_validator import validate_relationship
from spdx_tools.spdx.validation.snippet_validator import validate_snippets
from spdx_tools.spdx.validation.validation_message import ValidationMessage
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from .. import __version__
from ..errors import ContentError, OutputValidationError
from ..model import Component, FileEntry, Inventory, Party

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


def build_document(inventory: Inventory) -> Document:
    if "SHA1" not in {c.algorithm for f in inventory.files[:1] for c in f.checksums} and inventory.files:
        raise ContentError("SPDX needs a SHA1 checksum for every file")
    root = inventory.component(inventory.root)
    ids = SpdxIds()
    package_ids = {c.key: ids.allocate("SPDXRef-PACKAGE-", c.name.lower()) for c in inventory.components}
    file_ids = {f.path: ids.allocate("SPDXRef-FILE-", f.path) for f in inventory.files}
    files_by_path = {f.path: f for f in inventory.files}

    creation = CreationInfo(
        spdx_version=SPDX_VERSION,
        spdx_id="SPDXRef-DOCUMENT",
        name="CPython SBOM",
        document_namespace=f"{NAMESPACE_BASE}/{inventory.artifact.name}-{_content_id(inventory)}",
        creators=[Actor(ActorType.TOOL, f"sbomgen-{__version__}")],
        created=inventory.created,
        license_list_version=LICENSE_LIST_VERSION,
    )
    packages = sorted(
        (_package(c, package_ids[c.key], [files_by_path[p] for p in c.files]) for c in inventory.components),
        key=lambda p: p.spdx_id,
    )
    files = [
        File(
            name=entry.path,
            spdx_id=file_ids[entry.path],
            checksums=[Checksum(ChecksumAlgorithm[c.algorithm], c.value) for c in entry.checksums],
        )
        for entry in inventory.files
    ]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, package_ids[root.key])]
    relationships += sorted(
        (
            Relationship(package_ids[d.source], RelationshipType.DEPENDS_ON, package_ids[d.target])
            for d in inventory.dependencies
        ),
        key=lambda r: (r.spdx_element_id, r.related_spdx_element_id),
    )
    for component in sorted(inventory.components, key=lambda c: package_ids[c.key]):
        relationships += [
            Relationship(package_ids[component.key], RelationshipType.CONTAINS, file_ids[path])
            for path in component.files
        ]
    return Document(creation, packages=packages, files=files, relationships=relationships)


def _content_id(inventory: Inventory) -> str:
    """A digest naming this exact content: the artifact's SHA256, else one over its files."""
    for checksum in inventory.artifact.checksums:
        if checksum.algorithm == "SHA256":
            return checksum.value
    listing = hashlib.sha256()
    for entry in inventory.files:
        listing.update(f"{entry.digest('SHA256')}  {entry.path}\n".encode())
    return listing.hexdigest()


def _actor(party: Party | None) -> Actor | None:
    if party is None:
        return None
    return Actor(ActorType[party.kind.upper()], party.name, party.email)


def _license(expression: str | None, where: str):  # type: ignore[no-untyped-def]
    if expression is None:
        return SpdxNoAssertion()
    try:
        return get_spdx_licensing().parse(expression)
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
    return Package(
        spdx_id=spdx_id,
        name=component.name,
        download_location=component.download_location or SpdxNoAssertion(),
        version=component.version,
        file_name=component.file_name,
        supplier=_actor(component.supplier),
        originator=_actor(component.originator),
        files_analyzed=analyzed,
        verification_code=PackageVerificationCode(verification_code(files)) if analyzed else None,
        checksums=[Checksum(ChecksumAlgorithm[c.algorithm], c.value) for c in component.checksums],
        license_concluded=_license(component.license_concluded, spdx_id),
        license_declared=_license(component.license_declared, spdx_id) if component.license_declared else None,
        external_references=refs,
        primary_package_purpose=PackagePurpose[component.purpose.name],
    )


def validate(document: Document) -> list[ValidationMessage]:
    """spdx-tools' own validators, in the order its full-document validator runs them.

    Relationships are checked one by one against a view holding only the elements they
    name: the same validator and verdicts, without re-listing every ID in the document
    for every relationship (quadratic, minutes on a CPython tarball).
    """
    version = document.creation_info.spdx_version
    messages = list(validate_creation_info(document.creation_info, version))
    messages += validate_packages(document.packages, version, document)
    messages += validate_files(document.files, version, document)
    messages += validate_snippets(document.snippets, version, document)
    messages += validate_annotations(document.annotations, document)
    elements: dict[str, Package | File] = {p.spdx_id: p for p in document.packages}
    elements.update({f.spdx_id: f for f in document.files})
    duplicates = len(elements) != len(document.packages) + len(document.files)
    for relationship in document.relationships:
        named = [
            elements[i]
            for i in (relationship.spdx_element_id, str(relationship.related_spdx_element_id))
            if i in elements
        ]
        view = Document(
            document.creation_info,
            packages=[e for e in named if isinstance(e, Package)],
            files=[e for e in named if isinstance(e, File)],
        )
        messages += validate_relationship(relationship, version, view)
    messages += validate_extracted_licensing_infos(document.extracted_licensing_info)
    if not any(
        r.relationship_type is RelationshipType.DESCRIBES and r.spdx_element_id == "SPDXRef-DOCUMENT"
        for r in document.relationships
    ):
        messages.append(ValidationMessage("the document DESCRIBES nothing", None))  # type: ignore[arg-type]
    if duplicates:
        messages.append(ValidationMessage("SPDX IDs are not unique", None))  # type: ignore[arg-type]
    return messages


def render(inventory: Inventory) -> bytes:
    """The validated SPDX 2.3 JSON document for an inventory."""
    document = build_document(inventory)
    problems = validate(document)
    if problems:
        first = problems[0]
        raise OutputValidationError(
            f"the SPDX document failed validation ({len(problems)} problem(s)); first: "
            f"{first.validation_message} [{first.context.spdx_id if first.context else 'document'}]"
        )
    stream = io.StringIO()
    write_document_to_stream(document, stream, validate=False, drop_duplicates=False)
    return (stream.getvalue() + "\n").encode("utf-8")
