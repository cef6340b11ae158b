"""One pass over an artifact, every scanner watching it, one Inventory out."""

from __future__ import annotations

import contextlib
import datetime
import gc
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from ..archive import ArchiveReader, Kind, Limits
from ..errors import ArchiveError, UsageError
from ..model import EARLIEST, LATEST, Artifact, Checksum, FileEntry, Inventory
from .interface import ScanContext, Scanner

SUPPORTED_CHECKSUMS = ("SHA1", "SHA256", "SHA512")
DEFAULT_CHECKSUMS = ("SHA1", "SHA256")


def default_scanners() -> list[Scanner]:
    from .cpython import CPythonScanner
    from .cpython_sbom import CPythonSbomScanner
    from .version_headers import VersionHeaderScanner
    from .wheels import BundledWheelScanner

    # CPythonScanner last: it owns whatever the others left unowned.
    return [CPythonSbomScanner(), VersionHeaderScanner(), BundledWheelScanner(), CPythonScanner()]


def scan(
    path: str | os.PathLike[str],
    *,
    checksums: Sequence[str] = DEFAULT_CHECKSUMS,
    allow_mismatch: bool = False,
    limits: Limits | None = None,
    scanners: list[Scanner] | None = None,
    progress: Callable[[int], None] | None = None,
    on_file: Callable[[FileEntry], None] | None = None,
    top_folder: bool = True,
) -> Inventory:
    """Read the artifact at ``path`` once and return its inventory.

    ``progress`` is called with the number of unpacked bytes read so far; ``on_file``
    with each file entry as soon as it is hashed (a writer can prepare it meanwhile).
    Files keep the artifact's order. ``top_folder=False`` reads archives whose members
    sit at the root (wheels, embeddable zips) with paths relative to it.
    """
    algorithms = tuple(a.upper() for a in checksums)
    unknown = set(algorithms) - set(SUPPORTED_CHECKSUMS)
    if unknown:
        raise UsageError(f"unsupported checksum algorithm(s): {', '.join(sorted(unknown))}")
    source_date_epoch()  # a bad value is an error before the artifact is read, not after
    artifact_algorithms = tuple(a for a in algorithms if a != "SHA1")
    reader = ArchiveReader(path, limits, artifact_algorithms, top_folder=top_folder)
    with collection_paused():
        return _scan(reader, path, algorithms, allow_mismatch, scanners, progress, on_file)


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
    progress: Callable[[int], None] | None,
    on_file: Callable[[FileEntry], None] | None,
) -> Inventory:
    members = reader.members()
    first = next(members, None)  # starts decompression before the scanners load
    scanners = scanners if scanners is not None else default_scanners()
    files: dict[str, FileEntry] = {}
    newest = 0
    done = 0
    for member, content in itertools.chain([first] if first else [], members):
        newest = max(newest, member.mtime)
        if member.kind is Kind.HARDLINK:
            assert member.link is not None
            if member.link in files:
                files[member.path] = replace(files[member.link], path=member.path)
                if on_file is not None:
                    on_file(files[member.path])
            continue
        if content is None:
            continue
        watchers = [s for s in scanners if s.wants(member.path)]
        if watchers and member.size > reader.limits.max_nested_size:
            raise ArchiveError(
                f"{reader.where}: {member.path} is {member.size} bytes, over the limit of "
                f"{reader.limits.max_nested_size} for a member opened whole (--max-nested-size)"
            )
        hashers = [hashlib.new(a.lower()) for a in algorithms]
        kept: list[bytes] = []
        size = 0
        for chunk in content.chunks():
            size += len(chunk)
            for hasher in hashers:
                hasher.update(chunk)
            if watchers:
                kept.append(bytes(chunk))
        files[member.path] = FileEntry(
            member.path,
            size,
            tuple(Checksum(a, h.hexdigest()) for a, h in zip(algorithms, hashers, strict=True)),
        )
        if on_file is not None:
            on_file(files[member.path])
        if watchers:
            whole = b"".join(kept)
            for scanner in watchers:
                scanner.visit(member.path, whole)
        done += size
        if progress is not None:
            progress(done)

    is_directory = Path(path).is_dir()
    artifact = Artifact(
        name=reader.where,
        size=None if is_directory else Path(path).stat().st_size,
        checksums=tuple(Checksum(a, v) for a, v in reader.checksums.items()),
    )
    context = ScanContext(
        artifact_name=artifact.name,
        top=reader.top,
        files=files,
        checksum_algorithms=algorithms,
        allow_mismatch=allow_mismatch,
        artifact_checksums=artifact.checksums,
        is_directory=is_directory,
    )
    if reader.case_clashes:
        one, other = reader.case_clashes[0]
        context.notice(
            f"warning: {len(reader.case_clashes)} member name(s) differ only in case from another "
            f"(first: {one} and {other}); both are recorded, but a case-insensitive file system keeps one"
        )
    for scanner in scanners:
        scanner.finish(context)
    return Inventory(
        artifact=artifact,
        root=context.root_key,
        components=tuple(context.components),
        files=tuple(files.values()),
        dependencies=tuple(context.dependencies),
        created=creation_time(newest),
        notices=tuple(context.notices),
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
