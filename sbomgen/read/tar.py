"""A streaming tar reader: headers parsed here, contents handed out as views.

The decompressed stream arrives in large chunks; each member's content is given as
memoryviews of those chunks, so nothing is copied between the decompressor and the
hashes. Formats: POSIX ustar and pax, GNU (long names and link names), old V7.

Where tar implementations could disagree about what an archive holds, the archive is
refused rather than read one way: a link or directory with content, a regular file with a
directory's name, more than one pax, long-name or long-link header for one member, a
global pax header that sets a path, link or size, a ustar prefix under another magic,
numbers that are not plain octal or decimal, and anything but zero bytes after the
end-of-archive block. Sparse members are refused (after their expanded size has been
checked against the limits), as are bad header checksums and a missing end block.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import ArchiveError

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_MAX_EXTENDED = 1 << 20  # a pax or GNU long-name header larger than this is not a name
REGULAR, HARDLINK, SYMLINK, DIRECTORY = b"0", b"1", b"2", b"5"
_REGULAR_TYPES = {b"0", b"\x00", b"7"}  # 7: contiguous file, a regular file everywhere else
_EXTENDED_TYPES = {b"x", b"g", b"L", b"K"}
_EXTENDED_NAMES = {b"x": "pax", b"L": "long-name", b"K": "long-link"}
_CONTENTLESS = {HARDLINK: "hard link", SYMLINK: "symlink", DIRECTORY: "directory"}
SPARSE = b"S"
_OCTAL = re.compile(rb" *([0-7]*) *")
_GNU_TIMES = re.compile(rb"[0-7 \x00]*")  # atime, ctime, offset: where ustar keeps its prefix
_PAX_SIZE = re.compile(r"[0-9]{1,20}")
_PAX_TIME = re.compile(r"(-?[0-9]{1,20})(\.[0-9]{0,20})?")
_GLOBAL_REFUSED = {"path", "linkpath", "size"}


@dataclass(frozen=True)
class Header:
    name: str
    kind: bytes  # REGULAR, HARDLINK, SYMLINK, DIRECTORY, SPARSE or another type flag
    size: int  # bytes of content the member holds (expanded size for a sparse member)
    stored: int  # bytes of content that follow the header in the archive
    mtime: int
    linkname: str


class ChunkStream:
    """Bytes arriving as chunks, read as copies (headers) or as views (contents)."""

    def __init__(self, next_chunk: Callable[[], bytes]) -> None:
        self._next_chunk = next_chunk
        self._view = memoryview(b"")

    def _fill(self) -> bool:
        if not self._view:
            chunk = self._next_chunk()
            if not chunk:
                return False
            self._view = memoryview(chunk)
        return True

    def take(self, size: int) -> bytes:
        """Exactly ``size`` bytes, or fewer at the end of the stream."""
        if len(self._view) >= size:
            data = self._view[:size].tobytes()
            self._view = self._view[size:]
            return data
        return b"".join(view.tobytes() for view in self.views(size))

    def views(self, size: int) -> Iterator[memoryview]:
        """Views of the next ``size`` bytes (fewer at the end of the stream)."""
        while size > 0 and self._fill():
            view = self._view[:size]
            self._view = self._view[len(view) :]
            size -= len(view)
            yield view

    def skip(self, size: int) -> int:
        return sum(len(view) for view in self.views(size))


def _padding(size: int) -> int:
    return -size % BLOCK


def _text(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _refuse(where: str, why: str) -> ArchiveError:
    return ArchiveError(f"{where}: not a readable archive ({why})")


def _number(field: bytes, what: str, where: str) -> int:
    """An octal field, or GNU base-256 when the high bit of the first byte is set."""
    if field[0] in (0x80, 0xFF):
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    match = _OCTAL.fullmatch(field.split(b"\x00", 1)[0])
    if match is None:
        raise _refuse(where, f"bad {what} field in a tar header")
    return int(match.group(1) or b"0", 8)


def _parse_block(block: bytes, where: str) -> Header:
    """A header block as it stands, before long names and pax records apply."""
    stored_sum = _number(block[148:156], "checksum", where)
    unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    if stored_sum != unsigned:
        # Some old tars summed the bytes as signed chars.
        high = sum(1 for b in block[:148] + block[156:] if b > 127)
        if stored_sum != unsigned - 256 * high:
            raise _refuse(where, "bad tar header checksum")
    kind = block[156:157]
    name = _text(block[0:100])
    if block[257:263] == b"ustar\x00":  # POSIX, whatever its version field says
        if block[345] != 0:
            name = f"{_text(block[345:500])}/{name}"
    elif block[257:265] == b"ustar  \x00":  # GNU: times where POSIX keeps the prefix
        if not _GNU_TIMES.fullmatch(block[345:386]):
            raise _refuse(where, "a GNU tar header with a name prefix")
    elif any(block[257:500]):
        raise _refuse(where, "an unknown tar header format")
    size = _number(block[124:136], "size", where)
    if size < 0:
        raise _refuse(where, "negative member size")
    return Header(
        name=name,
        kind=kind,
        size=_number(block[483:495], "size", where) if kind == SPARSE else size,
        stored=size,
        mtime=_number(block[136:148], "mtime", where),
        linkname=_text(block[157:257]),
    )


def pax_records(data: bytes, where: str) -> dict[str, str]:
    """The ``LENGTH KEY=VALUE\\n`` records of a pax extended header."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data) and data[position] != 0:
        space = data.find(b" ", position, position + 20)
        length_digits = data[position:space] if space > 0 else b""
        if not length_digits.isdigit():
            raise _refuse(where, "malformed pax record")
        end = position + int(length_digits)
        key, equals, value = data[space + 1 : end - 1].partition(b"=")
        if end > len(data) or end <= space + 1 or data[end - 1] != 0x0A or not equals or not key:
            raise _refuse(where, "malformed pax record")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        position = end
    return records


def _pax_size(value: str, where: str) -> int:
    if not _PAX_SIZE.fullmatch(value):
        raise _refuse(where, f"malformed pax size {value[:40]!r}")
    return int(value)


def _member(
    block: Header, records: dict[str, str], long_name: str | None, long_link: str | None, where: str
) -> Header:
    """The member a header block describes once long names and pax records apply."""
    name = records.get("path", long_name if long_name is not None else block.name)
    stored = _pax_size(records["size"], where) if "size" in records else block.stored
    mtime = block.mtime
    if "mtime" in records:
        match = _PAX_TIME.fullmatch(records["mtime"])
        if match is None:
            raise _refuse(where, f"malformed pax time {records['mtime'][:40]!r}")
        mtime = int(match.group(1))
    kind, size = block.kind, stored
    sparse = [key for key in records if key.startswith("GNU.sparse.")]
    if sparse or kind == SPARSE:
        kind = SPARSE
        name = records.get("GNU.sparse.name", name)
        expanded = records.get("GNU.sparse.realsize", records.get("GNU.sparse.size"))
        size = _pax_size(expanded, where) if expanded is not None else block.size
    elif kind in _REGULAR_TYPES:
        if name.endswith("/"):
            if stored:
                raise _refuse(where, f"a regular file with a directory's name and content: {name!r}")
            kind = DIRECTORY  # an old tar's way of writing a directory
        else:
            kind = REGULAR
    elif kind in _CONTENTLESS and stored:
        raise _refuse(where, f"a {_CONTENTLESS[kind]} with {stored} bytes of content: {name!r}")
    linkname = records.get("linkpath", long_link if long_link is not None else block.linkname)
    return Header(name=name, kind=kind, size=size, stored=stored, mtime=mtime, linkname=linkname)


class TarReader:
    """Iterate over a tar stream's members.

    ``headers`` yields each member's header; before asking for the next, the caller may
    read the member's content with ``content`` (what it leaves unread is skipped).
    ``on_bytes`` is told of the bytes read that are not members' contents: extended
    headers and what follows the end-of-archive block.
    """

    def __init__(
        self, stream: ChunkStream, where: str, on_bytes: Callable[[int], None] = lambda n: None
    ) -> None:
        self.stream = stream
        self.where = where
        self.on_bytes = on_bytes
        self._unread = 0  # content and padding of the current member not yet consumed

    def _extended(self, header: Header) -> bytes:
        if header.stored > _MAX_EXTENDED:
            raise _refuse(self.where, f"an extended header of {header.stored} bytes")
        data = self.stream.take(header.stored + _padding(header.stored))
        self.on_bytes(len(data))
        if len(data) < header.stored:
            raise _refuse(self.where, "truncated or damaged")
        return data[: header.stored]

    def _after_the_end(self) -> None:
        """Only zero bytes may follow the end-of-archive block: other tars read on."""
        for view in self.stream.views(1 << 62):
            self.on_bytes(len(view))
            if view.tobytes().strip(b"\x00"):
                raise _refuse(self.where, "data after the end-of-archive block")

    def headers(self) -> Iterator[Header]:
        global_records: dict[str, str] = {}  # only those that may apply to every member
        while True:
            if self.stream.skip(self._unread) < self._unread:
                raise _refuse(self.where, "truncated or damaged")
            self._unread = 0
            extended: dict[bytes, bytes] = {}
            while True:
                block = self.stream.take(BLOCK)
                if len(block) < BLOCK:
                    raise _refuse(self.where, "truncated: no end-of-archive marker")
                if block == _ZERO_BLOCK:
                    self._after_the_end()
                    return
                header = _parse_block(block, self.where)
                if header.kind not in _EXTENDED_TYPES:
                    break
                data = self._extended(header)
                if header.kind == b"g":
                    records = pax_records(data, self.where)
                    refused = sorted(_GLOBAL_REFUSED & records.keys())
                    if refused:
                        raise _refuse(self.where, f"a global pax header that sets {', '.join(refused)}")
                    global_records.update(
                        (k, v) for k, v in records.items() if k == "mtime" or k.startswith("GNU.sparse.")
                    )
                elif header.kind in extended:
                    raise _refuse(
                        self.where, f"more than one {_EXTENDED_NAMES[header.kind]} header for a member"
                    )
                else:
                    extended[header.kind] = data
            records = dict(global_records)
            if b"x" in extended:
                records.update(pax_records(extended[b"x"], self.where))
            long_name = _text(extended[b"L"]) if b"L" in extended else None
            long_link = _text(extended[b"K"]) if b"K" in extended else None
            member = _member(header, records, long_name, long_link, self.where)
            self._unread = member.stored + _padding(member.stored)
            yield member

    def content(self, header: Header) -> Iterator[memoryview]:
        """Views of the current member's content; truncation is an error."""
        remaining = header.stored
        for view in self.stream.views(header.stored):
            remaining -= len(view)
            self._unread -= len(view)
            yield view
        if remaining:
            raise _refuse(self.where, "truncated or damaged")
