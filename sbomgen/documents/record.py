"""A wheel's ``*.dist-info/RECORD``: one ``path,sha256=DIGEST,size`` row per file.

Read with bounds (the file, each line and each field) before the csv reader sees it, so
no row can make the reader fail its own way. Every row must name a file once, carry a
SHA256 (urlsafe base64, unpadded, as the wheel specification writes it) and a size in
decimal digits; only RECORD itself and its signatures (RECORD.jws, RECORD.p7s) may be
left without hash, since a file without one is a file nobody vouches for.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass

from ..errors import SbomgenError
from .fields import MAX_LINE, control_character
from .parse import decode_text

MAX_RECORD_BYTES = 64 << 20  # a wheel of 100,000 files has a RECORD of about 15 MB
MAX_SIZE_DIGITS = 20


@dataclass(frozen=True)
class RecordRow:
    path: str
    hash: str  # as written: "sha256=..." or "" for RECORD and its signatures
    size: str  # as written: decimal digits or ""

    @property
    def sha256(self) -> str | None:
        """The row's SHA256 as hex, or None for an unhashed row."""
        if not self.hash:
            return None
        return base64.urlsafe_b64decode(self.hash.removeprefix("sha256=") + "=").hex()


@dataclass(frozen=True)
class Record:
    path: str
    rows: tuple[RecordRow, ...]

    def unhashed_allowed(self, path: str) -> bool:
        return path in (self.path, self.path + ".jws", self.path + ".p7s")


def record_hash(digest: bytes) -> str:
    """A SHA256 digest as RECORD writes it."""
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def record_bytes(rows: list[RecordRow]) -> bytes:
    """RECORD's text for ``rows``, as the csv writer quotes it."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([row.path, row.hash, row.size] for row in rows)
    return text.getvalue().encode()


def read_record(content: bytes, record_path: str, source: str, error: type[SbomgenError]) -> Record:
    """The rows of the RECORD at ``record_path`` in the wheel, or ``error`` naming ``source``."""
    text = decode_text(content, source, error, MAX_RECORD_BYTES)
    record = Record(record_path, ())
    rows: list[RecordRow] = []
    seen: set[str] = set()
    # Lines end at "\n" alone, as for the csv reader: str.splitlines would also end them
    # at characters a path may hold (U+2028, U+0085 ...).
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        where = f"{source}, line {number}"
        if len(line) > MAX_LINE:
            raise error(f"{where}: longer than {MAX_LINE:,} characters")
        if not line:
            continue
        try:
            fields = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            raise error(f"{where}: not a CSV row ({exc})") from None
        if len(fields) != 3:
            raise error(f"{where}: {len(fields)} fields, not the 3 of path,hash,size")
        path, hash_, size = fields
        found = control_character(path)
        if not path or found:
            raise error(
                f"{where}: " + (f"the path holds the control character {found}" if path else "no path")
            )
        if path in seen:
            raise error(f"{where}: {path} is listed twice")
        seen.add(path)
        if hash_:
            _check_hash(hash_, f"{source}: {path}", error)
        elif not record.unhashed_allowed(path):
            raise error(f"{source}: {path} has no hash: nothing vouches for its content")
        if size and not (size.isascii() and size.isdigit() and len(size) <= MAX_SIZE_DIGITS):
            raise error(f"{source}: {path}: the size {size[:40]!r} is not a number of bytes")
        rows.append(RecordRow(path, hash_, size))
    return Record(record_path, tuple(rows))


def _check_hash(value: str, where: str, error: type[SbomgenError]) -> None:
    algorithm, _, encoded = value.partition("=")
    if algorithm != "sha256":
        raise error(f"{where}: RECORD uses {algorithm[:20]!r}; sha256 expected")
    try:
        digest = base64.b64decode(encoded + "=", altchars=b"-_", validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        digest = b""
    if len(digest) != 32 or len(encoded) != 43:
        raise error(f"{where}: {value[:80]!r} is not a SHA256 in unpadded urlsafe base64")
