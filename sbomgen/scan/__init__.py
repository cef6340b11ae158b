"""One pass over an artifact, every scanner watching it, one Inventory out."""

from __future__ import annotations

import contextlib
import datetime
import gc
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import UsageError
from ..model import Artifact, Checksum, FileEntry, Inventory
from ..model.files import FileTable
from ..model.parts import EARLIEST, LATEST
from ..read import child
from ..read.archive import ArchiveReader, Kind, Limits
from .interface import ScanContext, Scanner

HARDLINK = Kind.HARDLINK.value

SUPPORTED_CHECKSUMS = ("SHA1", "SHA256", "SHA512")
DEFAULT_CHECKSUMS = ("SHA1", "SHA256")


def default_scanners(replaced: Collection[str] = (), cache_dir: Path | None = None) -> list[Scanner]:
    """``replaced``: bundled packages the system provides instead (see CPythonSbomScanner);
    ``cache_dir``: the folder of the license findings cache (--cache-dir), else the user's."""
    from .bundled import BundledWheelScanner
    from .cpython import CPythonScanner
    from .cpython_sbom import CPythonSbomScanner
    from .license_files import LicenseFileScanner
    from .version_headers import VersionHeaderScanner

    # CPythonScanner after the others: it owns whatever they left unowned; LicenseFileScanner
    # after it: it reads every component.
    return [
        CPythonSbomScanner(replaced),
        VersionHeaderScanner(),
        BundledWheelScanner(cache_dir),
        CPythonScanner(),
        LicenseFileScanner(cache_dir),
    ]


def scan(
    path: str | os.PathLike[str],
    *,
    checksums: Sequence[str] = DEFAULT_CHECKSUMS,
    allow_mismatch: bool = False,
    limits: Limits | None = None,
    scanners: list[Scanner] | None = None,
    progress: Callable[..., None] | None = None,
    top_folder: bool = True,
    yield_to_reading: bool = False,
) -> Inventory:
    """Read the artifact at ``path`` once and return its inventory.

    ``progress`` is called with how far the pass is: ``progress(done, total)`` in bytes of
    the artifact file where the system tells how much the reading process read, else
    ``progress(done)`` in unpacked bytes (of a total nobody knows before the end).
    Files keep the artifact's order. ``top_folder=False`` reads archives whose members
    sit at the root (wheels, embeddable zips) with paths relative to it.
    ``yield_to_reading=True`` lowers the calling process's scheduling priority (nice 10,
    for the rest of its life) while a forked child reads the artifact: for a command that
    ends after the scan, so that the reading wins contested cores.
    """
    requested = {a.upper() for a in checksums}
    unknown = requested - set(SUPPORTED_CHECKSUMS)
    if unknown:
        raise UsageError(f"unsupported checksum algorithm(s): {', '.join(sorted(unknown))}")
    algorithms = tuple(a for a in SUPPORTED_CHECKSUMS if a in requested)  # one order, whatever was asked
    source_date_epoch()  # a bad value is an error before the artifact is read, not after
    # The artifact's SHA-512 always (BSI TR-03183-2 asks it of the deployable component; the
    # CycloneDX writer gives it): the components carry only the algorithms asked for.
    artifact_algorithms = tuple(a for a in SUPPORTED_CHECKSUMS if a in requested | {"SHA512"} and a != "SHA1")
    reader = ArchiveReader(path, limits, artifact_algorithms, top_folder=top_folder)
    with collection_paused():
        return _scan(reader, path, algorithms, allow_mismatch, scanners, progress, yield_to_reading)


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a scan and the writing of its SBOM make tens of
    thousands of long-lived objects and no reference cycles, so collecting them generation
    by generation as they pile up is pure overhead."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _scan(
    reader: ArchiveReader,
    path: str | os.PathLike[str],
    algorithms: tuple[str, ...],
    allow_mismatch: bool,
    scanners: list[Scanner] | None,
    progress: Callable[..., None] | None,
    yield_to_reading: bool,
) -> Inventory:
    scanners = scanners if scanners is not None else default_scanners()
    files = FileTable()
    newest = 0
    done = 0
    summary = None

    # Asked of every member in the reading process: of the scanners with such a hook only.
    wanting = [s.wants for s in scanners if type(s).wants is not Scanner.wants]
    heading = [s for s in scanners if type(s).head is not Scanner.head]

    def wanted(member: str) -> bool:
        return any(wants(member) for wants in wanting)

    def head(member: str) -> int:
        return max([s.head(member) for s in heading], default=0)

    def keeps_head(member: str, content: bytes) -> bool:
        return any(s.keeps_head(content[:length]) for s in heading if (length := s.head(member)) > 0)

    file_size = Path(path).stat().st_size if progress is not None and Path(path).is_file() else 0
    of_file = []  # the system told how much of the file the reading process read

    def bytes_read(count: int) -> None:
        assert progress is not None
        of_file.append(True)
        progress(min(count, file_size), file_size)

    watch = bytes_read if file_size else None
    for item in child.read(reader, algorithms, wanted, yield_to_reading, watch, head, keeps_head):
        if isinstance(item, child.Summary):
            summary = item
            break
        name, kind, size, mtime, link, digests, content = item
        newest = max(newest, mtime)
        if kind == HARDLINK:
            assert link is not None
            target = files.get(link)
            if target is not None:
                entry = replace(target, path=name)
                files.add(entry)
            continue
        if digests is None:
            continue
        entry = FileEntry(name, size, tuple(map(Checksum, algorithms, digests)))
        files.add(entry)
        if content is not None:
            for scanner in scanners:
                if scanner.wants(name):
                    scanner.visit(name, content)
                elif (length := scanner.head(name)) > 0:
                    scanner.visit_head(name, content[:length])
        done += size
        if progress is not None and not of_file:
            progress(done)
    assert summary is not None
    for name, content in summary.through_links.items():
        for scanner in scanners:
            if scanner.wants(name):
                scanner.visit(name, content)

    is_directory = Path(path).is_dir()
    artifact = Artifact(
        name=reader.where,
        size=None if is_directory else Path(path).stat().st_size,
        checksums=tuple(Checksum(a, v) for a, v in summary.checksums.items()),
    )
    context = ScanContext(
        artifact_name=artifact.name,
        top=summary.top,
        files=files,
        checksum_algorithms=algorithms,
        allow_mismatch=allow_mismatch,
        artifact_checksums=tuple(c for c in artifact.checksums if c.algorithm in algorithms),
        is_directory=is_directory,
        limits=reader.limits,
    )
    clashes, first_clash = summary.case_clashes
    if first_clash is not None:
        one, other = first_clash
        context.notice(
            f"warning: {clashes} member name(s) differ only in case or Unicode "
            f"normalisation (NFC/NFD) from another (first: {one} and {other}); both are recorded, "
            "but a case-insensitive or normalising file system keeps one"
        )
    for scanner in scanners:
        scanner.finish(context)
    return Inventory(
        artifact=artifact,
        root=context.root_key,
        components=tuple(context.components),
        files=files,
        dependencies=tuple(context.dependencies),
        created=creation_time(newest),
        notices=tuple(context.notices),
        name=context.document_name,
    )


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH in seconds, None when unset; a UsageError when it is not a time."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return None
    try:
        seconds = int(epoch)
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH is not an integer: {epoch!r}") from None
    if not EARLIEST <= seconds <= LATEST:
        raise UsageError(f"SOURCE_DATE_EPOCH is not a time between the years 1 and 9999: {epoch!r}")
    return seconds


def creation_time(newest_member: int) -> datetime.datetime:
    """SOURCE_DATE_EPOCH when set, else the artifact's newest member: never the clock."""
    epoch = source_date_epoch()
    seconds = newest_member if epoch is None else epoch
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).replace(tzinfo=None)
