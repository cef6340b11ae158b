"""SPDX 2.2/2.3 JSON: the fields sbomgen reads, strictly typed.

One model serves every SPDX document sbomgen reads: CPython's ``Misc/sbom.spdx.json``
fragments (no document header), the SBOMs given to ``diff``, ``report``, ``check`` and
``regenerate``, and SBOMs a distribution carries (PEP 770). Values that reach an output
are checked here as the writers' validators check them, so input cannot make a generated
document invalid (exit 5): SPDX IDs by the spec's syntax and unique, checksum algorithms
from SPDX's list with hex values of the algorithm's length, purl and CPE locators by the
patterns spdx-tools validates, actors as ``Person:``/``Organization:``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, RootModel, model_validator

from ..errors import SbomgenError
from .fields import Line, NonEmptyLine, Sha256, Strict, Text, check_purl, conforms
from .parse import parse_json, validate

# SPDX 2.3 clause 7.10: the algorithms, and how many hex digits a digest of each has (the
# variable ones as spdx-tools' validator bounds them: BLAKE3 at least 256 bits, MD6 at most 512).
CHECKSUM_LENGTHS: dict[str, tuple[int, int]] = {
    "SHA1": (40, 40), "SHA224": (56, 56), "SHA256": (64, 64), "SHA384": (96, 96), "SHA512": (128, 128),
    "SHA3-256": (64, 64), "SHA3-384": (96, 96), "SHA3-512": (128, 128),
    "BLAKE2b-256": (64, 64), "BLAKE2b-384": (96, 96), "BLAKE2b-512": (128, 128), "BLAKE3": (64, 256),
    "MD2": (32, 32), "MD4": (32, 32), "MD5": (32, 32), "MD6": (1, 128), "ADLER32": (8, 8),
}  # fmt: skip
ChecksumAlgorithm = Literal[
    "SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "SHA3-256", "SHA3-384", "SHA3-512",
    "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3", "MD2", "MD4", "MD5", "MD6", "ADLER32",
]  # fmt: skip
_HEX = re.compile(r"[0-9a-fA-F]+")
NOASSERTION = ("NOASSERTION", "NONE")

_SPDX_ID = re.compile(r"SPDXRef-[A-Za-z0-9.\-]+")
_ELEMENT_REF = re.compile(r"(DocumentRef-[A-Za-z0-9.\-]+:)?SPDXRef-[A-Za-z0-9.\-]+|NONE|NOASSERTION")
# The patterns spdx-tools' validator applies to the locators sbomgen writes again.
_CPE22 = re.compile(r"c[pP][eE]:/[AHOaho]?(:[A-Za-z0-9._\-~%]*){0,6}")
_CPE23 = re.compile(
    r'cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$$%&\'\(\)\+,\/:;<=>@\[\]\^'
    r"`\{\|}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*"
    r'|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$$%&\'\(\)\+,\/:;<=>@\[\]\^`\{\|}~]))+(\?*|\*?))|[\*\-])){4}'
)


def _spdx_id(value: str) -> str:
    if not _SPDX_ID.fullmatch(value):
        raise ValueError(f"not an SPDX ID (SPDXRef- and letters, digits, '.', '-'): {value[:80]!r}")
    return value


def _element_ref(value: str) -> str:
    if not _ELEMENT_REF.fullmatch(value):
        raise ValueError(f"not an SPDX element reference: {value[:80]!r}")
    return value


def actor_parts(value: str) -> tuple[str, str, str | None] | None:
    """(kind, name, email) of a package's supplier or originator; None for NOASSERTION.

    ``Organization: Name (email)`` or ``Person: Name (email)``, the email optional."""
    if value in NOASSERTION:
        return None
    kind, sep, rest = value.partition(":")
    if not sep or kind not in ("Organization", "Person"):
        raise ValueError(f"not 'Person: NAME', 'Organization: NAME' or NOASSERTION: {value[:80]!r}")
    rest, email = rest.strip(), None
    if rest.endswith(")") and "(" in rest:
        rest, _, mail = rest[:-1].rpartition("(")
        rest, email = rest.strip(), mail.strip() or None
    if not rest:
        raise ValueError(f"an actor without a name: {value[:80]!r}")
    if email is not None and not conforms(email, "idn-email"):
        raise ValueError(f"an actor whose email is not an address: {value[:80]!r}")
    return kind, rest, email


def _actor(value: str) -> str:
    actor_parts(value)
    return value


# What cyclonedx-python-lib refuses in a URI: '%' without two hex digits, a second '#'.
_BAD_URI = re.compile(r"%(?![0-9A-F]{2})|#.*#", re.IGNORECASE)


def _download_location(value: str) -> str:
    """NONE, NOASSERTION, or a location by SPDX's grammar that the CycloneDX writer takes too."""
    from spdx_tools.spdx.validation.uri_validators import validate_download_location

    if value not in NOASSERTION and (validate_download_location(value) or not cyclonedx_uri(value)):
        raise ValueError(f"not a download location (a URL or VCS location): {value[:80]!r}")
    return value


def cyclonedx_uri(value: str) -> bool:
    """Whether the CycloneDX writer takes ``value`` as a URL (its library and its schema)."""
    return not _BAD_URI.search(value) and conforms(value, "iri-reference")


def _namespace(value: str) -> str:
    from spdx_tools.spdx.validation.uri_validators import validate_uri

    if "#" in value or validate_uri(value):
        raise ValueError(f"not an absolute URI without '#': {value[:80]!r}")
    return value


SpdxId = Annotated[NonEmptyLine, AfterValidator(_spdx_id)]
ElementRef = Annotated[NonEmptyLine, AfterValidator(_element_ref)]
Actor = Annotated[NonEmptyLine, AfterValidator(_actor)]
DownloadLocation = Annotated[NonEmptyLine, AfterValidator(_download_location)]
# CycloneDX 1.6 bounds a component's version to 1,024 characters.
MAX_VERSION = 1024


def _version_info(value: str) -> str:
    if len(value) > MAX_VERSION:
        raise ValueError(f"a version of {len(value):,} characters (at most {MAX_VERSION:,})")
    return value


VersionInfo = Annotated[Line, AfterValidator(_version_info)]


class Checksum(Strict):
    algorithm: ChecksumAlgorithm
    checksumValue: NonEmptyLine

    @model_validator(mode="after")
    def _hex_of_its_length(self) -> Checksum:
        shortest, longest = CHECKSUM_LENGTHS[self.algorithm]
        value = self.checksumValue
        if not _HEX.fullmatch(value) or not shortest <= len(value) <= longest:
            wanted = f"{shortest}" if shortest == longest else f"{shortest} to {longest}"
            raise ValueError(
                f"checksumValue: {self.algorithm} expects {wanted} hexadecimal digits, not {value[:80]!r}"
            )
        return self

    @property
    def value(self) -> str:
        return self.checksumValue.lower()


class ExternalRef(Strict):
    referenceCategory: Literal[
        "SECURITY", "PACKAGE-MANAGER", "PACKAGE_MANAGER", "PERSISTENT-ID", "PERSISTENT_ID", "OTHER"
    ]
    referenceType: NonEmptyLine
    referenceLocator: NonEmptyLine
    comment: Text | None = None

    @model_validator(mode="after")
    def _locator_fits_its_type(self) -> ExternalRef:
        locator, kind = self.referenceLocator, self.referenceType
        if kind == "purl":
            check_purl(locator)
        elif kind == "cpe23Type" and not _CPE23.fullmatch(locator):
            raise ValueError(f"referenceLocator: not a CPE 2.3 name: {locator[:80]!r}")
        elif kind == "cpe22Type" and not _CPE22.fullmatch(locator):
            raise ValueError(f"referenceLocator: not a CPE 2.2 name: {locator[:80]!r}")
        return self


class Annotation(Strict):
    annotator: NonEmptyLine
    annotationDate: NonEmptyLine
    annotationType: Literal["REVIEW", "OTHER"]
    comment: Text


class VerificationCode(Strict):
    packageVerificationCodeValue: Annotated[NonEmptyLine, Field(pattern=r"^[0-9a-fA-F]{40}$")]


Purpose = Literal[
    "APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER", "OPERATING-SYSTEM", "DEVICE", "FIRMWARE",
    "SOURCE", "ARCHIVE", "FILE", "INSTALL", "OTHER",
]  # fmt: skip


class Package(Strict):
    SPDXID: SpdxId
    name: NonEmptyLine
    versionInfo: VersionInfo | None = None
    packageFileName: Line | None = None
    supplier: Actor | None = None
    originator: Actor | None = None
    downloadLocation: DownloadLocation | None = None
    filesAnalyzed: bool | None = None
    packageVerificationCode: VerificationCode | None = None
    checksums: list[Checksum] = []
    licenseConcluded: Line | None = None
    licenseDeclared: Line | None = None
    licenseComments: Text | None = None
    copyrightText: Text | None = None
    comment: Text | None = None
    externalRefs: list[ExternalRef] = []
    primaryPackagePurpose: Purpose | None = None
    annotations: list[Annotation] = []

    def reference(self, kind: str) -> str | None:
        """The first locator of this reference type (``purl``, ``cpe23Type``), or None."""
        return next((r.referenceLocator for r in self.externalRefs if r.referenceType == kind), None)


class File(Strict):
    SPDXID: SpdxId
    fileName: NonEmptyLine
    checksums: list[Checksum] = []
    licenseConcluded: Line | None = None
    copyrightText: Text | None = None
    comment: Text | None = None
    annotations: list[Annotation] = []

    @property
    def path(self) -> str:
        return self.fileName.removeprefix("./")


RelationshipType = Literal[
    "DESCRIBES", "DESCRIBED_BY", "CONTAINS", "CONTAINED_BY", "DEPENDS_ON", "DEPENDENCY_OF",
    "DEPENDENCY_MANIFEST_OF", "BUILD_DEPENDENCY_OF", "DEV_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF",
    "PROVIDED_DEPENDENCY_OF", "TEST_DEPENDENCY_OF", "RUNTIME_DEPENDENCY_OF", "EXAMPLE_OF", "GENERATES",
    "GENERATED_FROM", "ANCESTOR_OF", "DESCENDANT_OF", "VARIANT_OF", "DISTRIBUTION_ARTIFACT",
    "PATCH_FOR", "PATCH_APPLIED", "COPY_OF", "FILE_ADDED", "FILE_DELETED", "FILE_MODIFIED",
    "EXPANDED_FROM_ARCHIVE", "DYNAMIC_LINK", "STATIC_LINK", "DATA_FILE_OF", "TEST_CASE_OF",
    "BUILD_TOOL_OF", "DEV_TOOL_OF", "TEST_OF", "TEST_TOOL_OF", "DOCUMENTATION_OF",
    "OPTIONAL_COMPONENT_OF", "METAFILE_OF", "PACKAGE_OF", "AMENDS", "PREREQUISITE_FOR",
    "HAS_PREREQUISITE", "REQUIREMENT_DESCRIPTION_FOR", "SPECIFICATION_FOR", "OTHER",
]  # fmt: skip


class Relationship(Strict):
    spdxElementId: ElementRef
    relationshipType: RelationshipType
    relatedSpdxElement: ElementRef
    comment: Text | None = None


class CreationInfo(Strict):
    created: NonEmptyLine
    creators: list[NonEmptyLine]
    licenseListVersion: Line | None = None
    comment: Text | None = None


class Document(Strict):
    """An SPDX 2.x JSON document, or a fragment of one (CPython's ``Misc/*.spdx.json``)."""

    spdxVersion: Literal["SPDX-2.2", "SPDX-2.3"]
    SPDXID: Literal["SPDXRef-DOCUMENT"] = "SPDXRef-DOCUMENT"
    name: NonEmptyLine | None = None
    documentNamespace: NonEmptyLine | None = None
    dataLicense: Line | None = None
    creationInfo: CreationInfo | None = None
    documentDescribes: list[ElementRef] = []
    packages: list[Package] = []
    files: list[File] = []
    relationships: list[Relationship] = []
    annotations: list[Annotation] = []

    def described(self) -> list[str]:
        """The SPDX IDs the document DESCRIBES."""
        return list(self.documentDescribes) + [
            r.relatedSpdxElement
            for r in self.relationships
            if r.relationshipType == "DESCRIBES" and r.spdxElementId == self.SPDXID
        ]


class FullDocument(Document):
    """A whole SPDX document, as one another document can refer to (``regenerate``'s upstream)."""

    name: NonEmptyLine
    documentNamespace: Annotated[NonEmptyLine, AfterValidator(_namespace)]


Doc = TypeVar("Doc", bound=Document)


def unique_ids(document: Document, source: str, error: type[SbomgenError]) -> None:
    """Refuse an SPDX ID given to two elements: which one a relationship means is unknowable."""
    seen: set[str] = {document.SPDXID}
    for where, ids in (
        ("packages", [p.SPDXID for p in document.packages]),
        ("files", [f.SPDXID for f in document.files]),
    ):
        for index, spdx_id in enumerate(ids):
            if spdx_id in seen:
                raise error(f"{source}: {where}[{index}].SPDXID: {spdx_id[:200]} is used twice")
            seen.add(spdx_id)


def _load(model: type[Doc], data: bytes | str, source: str, error: type[SbomgenError]) -> Doc:
    value = parse_json(data, source, error)
    if not isinstance(value, dict) or "spdxVersion" not in value:
        raise error(f"{source}: not an SPDX JSON document")
    document = validate(model, value, source, error)
    unique_ids(document, source, error)
    return document


def load(data: bytes | str, source: str, error: type[SbomgenError]) -> Document:
    """An SPDX JSON document (or fragment) through the gate; ``error`` names ``source``."""
    return _load(Document, data, source, error)


def load_full(data: bytes | str, source: str, error: type[SbomgenError]) -> FullDocument:
    """A whole SPDX JSON document (name and namespace required) through the gate."""
    return _load(FullDocument, data, source, error)


class IndexFile(Strict):
    filename: NonEmptyLine
    sha256: Sha256


class IndexReleaseFiles(RootModel[list[IndexFile]]):
    """The release's files on the index, as sbomgen records them in an SPDX annotation's
    comment (``sbomgen:index-release-files [{"filename": ..., "sha256": ...}]``) or the value
    of a CycloneDX property of that name."""

    model_config = ConfigDict(strict=True, frozen=True)
