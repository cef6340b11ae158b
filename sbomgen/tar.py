"""A streaming tar reader: headers parsed here, contents handed out as views.

The decompressed stream arrives in large chunks; each member's content is given as
memoryviews of those chunks, so nothing is copied between the decompressor and the
hashes. Formats: POSIX ustar and pax (per-member and global records), GNU (long names
and link names), old V7. Sparse members are refused (after their expanded size has been
checked against the limits), as are headers with a bad checksum or malformed fields, and
an archive that ends without its end-of-archive block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import ArchiveError

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_MAX_EXTENDED = 1 << 20  # a pax or GNU long-name header larger than this is not a name
_POSIX_MAGIC = b"ustar\x0000"
REGULAR, HARDLINK, SYMLINK, DIRECTORY = b"0", b"1", b"2", b"5"
_REGULAR_TYPES = {b"0", b"\x00", b"7"}  # 7: contiguous file, a regular file everywhere else
_EXTENDED_TYPES = {b"x", b"g", b"L", b"K"}
SPARSE = b"S"


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


def _number(field: bytes, what: str, where: str) -> int:
    """An octal field, or GNU base-256 when the high bit of the first byte is set."""
    if field[0] in (0x80, 0xFF):
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    digits = field.split(b"\x00", 1)[0].strip(b" ")
    try:
        return int(digits or b"0", 8)
    except ValueError:
        raise ArchiveError(f"{where}: not a readable archive (bad {what} field in a tar header)") from None


def _parse_block(block: bytes, where: str) -> Header:
    stored_sum = _number(block[148:156], "checksum", where)
    unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    if stored_sum != unsigned:
        # Some old tars summed the bytes as signed chars.
        high = sum(1 for b in block[:148] + block[156:] if b > 127)
        if stored_sum != unsigned - 256 * high:
            raise ArchiveError(f"{where}: not a readable archive (bad tar header checksum)")
    kind = block[156:157]
    name = _text(block[0:100])
    if block[257:265] == _POSIX_MAGIC and block[345] != 0:
        name = f"{_text(block[345:500])}/{name}"
    size = _number(block[124:136], "size", where)
    if size < 0:
        raise ArchiveError(f"{where}: not a readable archive (negative member size)")
    if kind in _REGULAR_TYPES:
        kind = DIRECTORY if kind == b"\x00" and name.endswith("/") else REGULAR
    expanded = _number(block[483:495], "size", where) if kind == SPARSE else size
    return Header(
        name=name,
        kind=kind,
        size=expanded,
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
            raise ArchiveError(f"{where}: not a readable archive (malformed pax record)")
        end = position + int(length_digits)
        key, equals, value = data[space + 1 : end - 1].partition(b"=")
        if end > len(data) or end <= space + 1 or data[end - 1] != 0x0A or not equals or not key:
            raise ArchiveError(f"{where}: not a readable archive (malformed pax record)")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        position = end
    return records


def _apply_pax(header: Header, records: dict[str, str], where: str) -> Header:
    if not records:
        return header
    try:
        size = int(records["size"]) if "size" in records else header.stored
        mtime = int(float(records["mtime"])) if "mtime" in records else header.mtime
        real_size = int(records.get("GNU.sparse.realsize", records.get("GNU.sparse.size", size)))
    except ValueError:
        raise ArchiveError(f"{where}: not a readable archive (malformed pax number)") from None
    if size < 0 or real_size < 0:
        raise ArchiveError(f"{where}: not a readable archive (negative member size)")
    sparse = any(key.startswith("GNU.sparse.") for key in records)
    return Header(
        name=records.get("GNU.sparse.name", records.get("path", header.name)),
        kind=SPARSE if sparse else header.kind,
        size=real_size if sparse else size,
        stored=size,
        mtime=mtime,
        linkname=records.get("linkpath", header.linkname),
    )


class TarReader:
    """Iterate over a tar stream's members.

    ``headers`` yields each member's header; before asking for the next, the caller may
    read the member's content with ``content`` (what it leaves unread is skipped).
    """

    def __init__(self, stream: ChunkStream, where: str) -> None:
        self.stream = stream
        self.where = where
        self._unread = 0  # content and padding of the current member not yet consumed

    def _extended(self, header: Header) -> bytes:
        if header.stored > _MAX_EXTENDED:
            raise ArchiveError(
                f"{self.where}: not a readable archive (an extended header of {header.stored} bytes)"
            )
        data = self.stream.take(header.stored + _padding(header.stored))
        if len(data) < header.stored:
            raise ArchiveError(f"{self.where}: not a readable archive (truncated or damaged)")
        return data[: header.stored]

    def headers(self) -> Iterator[Header]:
        global_records: dict[str, str] = {}
        while True:
            if self.stream.skip(self._unread) < self._unread:
                raise ArchiveError(f"{self.where}: not a readable archive (truncated or damaged)")
            self._unread = 0
            records = dict(global_records)
            long_name = long_link = None
            while True:
                block = self.stream.take(BLOCK)
                if len(block) < BLOCK:
                    raise ArchiveError(
                        f"{self.where}: not a readable archive (truncated: no end-of-archive marker)"
                    )
                if block == _ZERO_BLOCK:
                    return
                header = _parse_block(block, self.where)
                if header.kind not in _EXTENDED_TYPES:
                    break
                data = self._extended(header)
                if header.kind == b"x":
                    records.update(pax_records(data, self.where))
                elif header.kind == b"g":
                    global_records.update(pax_records(data, self.where))
                    records.update(global_records)
                elif header.kind == b"L":
                    long_name = _text(data)
                else:
                    long_link = _text(data)
            if long_name is not None or long_link is not None:
                header = Header(
                    long_name if long_name is not None else header.name,
                    header.kind,
                    header.size,
                    header.stored,
                    header.mtime,
                    long_link if long_link is not None else header.linkname,
                )
            header = _apply_pax(header, records, self.where)
            self._unread = header.stored + _padding(header.stored)
            yield header

    def content(self, header: Header) -> Iterator[memoryview]:
        """Views of the current member's content; truncation is an error."""
        remaining = header.stored
        for view in self.stream.views(header.stored):
            remaining -= len(view)
            self._unread -= len(view)
            yield view
        if remaining:
            raise ArchiveError(f"{self.where}: not a readable archive (truncated or damaged)")
