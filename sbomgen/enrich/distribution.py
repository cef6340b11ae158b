"""Licenses and copyrights from the license files of the distribution file whose download
location the SBOM records: for a package the artifact says nothing certain of, and as a
cross-check of what it says.

pip's wheel vendors some twenty packages without their license files; the wheel or sdist
the index publishes for each carries them. The file is streamed through the index client
into a private temporary file (at most ``MAX_DISTRIBUTION_BYTES``), its SHA256 checked
against the index's before a byte of it is read, then read by the artifact reader with its
limits, never unpacked to disk.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..documents.index import FileLicenses, ReleaseFile
from ..errors import SbomgenError

if TYPE_CHECKING:
    from ..model import Component
    from ..read.archive import Content
    from ..scan.license_text import Finding
    from .index import IndexClient

MAX_DISTRIBUTION_BYTES = 16 << 20
_WHEEL_METADATA = re.compile(r"[^/]+\.dist-info/METADATA")


@dataclass(frozen=True)
class Fetched:
    """What sbomgen takes from a distribution file it fetched and checked."""

    license_files: list[tuple[str, bytes]]  # (path inside, head) of each license or notice file
    metadata: bytes | None  # its core metadata (a wheel's METADATA, an sdist's PKG-INFO)
    sha512: str  # BSI TR-03183-2's hash of a deployable file, made here from the checked bytes


def fetch(file: ReleaseFile, client: IndexClient, most: int = MAX_DISTRIBUTION_BYTES) -> Fetched:
    """``file``, a wheel or ``.tar.gz`` sdist of at most ``most`` bytes, streamed to a
    private temporary file, its SHA256 checked, then read once; an EnrichmentError when it
    cannot be fetched or read. Nothing of it is held whole in memory, so every worker of the
    index's concurrent round may fetch at once."""
    from ..errors import EnrichmentError

    if not (file.filename.endswith(".whl") or file.filename.endswith(".tar.gz")):
        raise EnrichmentError(f"{file.filename}: neither a wheel nor a .tar.gz sdist")
    if file.size is not None and file.size > most:
        raise EnrichmentError(f"{file.filename}: larger than {most >> 20} MiB")
    # The index names the file: a name of its own ("/x.whl", "../x.whl", 300 characters)
    # would be a path out of the private folder, or one the file system refuses.
    own = "distribution.whl" if file.filename.endswith(".whl") else "distribution.tar.gz"
    try:
        with tempfile.TemporaryDirectory(prefix="sbomgen-") as folder:
            path = Path(folder) / own
            with open(path, "xb+") as handle:  # the folder is the caller's own (mode 0700)
                client.save(file.url, most, handle)
                handle.seek(0)
                sha256, sha512 = hashlib.sha256(), hashlib.sha512()
                while chunk := handle.read(1 << 20):
                    sha256.update(chunk)
                    sha512.update(chunk)
            if sha256.hexdigest() != file.sha256:
                raise EnrichmentError(f"{file.filename}: its SHA256 is not the one the index gives")
            try:
                found, metadata = _wanted_members(path, file.filename)
            except SbomgenError as exc:  # the reader's ArchiveError, ContentError
                raise EnrichmentError(f"{file.filename}: {str(exc).removeprefix(f'{own}: ')}") from None
    except OSError as exc:  # the temporary folder: no space left, a file size limit
        raise EnrichmentError(f"{file.filename}: not saved to a temporary file ({exc.strerror})") from None
    return Fetched(found, metadata, sha512.hexdigest())


def _wanted_members(path: Path, filename: str) -> tuple[list[tuple[str, bytes]], bytes | None]:
    """The license and notice files of a wheel or sdist (``scan.distribution.LicenseMembers``),
    and its core metadata where there is exactly one of at most its size limit."""
    from ..documents.metadata import MAX_METADATA_BYTES
    from ..read.archive import ArchiveReader, Limits
    from ..scan.distribution import LicenseMembers

    wheel = filename.endswith(".whl")
    limits = Limits(max_total_size=Limits.max_nested_size, max_member_size=Limits.max_nested_size)
    members = LicenseMembers(wheel)
    metadata: list[bytes] = []
    for member, data in ArchiveReader(path, limits, (), top_folder=not wheel).members():
        if data is None:
            continue
        if _WHEEL_METADATA.fullmatch(member.path) if wheel else member.path == "PKG-INFO":
            metadata.append(_head(data, MAX_METADATA_BYTES + 1))
            if not wheel:  # an sdist's PKG-INFO names its license files
                members.visit(member.path, metadata[-1])
        elif members.wants(member.path):
            members.visit(member.path, _head(data, members.most(member.path)))
    core = metadata[0] if len(metadata) == 1 and len(metadata[0]) <= MAX_METADATA_BYTES else None
    return members.kept(), core


def _head(data: Content, most: int) -> bytes:
    """At most ``most`` bytes of a member, however large it unpacks."""
    taken = bytearray()
    for chunk in data.chunks():
        taken += chunk[: most - len(taken)]
        if len(taken) >= most:
            break
    return bytes(taken)


def conclude(
    file: ReleaseFile,
    files: list[tuple[str, bytes]],
    detect: Callable[[bytes], Finding],
    notice: Callable[[str], None],
) -> FileLicenses:
    """What the license files ``files`` of ``file`` say (``scan.distribution.file_licenses``)."""
    from ..scan.distribution import file_licenses

    where = f" in {file.filename} (sha256 {file.sha256}), the recorded distribution file"
    return file_licenses(files, where, detect, notice)


def unread(problem: Exception) -> FileLicenses:
    return FileLicenses(
        comment=f"Concluded license: the recorded distribution file was not read ({problem})."
    )


def applied(component: Component, found: FileLicenses | None) -> tuple[Component, str | None]:
    """``component`` with what its distribution file's license files say where the artifact
    concluded no license: a certain license replaces the artifact's finding (the artifact's
    copyrights kept after the file's), else what they say stands in only where the artifact
    said nothing at all, and its copyrights where the artifact found none; and a warning when
    both are certain and differ."""
    from dataclasses import replace

    from ..scan.license_text import MAX_COPYRIGHTS, METHOD

    if found is None:
        return component, None
    if component.license_concluded is not None:
        if found.license is not None and found.license != component.license_concluded:
            return component, (
                f"warning: {component.name} {component.version}: the artifact's license files say "
                f"{component.license_concluded}, those of its recorded distribution file say {found.license} "
                f"({found.comment}); keeping {component.license_concluded}"
            )
        return component, None
    own = component.copyright_text.split("\n") if component.copyright_text else []
    if found.license is None and (own or component.license_comment):
        if own or not found.copyrights:
            return component, None
        # The artifact's uncertain finding stands; the notices it lacks are the file's.
        files = found.comment.removeprefix(f"Concluded license: {METHOD}. ")
        comment = f"{component.license_comment} Copyright text from the recorded distribution file: {files}"
        return replace(component, copyright_text="\n".join(found.copyrights), license_comment=comment), None
    added = [s for s in own if s not in found.copyrights]
    statements = (found.copyrights + added)[:MAX_COPYRIGHTS]
    kept_own = statements[len(found.copyrights) :]
    also = " Copyright text also from the artifact's own files." if kept_own else ""
    return replace(
        component,
        license_concluded=found.license,
        copyright_text="\n".join(statements) or None,
        license_comment=found.comment + also,
    ), None
