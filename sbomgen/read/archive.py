"""Read an artifact (tar, zip or directory) as one stream of checked members.

Nothing is extracted to disk and each member's bytes are read once. Every path is
normalised and checked before anyone sees it: absolute paths, ``..``, control characters,
links that leave the archive, device files and duplicates are errors, never followed;
zip members unzip would read otherwise are refused. Limits on member count, member size,
total size and expansion ratio stop decompression bombs. Once the pass is over,
``file_behind`` tells which file a link leads to, and ``read_again`` reads a file the
pass did not keep (for a member a scanner needs that turned out to be a link).
"""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import os
import stat
import struct
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, BinaryIO

from ..documents.text import tag_value_marker, unsafe_character
from ..errors import ArchiveError, UsageError
from ..model.parts import EARLIEST, LATEST
from . import names
from .decompress import CHUNK, DecompressionError, is_compressed, open_decompressed
from .tar import DIRECTORY, HARDLINK, REGULAR, SPARSE, SYMLINK, ChunkStream, Header, TarReader

if TYPE_CHECKING:
    import zipfile


class Kind(Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"


_MAX_LINK = 4096  # PATH_MAX: a longer symlink target cannot be followed anyway
_ZIP_METHODS = {0: "stored", 8: "deflate", 12: "bzip2", 14: "lzma"}
_ZIP_ENCRYPTED, _ZIP_PATCHED, _ZIP_UTF8 = 0x1, 0x20, 0x800
_ZIP_DECISIVE = _ZIP_ENCRYPTED | _ZIP_PATCHED | 0x40 | _ZIP_UTF8  # 0x40: strong encryption
_UNICODE_PATH = 0x7075  # Info-ZIP: a UTF-8 name that unzip uses instead of the header's
_END, _END64, _END64_LOCATOR, _CENTRAL = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x01\x02"
_CENTRAL_SIZE = 46  # a central directory entry without name, extra field or comment
_TAR_KINDS = {REGULAR: Kind.FILE, DIRECTORY: Kind.DIR, SYMLINK: Kind.SYMLINK, HARDLINK: Kind.HARDLINK}
_NODES = {
    Kind.FILE: names.FILE,
    Kind.DIR: names.DIR,
    Kind.SYMLINK: names.SYMLINK,
    Kind.HARDLINK: names.HARDLINK,
}


@dataclass(frozen=True)
class Limits:
    max_members: int = 1_000_000
    max_member_size: int = 2 << 30
    max_total_size: int = 16 << 30
    # Checked only once the unpacked total passes ``ratio_floor``: small archives
    # cannot do harm whatever their ratio.
    max_ratio: float = 250.0
    ratio_floor: int = 128 << 20
    max_nested_size: int = 256 << 20  # a member read whole: a bundled wheel, a metadata file


@dataclass(frozen=True)
class Member:
    path: str  # relative to the top folder, "/"-separated
    kind: Kind
    size: int
    mtime: int
    link: str | None = None  # hard link: the member it repeats; symlink: its resolved target


def split_path(name: str, where: str, what: str = "member name") -> list[str]:
    """Normalise an archive member name into its parts, rejecting anything unsafe.

    The policy: absolute names, ``..``, NUL and other control characters, backslashes (a
    separator on Windows, a name character elsewhere: ambiguous either way) and names that
    are not valid UTF-8 are rejected; ``.`` parts and repeated slashes are dropped.
    """
    if "\x00" in name:
        raise ArchiveError(f"{where}: {what} contains a NUL byte: {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes are kept as surrogates
        raise ArchiveError(f"{where}: {what} is not valid UTF-8: {name!r}") from None
    unsafe = unsafe_character(name)
    if unsafe:
        raise ArchiveError(f"{where}: {what} contains {unsafe}: {name!r}")
    marker = tag_value_marker(name)
    if marker:
        raise ArchiveError(f"{where}: {what} contains {marker!r}, which SPDX tag-value cannot hold: {name!r}")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"{where}: member has an absolute path: {name!r}")
    if ".." in name.replace("\\", "/").split("/"):
        raise ArchiveError(f"{where}: member path contains '..': {name!r}")
    if "\\" in name:
        raise ArchiveError(f"{where}: {what} contains a backslash: {name!r}")
    return [part for part in name.split("/") if part not in ("", ".")]


def resolve_link(member_parts: list[str], target: str, where: str, member_name: str) -> str:
    """Resolve a symlink target relative to its member; it must stay inside the top folder.

    Targets follow the names' policy (no NUL, backslash, drive letter or non-UTF-8 bytes).
    Links through other links are followed once the whole archive is known
    (``names.Names.check_links``).
    """
    outside = ArchiveError(f"{where}: link {member_name!r} points outside the archive: {target!r}")
    if target.startswith("/") or (len(target) > 1 and target[1] == ":"):
        raise outside
    if "\x00" in target or "\\" in target:
        raise ArchiveError(
            f"{where}: link {member_name!r} has a NUL or a backslash in its target: {target!r}"
        )
    unsafe = unsafe_character(target)
    if unsafe:
        raise ArchiveError(f"{where}: link {member_name!r} has {unsafe} in its target: {target!r}")
    try:
        target.encode("utf-8")
    except UnicodeEncodeError:
        raise ArchiveError(
            f"{where}: link {member_name!r} has a target that is not UTF-8: {target!r}"
        ) from None
    resolved: list[str] = list(member_parts[:-1])
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if len(resolved) <= 1:  # would leave the top folder
                raise outside
            resolved.pop()
        else:
            resolved.append(part)
    return "/".join(resolved[1:])


class _Budget:
    """Counts members and bytes against the limits."""

    def __init__(self, limits: Limits, where: str, packed_size: int) -> None:
        self.limits = limits
        self.where = where
        self.packed_size = max(packed_size, 1)
        self.members = 0
        self.total = 0

    def member(self, size: int, name: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveError(f"{self.where}: more than {self.limits.max_members} members (--max-members)")
        if size > self.limits.max_member_size:
            raise ArchiveError(
                f"{self.where}: member {name!r} is {size} bytes, over the limit of "
                f"{self.limits.max_member_size} (--max-member-size)"
            )

    def bytes_read(self, count: int) -> None:
        self.total += count
        limits = self.limits
        if self.total > limits.max_total_size:
            raise ArchiveError(
                f"{self.where}: unpacks to more than {limits.max_total_size} bytes (--max-total-size)"
            )
        if self.total > limits.ratio_floor and self.total / self.packed_size > limits.max_ratio:
            raise ArchiveError(
                f"{self.where}: expands more than {limits.max_ratio:g} times its size "
                "(a decompression bomb? --max-ratio)"
            )


class _LimitedReader:
    """A zip member's or a file's content, counted against the budget as it is read."""

    def __init__(self, raw: IO[bytes], budget: _Budget) -> None:
        self.raw = raw
        self.budget = budget

    def chunks(self) -> Iterator[bytes]:
        while True:
            with _reading(self.budget.where):
                data = self.raw.read(CHUNK)
            if not data:
                return
            self.budget.bytes_read(len(data))
            yield data

    def read(self) -> bytes:
        return b"".join(self.chunks())


class _TarContent:
    """A tar member's content as views of the stream; counted from its header."""

    def __init__(self, archive: TarReader, header: Header) -> None:
        self.archive = archive
        self.header = header

    def chunks(self) -> Iterator[memoryview]:
        with _reading(self.archive.where):
            yield from self.archive.content(self.header)

    def read(self) -> bytes:
        return b"".join(self.chunks())


Content = _LimitedReader | _TarContent


@contextlib.contextmanager
def _reading(where: str) -> Iterator[None]:
    """Turn whatever a damaged archive makes the readers raise into one ArchiveError."""
    try:
        yield
    except ArchiveError:
        raise
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise ArchiveError(f"{where}: {exc.strerror}") from None
    except (lzma.LZMAError, zlib.error, EOFError, OSError, DecompressionError) as exc:
        raise ArchiveError(f"{where}: not a readable archive ({_describe(exc)})") from None
    except Exception as exc:
        zipfile = sys.modules.get("zipfile")  # imported when a zip is read, not before
        if zipfile is not None and isinstance(exc, zipfile.BadZipFile):
            raise ArchiveError(f"{where}: not a readable archive ({_describe(exc)})") from None
        raise


class _DigestingFile:
    def __init__(self, raw: BinaryIO, algorithms: tuple[str, ...]) -> None:
        self.raw = raw
        self.hashers = {a: hashlib.new(a.lower()) for a in algorithms}

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        for hasher in self.hashers.values():
            hasher.update(data)
        return data

    def checksums(self) -> dict[str, str]:
        return {a: h.hexdigest() for a, h in self.hashers.items()}


class ArchiveReader:
    """Iterate over an artifact's members; ``top`` names its top folder.

    After iteration ``checksums`` holds the digests of the artifact file itself
    (empty for a directory), taken from the same read of its bytes.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        limits: Limits | None = None,
        algorithms: tuple[str, ...] = ("SHA256",),
        top_folder: bool = True,
    ) -> None:
        self.path = Path(path)
        self.top_folder = top_folder
        self.limits = limits or Limits()
        self.algorithms = algorithms
        self.where = self.path.name
        self.top: str | None = None
        self.checksums: dict[str, str] = {}
        self._tracker: names.Names | None = None
        if not self.path.exists():
            raise ArchiveError(f"{self.path}: no such file or directory")
        if not (self.path.is_file() or self.path.is_dir()):  # a FIFO or device would never end
            raise ArchiveError(f"{self.path}: not a regular file or a directory")
        unsafe = unsafe_character(self.path.name)
        if unsafe:
            raise UsageError(f"the artifact's name contains {unsafe}: {self.path.name!r}")

    def members(self) -> Iterator[tuple[Member, Content | None]]:
        """Yield each member with its content for regular files (valid until the next member)."""
        try:
            with _reading(self.where):
                if self.path.is_dir():
                    yield from self._directory()
                    return
                with self.path.open("rb") as handle:
                    magic = handle.read(4)
                if magic[:2] == b"PK":
                    yield from self._zip()
                else:
                    yield from self._tar()
        except ArchiveError:
            self.check_names()
            raise

    def check_names(self) -> None:
        """Check the names the checker has not written yet: an earlier member's conflict
        (a duplicate, say), found only now, is the error to report before a later one."""
        if self._tracker is not None:
            self._tracker.flush()

    def case_clashes(self) -> tuple[int, tuple[str, str] | None]:
        """Once the members are read: how many member paths differ only in case or Unicode
        normalisation (NFC and NFD) from an earlier one's, and the first such pair (earlier,
        later): recorded, but worth a warning."""
        return self._tracker.case_clashes() if self._tracker else (0, None)

    def note_digest(self, digest: str) -> None:
        """The first digest of the file member just read, for ``digest_of``."""
        assert self._tracker is not None
        self._tracker.note_digest(digest)

    def digest_of(self, path: str) -> str | None:
        """Once the members are read: the digest noted for the file member at ``path``."""
        assert self._tracker is not None
        return self._tracker.digest_of(path)

    def paths_through_linked_folders(self) -> Iterator[str]:
        """Once the members are read: the paths below symlinks to folders that an
        extracted tree has and no member names (``Lib/ensurepip/_bundled/pip.whl`` when
        ``_bundled`` links to a folder holding ``pip.whl``)."""
        assert self._tracker is not None
        return self._tracker.paths_through_linked_folders(self.limits.max_members)

    def file_behind(self, path: str) -> str | None:
        """Once the members are read: the regular file that ``path`` leads to through
        symlinks and hard links, None when it leads to none (a folder, nothing)."""
        assert self._tracker is not None
        return self._tracker.file_behind(path)

    def read_again(self, paths: set[str]) -> dict[str, bytes]:
        """The contents of regular files the pass has seen but not kept, read by a second
        pass that stops at the last of them (an artifact file can be read twice, a pipe not)."""
        if not (self.path.is_dir() or stat.S_ISREG(self.path.stat().st_mode)):
            raise ArchiveError(
                f"{self.where}: {', '.join(sorted(paths))} must be read again through a link, "
                "but the artifact is not a file that can be read twice"
            )
        found: dict[str, bytes] = {}
        again = ArchiveReader(self.path, self.limits, (), self.top_folder)
        for member, content in again.members():
            if content is not None and member.path in paths:
                if member.size > self.limits.max_nested_size:
                    raise ArchiveError(
                        f"{self.where}: {member.path} is {member.size} bytes, over the limit of "
                        f"{self.limits.max_nested_size} for a member opened whole (--max-nested-size)"
                    )
                found[member.path] = content.read()
                if len(found) == len(paths):
                    break
        return found

    def _rooted(self, parts: list[str]) -> list[str]:
        """Member parts under a top folder, a nameless one where the archive has none."""
        return parts if self.top_folder else ["", *parts]

    def _tar(self) -> Iterator[tuple[Member, Content | None]]:
        budget = _Budget(self.limits, self.where, self.path.stat().st_size)
        tracker = self._tracker = names.Names(self.where, self.top_folder)
        with self.path.open("rb") as handle:
            head = handle.read(6)
            compressed = is_compressed(head)
            handle.seek(0)
            if not compressed:
                plain = _DigestingFile(handle, self.algorithms)
                yield from self._tar_members(ChunkStream(lambda: plain.read(CHUNK)), budget, tracker)
                while plain.read(CHUNK):  # to the end, so the digest covers every byte
                    pass
                self.checksums = plain.checksums()
                return
            unpacked = open_decompressed(self.path, head, self.algorithms)
            try:
                yield from self._tar_members(ChunkStream(unpacked.next_chunk), budget, tracker)
                while unpacked.next_chunk():
                    pass
                self.checksums = unpacked.checksums
            finally:
                unpacked.close()

    def _tar_members(
        self, stream: ChunkStream, budget: _Budget, tracker: names.Names
    ) -> Iterator[tuple[Member, Content | None]]:
        archive = TarReader(stream, self.where, budget.bytes_read)
        for header in archive.headers():
            parts = split_path(header.name, self.where)
            budget.member(header.size, header.name)
            budget.bytes_read(header.stored)  # decompressed whether read or skipped
            if not EARLIEST <= header.mtime <= LATEST:
                raise ArchiveError(
                    f"{self.where}: member {header.name!r} has an impossible modification time "
                    f"({header.mtime})"
                )
            if header.kind == SPARSE:
                raise ArchiveError(f"{self.where}: member {header.name!r} is a sparse file: not supported")
            kind = _TAR_KINDS.get(header.kind)
            if kind is None:
                raise ArchiveError(f"{self.where}: member {header.name!r} is a device or special file")
            behind = None
            if kind is Kind.HARDLINK:  # its target is checked before the link itself is placed
                target_parts = split_path(header.linkname, self.where, f"target of hard link {header.name!r}")
                if target_parts == parts:
                    raise ArchiveError(f"{self.where}: hard link {header.name!r} points to itself")
                inside = target_parts[1:] if self.top_folder else target_parts
                target = "/".join(inside)
                if not (self.top_folder and (not target_parts or target_parts[0] != tracker.top)):
                    behind = tracker.earlier_file(inside)
                if behind is None:
                    raise ArchiveError(
                        f"{self.where}: hard link {header.name!r} points to "
                        f"{header.linkname!r}, which is not an earlier file"
                    )
            link = header.linkname if kind is Kind.SYMLINK else None
            if link is not None:  # checked before the name checker keeps it: it keeps only what passed
                target = resolve_link(self._rooted(parts), link, self.where, header.name)
            rel = tracker.place(parts, header.name, _NODES[kind], link, behind)
            self.top = tracker.top
            if rel is None:
                continue
            if kind is Kind.FILE:
                yield Member(rel, kind, header.size, header.mtime), _TarContent(archive, header)
            elif kind is Kind.DIR:
                yield Member(rel, kind, 0, header.mtime), None
            else:
                yield Member(rel, kind, 0, header.mtime, target), None
        tracker.check_links()

    def _zip(self) -> Iterator[tuple[Member, Content | None]]:
        import zipfile

        budget = _Budget(self.limits, self.where, self.path.stat().st_size)
        tracker = self._tracker = names.Names(self.where, self.top_folder)
        with self.path.open("rb") as handle:
            digesting = _DigestingFile(handle, self.algorithms)
            while digesting.read(CHUNK):  # a zip is read by seeking: its digest takes a read of its own
                pass
            self.checksums = digesting.checksums()
            check_zip_entries(handle, self.limits.max_members, self.where)
        with _zip_errors(self.where):
            archive = zipfile.ZipFile(self.path)
        with archive, self.path.open("rb") as raw_file:
            for info in archive.infolist():
                name = info.orig_filename  # zipfile cuts its filename at a NUL
                parts = split_path(name, self.where)
                check_zip_member(info, self.where, _local_extra(raw_file, info, self.where))
                budget.member(info.file_size, name)
                # Unix file type bits, when the zip was made on Unix; 0 when not recorded.
                mode = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
                if mode not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
                    raise ArchiveError(f"{self.where}: member {name!r} is a device or special file")
                is_dir = name.endswith("/")
                if (mode == stat.S_IFDIR and not is_dir) or (mode == stat.S_IFLNK and is_dir):
                    raise ArchiveError(
                        f"{self.where}: member {name!r} is marked as a "
                        f"{'directory' if mode == stat.S_IFDIR else 'link'}, which its name contradicts"
                    )
                if is_dir and info.file_size:
                    raise ArchiveError(
                        f"{self.where}: not a readable archive (a directory with {info.file_size} "
                        f"bytes of content: {name!r})"
                    )
                kind = Kind.DIR if is_dir else Kind.SYMLINK if mode == stat.S_IFLNK else Kind.FILE
                target = None
                if kind is Kind.SYMLINK:
                    with _zip_errors(self.where), archive.open(info) as raw:
                        target = raw.read(_MAX_LINK + 1).decode("utf-8", "surrogateescape")
                    if len(target) > _MAX_LINK:
                        raise ArchiveError(f"{self.where}: link {name!r} has an implausibly long target")
                    resolved = resolve_link(self._rooted(parts), target, self.where, name)
                rel = tracker.place(parts, name, _NODES[kind], target)
                self.top = tracker.top
                if rel is None:
                    continue
                mtime = _zip_mtime(info)
                if kind is Kind.DIR:
                    yield Member(rel, kind, 0, mtime), None
                elif target is not None:
                    yield Member(rel, kind, 0, mtime, resolved), None
                else:
                    with _zip_errors(self.where):
                        raw = archive.open(info)
                    with raw:
                        yield Member(rel, kind, info.file_size, mtime), _LimitedReader(raw, budget)
            tracker.check_links()

    def _directory(self) -> Iterator[tuple[Member, Content | None]]:
        """An unpacked tree, under the archives' rules (its links included)."""
        budget = _Budget(self.limits, self.where, 0)
        budget.packed_size = 1 << 62  # nothing is decompressed: no ratio to check
        root = self.path.resolve()
        self.top = root.name
        tracker = self._tracker = names.Names(self.where, top_folder=False)

        def unreadable(error: OSError) -> None:
            raise error  # a folder it cannot list is not skipped

        for current, dirnames, filenames in os.walk(root, onerror=unreadable):
            dirnames.sort()
            base = PurePosixPath(Path(current).relative_to(root).as_posix())
            for name in sorted(dirnames + filenames):
                full = os.path.join(current, name)
                rel = (base / name).as_posix().removeprefix("./")
                parts = split_path(rel, self.where)  # the names' policy, as for an archive's members
                info = os.lstat(full)
                budget.member(info.st_size, rel)
                mtime = int(info.st_mtime)
                if stat.S_ISLNK(info.st_mode):
                    written = os.readlink(full)
                    target = resolve_link([root.name, *parts], written, self.where, rel)
                    tracker.place(parts, rel, names.SYMLINK, written)
                    yield Member(rel, Kind.SYMLINK, 0, mtime, target), None
                elif stat.S_ISDIR(info.st_mode):
                    tracker.place(parts, rel, names.DIR)
                    yield Member(rel, Kind.DIR, 0, mtime), None
                elif stat.S_ISREG(info.st_mode):
                    tracker.place(parts, rel, names.FILE)
                    with open(full, "rb") as raw:
                        yield Member(rel, Kind.FILE, info.st_size, mtime), _LimitedReader(raw, budget)
                else:
                    raise ArchiveError(f"{self.where}: {rel!r} is a device or special file")
        tracker.check_links()


def check_zip_entries(handle: BinaryIO, most: int, where: str) -> None:
    """Refuse a zip whose central directory holds more than ``most`` entries, before zipfile
    reads it: zipfile makes an object of ~500 bytes of every entry, however small the entry
    (46 bytes of directory), and only then could the members be counted. The directory is
    found as zipfile finds it; where it finds none, zipfile says so itself. ``handle``: a
    buffered binary file."""
    size = handle.seek(0, os.SEEK_END)
    if size // _CENTRAL_SIZE <= most:  # too small to hold that many
        return
    handle.seek(size - 22)
    tail = handle.read()
    end = size - 22
    if not (tail[:4] == _END and tail[-2:] == b"\0\0"):  # a comment follows: search for the record
        start = max(size - (1 << 16) - 22, 0)  # as far back as zipfile looks
        handle.seek(start)
        tail = handle.read()
        found = tail.rfind(_END)
        if found < 0 or len(tail) - found < 22:
            return
        end = start + found
        tail = tail[found : found + 22]
    directory_size, directory_offset = struct.unpack_from("<II", tail, 12)
    concat = end - directory_size - directory_offset
    if end >= 76:
        handle.seek(end - 76)
        record, locator = handle.read(56), handle.read(20)
        if locator[:4] == _END64_LOCATOR and record[:4] == _END64:
            directory_size, directory_offset = struct.unpack_from("<QQ", record, 40)
            concat = end - directory_size - directory_offset - 76
    position, count = directory_offset + concat, 0
    if position < 0 or min(directory_size, size - position) // _CENTRAL_SIZE <= most:
        return
    handle.seek(position)
    total = 0
    while total < directory_size:
        entry = handle.read(_CENTRAL_SIZE)
        if len(entry) < _CENTRAL_SIZE or entry[:4] != _CENTRAL:
            return  # zipfile refuses it
        count += 1
        if count > most:
            raise ArchiveError(f"{where}: more than {most} members (--max-members)")
        skip = sum(struct.unpack_from("<HHH", entry, 28))
        handle.seek(skip, os.SEEK_CUR)
        total += _CENTRAL_SIZE + skip


def check_zip_member(info: zipfile.ZipInfo, where: str, local_extra: bytes = b"") -> None:
    """Refuse a zip member that unzip would read otherwise than zipfile, or not at all:
    encrypted, compressed by a method other than stored, deflate, bzip2 or lzma, a name
    that is not ASCII without the UTF-8 flag (its encoding is anyone's guess: CP437 by the
    standard, the local code page in practice) or an Info-ZIP Unicode Path extra field (in
    the central directory or the local header) naming it otherwise."""
    name = info.orig_filename
    if info.flag_bits & _ZIP_ENCRYPTED:
        raise ArchiveError(f"{where}: member {name!r} is encrypted: not supported")
    if info.compress_type not in _ZIP_METHODS or info.flag_bits & _ZIP_PATCHED:
        raise ArchiveError(
            f"{where}: member {name!r} uses compression method {info.compress_type}: "
            f"only {', '.join(_ZIP_METHODS.values())} are supported"
        )
    if not info.flag_bits & _ZIP_UTF8 and not name.isascii():
        raise ArchiveError(
            f"{where}: member name {name!r} is not ASCII and not marked as UTF-8 (a CP437 name?)"
        )
    for extra in (info.extra, local_extra):
        for tag, data in _extra_fields(extra, where, name):
            if tag != _UNICODE_PATH:
                continue
            try:
                unicode_name = data[5:].decode("utf-8") if len(data) > 5 and data[0] == 1 else None
            except UnicodeDecodeError:
                unicode_name = None
            if unicode_name is None:
                raise ArchiveError(f"{where}: member {name!r} has a damaged Unicode Path extra field")
            if unicode_name != name:
                raise ArchiveError(
                    f"{where}: member {name!r} has a Unicode Path extra field that names it {unicode_name!r}"
                )


def _extra_fields(extra: bytes, where: str, name: str) -> Iterator[tuple[int, bytes]]:
    position = 0
    while position + 4 <= len(extra):  # fewer bytes left: padding, as zipfile and unzip take it
        tag, size = struct.unpack_from("<HH", extra, position)
        data = extra[position + 4 : position + 4 + size]
        if len(data) < size:
            raise ArchiveError(f"{where}: member {name!r} has a damaged extra field")
        yield tag, data
        position += 4 + size


def _local_extra(raw: BinaryIO, info: zipfile.ZipInfo, where: str) -> bytes:
    """The extra field of a member's local header, which zipfile skips; the header must
    agree with the central directory on the flags and method that decide how it is read."""
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ArchiveError(f"{where}: not a readable archive (bad local header for {info.orig_filename!r})")
    flags, method = struct.unpack_from("<HH", header, 6)
    if (flags ^ info.flag_bits) & _ZIP_DECISIVE or method != info.compress_type:
        raise ArchiveError(
            f"{where}: member {info.orig_filename!r}: its local header and the central directory "
            "disagree on its flags or compression method"
        )
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    raw.seek(name_length, os.SEEK_CUR)
    return raw.read(extra_length)


@contextlib.contextmanager
def _zip_errors(where: str) -> Iterator[None]:
    """What zipfile raises for a zip it cannot read, as one ArchiveError."""
    try:
        yield
    except UnicodeDecodeError:
        raise ArchiveError(f"{where}: not a readable archive (a member name marked UTF-8 is not)") from None
    except (NotImplementedError, RuntimeError, ValueError, struct.error) as exc:
        raise ArchiveError(f"{where}: not a readable archive ({_describe(exc)})") from None


def _zip_mtime(info: zipfile.ZipInfo) -> int:
    import calendar

    year, month, day, hour, minute, second = info.date_time
    try:
        return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return 0


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError) or "unexpected end" in str(exc).lower() or "truncated" in str(exc).lower():
        return "truncated or damaged"
    text = str(exc) or type(exc).__name__
    return text.rstrip(".")
