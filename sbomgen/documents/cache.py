"""The index cache's documents: the data of one row, and a cache export.

A row's data and an export's entries are what the index said, kept: they are read with
the same bounds and the same ``ReleaseData`` model as the answer they came from, so that a
cache edited by hand (its checksums recomputed) can say nothing an index could not.
Failures are ``CacheError`` (exit 8) naming the file and the entry.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, StringConstraints

from ..errors import CacheError
from .fields import NonEmptyLine, Sha256, Strict
from .index import ReleaseData
from .parse import MAX_DOCUMENT_BYTES, load_json, parse_json, validate

FORMAT = "sbomgen-index-cache"
VERSION = 1
MAX_ROW_BYTES = 64 << 20  # the index answer's own cap: a row is a part of one answer


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _index_url(value: str) -> str:
    """An http(s) URL with a host and no user or password: what sbomgen records as the index
    that answered (an SBOM carries it)."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise ValueError("is not the http(s) URL of an index")
    return value


def _canonical_name(value: str) -> str:
    from packaging.utils import canonicalize_name

    if canonicalize_name(value) != value:
        raise ValueError("is not a project name in its canonical form")
    return value


IndexUrl = Annotated[NonEmptyLine, AfterValidator(_index_url)]
# When sbomgen asked: UTC, to the second, as it writes it.
FetchedAt = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
]


class ExportEntry(Strict):
    index_url: IndexUrl
    name: Annotated[NonEmptyLine, AfterValidator(_canonical_name)]
    version: NonEmptyLine
    subject: Literal[""] | Sha256  # the SHA256 of the bundled file the entry vouches for, or ""
    data: ReleaseData
    sha256: Sha256
    fetched_at: FetchedAt


class _Header(Strict):
    format: Any = None
    version: Any = None


class CacheExport(Strict):
    format: Literal["sbomgen-index-cache"]
    version: Literal[1]
    entries: list[ExportEntry]
    sha256: Sha256


class RowSource(Strict):
    """A row's other columns that SBOMs carry: the index that answered, and the SHA256 of
    the unsigned export it came from. No checksum covers them, so they pass the gate too."""

    index_url: IndexUrl
    unsigned_from: Sha256 | None


def read_row_source(index_url: object, unsigned_from: object, where: str) -> RowSource:
    return validate(RowSource, {"index_url": index_url, "unsigned_from": unsigned_from}, where, CacheError)


def read_row(text: str, where: str) -> ReleaseData:
    """The data of one cache row, whose checksum the caller has checked."""
    return load_json(ReleaseData, text, where, CacheError, MAX_ROW_BYTES)


def read_export(content: bytes, where: str) -> CacheExport:
    """A cache export, checked completely: format, version, every entry and every checksum."""
    try:
        document = parse_json(content, where, CacheError, MAX_DOCUMENT_BYTES)
    except CacheError as exc:
        raise CacheError(f"{where}: not a cache export ({str(exc).removeprefix(f'{where}: ')})") from None
    header = validate(_Header, document if isinstance(document, dict) else {}, where, CacheError)
    if header.format != FORMAT:
        raise CacheError(f"{where}: not a cache export (format is not {FORMAT!r})")
    if header.version != VERSION:
        raise CacheError(f"{where}: cache export version {header.version!r} is not supported")
    export = validate(CacheExport, document, where, CacheError)
    # Checksums are of the entries as written (an older sbomgen's lack fields this one has).
    raw = document["entries"]
    if export.sha256 != digest(canonical(raw)):
        raise CacheError(f"{where}: the export's checksum does not match its entries (damaged or edited)")
    first: dict[tuple[str, str, str], int] = {}
    for number, entry in enumerate(export.entries):
        if entry.sha256 != digest(canonical(raw[number]["data"])):
            raise CacheError(f"{where}: entries[{number}] ({entry.name} {entry.version}) fails its checksum")
        # The cache keeps one answer a release (and bundled file): of two, the last would win.
        earlier = first.setdefault((entry.name, entry.version, entry.subject), number)
        if earlier != number:
            raise CacheError(
                f"{where}: entries[{number}] ({entry.name} {entry.version}) is entries[{earlier}] again"
            )
    return export
