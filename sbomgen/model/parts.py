"""The parts of an inventory: components, files, checksums, parties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class Purpose(str, Enum):
    SOURCE = "source"
    LIBRARY = "library"
    APPLICATION = "application"


# The times a datetime can hold: 0001-01-01 to 9999-12-31, in seconds since the epoch.
EARLIEST, LATEST = -62135596800, 253402300799


@dataclass(frozen=True, slots=True)
class Checksum:
    algorithm: str  # "SHA1", "SHA256", "SHA512"
    value: str  # lowercase hex


@dataclass(frozen=True)
class Party:
    """A supplier or originator: an organization or a person."""

    kind: str  # "Organization" or "Person"
    name: str
    email: str | None = None
    url: str | None = None  # an http(s) URL where it can be reached


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative to the artifact's top folder, "/"-separated
    size: int
    checksums: tuple[Checksum, ...]

    def digest(self, algorithm: str) -> str | None:
        for checksum in self.checksums:
            if checksum.algorithm == algorithm:
                return checksum.value
        return None


@dataclass(frozen=True)
class Component:
    """A package: the artifact's own project or something bundled in it."""

    key: str  # unique within an Inventory
    name: str
    version: str | None
    purpose: Purpose = Purpose.SOURCE
    supplier: Party | None = None
    originator: Party | None = None
    download_location: str | None = None  # None: unknown
    checksums: tuple[Checksum, ...] = ()
    purl: str | None = None
    cpe: str | None = None
    license_concluded: str | None = None  # SPDX expression; None: unknown
    license_declared: str | None = None
    copyright_text: str | None = None  # one statement a line; None: unknown
    license_comment: str | None = None  # how license_concluded and copyright_text were found
    file_name: str | None = None
    files: Sequence[str] = ()  # sorted paths of the files this component contains
    vendored_in: str | None = None  # key of the component whose files carry this one's code
    comment: str | None = None
    # The files the package index listed for this release when the SBOM was made:
    # (file name, SHA256). A release stays open; ``sbomgen check`` compares against this.
    index_files: tuple[tuple[str, str], ...] = ()
    # The SHA256 of the unsigned cache export (imported with --allow-unsigned) that the
    # index metadata came from; None: from the index, or a signed export.
    index_unsigned_export: str | None = None
    versioned_id: bool = False  # identify by name and version (where one name occurs in several versions)
    # The SHA-512 of the file ``file_name`` names (else the download), where sbomgen read its
    # bytes: the artifact, a bundled wheel, an index file read whole. None: never seen.
    distribution_sha512: str | None = None
    index_url: str | None = None  # the package index that answered for this component
    source_url: str | None = None  # where its source code is: an sdist or a repository


@dataclass(frozen=True)
class Dependency:
    source: str  # Component.key
    target: str  # Component.key


@dataclass(frozen=True)
class Artifact:
    name: str  # file or directory name as given
    size: int | None
    checksums: tuple[Checksum, ...]  # empty for a directory


@dataclass(frozen=True)
class UpstreamDocument:
    """An SBOM this one was derived from."""

    name: str
    namespace: str
    sha1: str
