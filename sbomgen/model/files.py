"""The files of an artifact, kept in a temporary SQLite database rather than in memory.

Each listed file as Python objects (path, digests, entry) costs about a kilobyte; an
archive ten times larger would need ten times the memory. In a database on disk they cost
SQLite's page cache, a few MB, whatever the archive's size.
"""

from __future__ import annotations

import itertools
import operator
import os
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..errors import OutputError
from .parts import Checksum, FileEntry

ALGORITHMS = ("SHA1", "SHA256", "SHA512")
DIGEST_COLUMNS = ", ".join(a.lower() for a in ALGORITHMS)
ROW = f"path, size, {DIGEST_COLUMNS}"  # the columns of a row ``entry_of`` reads
_INSERT = f"INSERT OR IGNORE INTO files ({ROW}, position) VALUES (?, ?, ?, ?, ?, ?)"
_UPDATE = "UPDATE files SET size = ?2, sha1 = ?3, sha256 = ?4, sha512 = ?5 WHERE path = ?1"
_KNOWN = frozenset(ALGORITHMS)
_ORDERED = {tuple(a for i, a in enumerate(ALGORITHMS) if mask & (1 << i)) for mask in range(8)}
CACHE_KIB = 512  # each temporary database's page cache
BATCH = 256  # rows written by one statement: a statement per row would cost more than the rest


# What a full, failing or read-only temporary folder makes SQLite say: by result code
# (Python 3.11+) or by message (3.10).
_STORAGE_CODES = ("SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM")
_STORAGE_MESSAGES = (
    "disk I/O error",
    "database or disk is full",
    "unable to open database",
    "readonly database",
)


class _TemporaryStorage:
    """The I/O errors of a temporary database (a full or read-only temporary folder) as
    sbomgen's own; any other SQLite error is a bug, left as it is. A class, not a
    generator: it wraps every statement."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: object) -> None:
        if isinstance(exc, OSError) or (isinstance(exc, sqlite3.OperationalError) and _storage_failure(exc)):
            reason = getattr(exc, "strerror", None) or exc
            raise OutputError(f"cannot use a temporary file in {tempfile.gettempdir()}: {reason}") from None


def _storage_failure(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorname", None)
    if code is not None:
        return str(code).startswith(_STORAGE_CODES)
    return any(message in str(exc) for message in _STORAGE_MESSAGES)


_STORAGE = _TemporaryStorage()


def temporary_storage() -> _TemporaryStorage:
    return _STORAGE


def temporary_database(schema: str, owner: object) -> sqlite3.Connection:
    """A private SQLite database in the temporary folder, closed when ``owner`` is
    collected. Its file is gone as soon as it is open (POSIX), or when it is closed or the
    process ends (elsewhere: SQLite's own temporary file): a killed run leaves nothing."""
    with temporary_storage():
        if os.name == "posix":
            handle, path = tempfile.mkstemp(prefix="sbomgen-", suffix=".sqlite3")
            os.close(handle)
            try:
                database = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            finally:
                os.unlink(path)
        else:
            database = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        # One transaction, never committed, no journal: the data lives as long as the
        # connection, in SQLite's page cache until that is full, then in the file (where
        # the system's file cache keeps it, outside the process). A small page cache: a run
        # has several of these databases, and each would otherwise grow to 2 MB.
        database.executescript(
            f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
            f" PRAGMA cache_size=-{CACHE_KIB}; BEGIN; {schema}"
        )
    weakref.finalize(owner, database.close)
    return database


class FileTable:
    """The files of an artifact in the artifact's order, each path once.

    Iterating gives FileEntry objects made from the stored rows; checksums come in the
    order SHA1, SHA256, SHA512 (the only ones kept). Components claim files (``claim``);
    the one that owns the rest (``claim_rest``) gets a view of its paths instead of a tuple
    of them. Tables are equal when their entries are; each holds one open file while alive.
    """

    def __init__(self, entries: Iterable[FileEntry] = ()) -> None:
        # One B-tree, by path, and no index: each index would cost as much again per file.
        self._db = temporary_database(
            "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
            f" {DIGEST_COLUMNS}, position INTEGER NOT NULL, owner TEXT) WITHOUT ROWID",
            self,
        )
        self._length = 0
        self._positions = itertools.count()
        self._pending: list[tuple[str, int, str | None, str | None, str | None, int]] = []
        for entry in entries:
            self.add(entry)

    def add(self, entry: FileEntry) -> None:
        """Record a file; a path recorded before keeps its place and owner, with the new data."""
        self._pending.append((*row_of(entry), next(self._positions)))
        if len(self._pending) >= BATCH:
            self._write()

    def _write(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        with temporary_storage():
            added = self._db.executemany(_INSERT, rows).rowcount
            if added < len(rows):  # some paths were there: bring each up to date, in order
                self._db.executemany(_UPDATE, (row[:5] for row in rows))
        self._length += added

    def __len__(self) -> int:
        self._write()
        return self._length

    def __bool__(self) -> bool:
        return len(self) > 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileTable):
            return NotImplemented
        return other is self or (len(self) == len(other) and all(map(operator.eq, self, other)))

    def __hash__(self) -> int:
        return hash(len(self))  # equal tables have equal lengths; the entries are too many to hash

    def __reduce__(self) -> tuple[Any, ...]:
        return FileTable, (tuple(self),)  # copied and pickled as its entries

    def __iter__(self) -> Iterator[FileEntry]:
        return map(entry_of, self._rows(f"SELECT {ROW} FROM files ORDER BY position"))

    def get(self, path: str) -> FileEntry | None:
        row = next(self._rows(f"SELECT {ROW} FROM files WHERE path = ?", (path,)), None)
        return None if row is None else entry_of(row)

    def __contains__(self, path: object) -> bool:
        """Whether a file has this path (iterating gives entries; ``in`` asks about paths)."""
        query = "SELECT 1 FROM files WHERE path = ?"
        return isinstance(path, str) and next(self._rows(query, (path,)), None) is not None

    def position(self, path: str) -> int:
        """Where the file at ``path`` is in the artifact's order (a KeyError if nowhere)."""
        row = next(self._rows("SELECT position FROM files WHERE path = ?", (path,)), None)
        if row is None:
            raise KeyError(path)
        return int(row[0])

    def paths(self) -> Iterator[str]:
        """Every path, in the artifact's order."""
        return self._column("SELECT path FROM files ORDER BY position")

    def rows_by_path(self) -> Iterator[tuple[str, int, str | None, str | None, str | None]]:
        """(path, size, SHA1, SHA256, SHA512) of every file, in path order."""
        return self._rows(f"SELECT {ROW} FROM files ORDER BY path")

    def claim(self, paths: Iterable[str], owner: str) -> None:
        """Mark those of ``paths`` no component has claimed yet as ``owner``'s."""
        self._write()
        with temporary_storage():
            self._db.executemany(
                "UPDATE files SET owner = ? WHERE path = ? AND owner IS NULL", ((owner, p) for p in paths)
            )

    def claim_rest(self, owner: str) -> OwnedPaths:
        """Give every unclaimed file to ``owner``; its paths, sorted."""
        self._write()
        with temporary_storage():
            self._db.execute("UPDATE files SET owner = ? WHERE owner IS NULL", (owner,))
        return OwnedPaths(self, owner)

    def missing(self, paths: Sequence[str]) -> list[str]:
        """Those of ``paths`` that are not files of this table."""
        if isinstance(paths, OwnedPaths) and paths.table is self:
            return []
        return [path for path in paths if path not in self]

    def sorted_digests(self, paths: Sequence[str], algorithm: str) -> Iterator[str]:
        """The ``algorithm`` digests of the files at ``paths``, sorted; "" for a file without one."""
        column = f"coalesce({algorithm.lower()}, '')"
        if isinstance(paths, OwnedPaths) and paths.table is self:
            query = f"SELECT {column} AS digest FROM files WHERE owner = ? ORDER BY digest"
            return self._column(query, (paths.owner,))
        query = f"SELECT {column} FROM files WHERE path = ?"
        return iter(sorted(digest for p in paths for digest in self._column(query, (p,))))

    def _column(self, query: str, parameters: Sequence[object] = ()) -> Iterator[Any]:
        """The first column of a query's rows."""
        self._write()
        with temporary_storage():
            for row in self._db.execute(query, parameters):
                yield row[0]

    def _rows(self, query: str, parameters: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        self._write()
        with temporary_storage():
            yield from self._db.execute(query, parameters)


class OwnedPaths(Sequence[str]):
    """The sorted paths a component owns in a FileTable, read when used."""

    def __init__(self, table: FileTable, owner: str) -> None:
        self.table, self.owner = table, owner

    def __iter__(self) -> Iterator[str]:
        query = "SELECT path FROM files WHERE owner = ? ORDER BY path"
        return self.table._column(query, (self.owner,))

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The (path, size, SHA1, SHA256, SHA512) rows of these files, in path order."""
        query = f"SELECT {ROW} FROM files WHERE owner = ? ORDER BY path"
        return self.table._rows(query, (self.owner,))

    def __len__(self) -> int:
        query = "SELECT count(*) FROM files WHERE owner = ?"
        return int(next(self.table._rows(query, (self.owner,)))[0])

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, int):
            return tuple(self)[index]
        position = index if index >= 0 else len(self) + index
        query = "SELECT path FROM files WHERE owner = ? ORDER BY path LIMIT 1 OFFSET ?"
        found = list(self.table._column(query, (self.owner, position))) if position >= 0 else []
        if not found:
            raise IndexError(index)
        return found[0]

    def __reversed__(self) -> Iterator[str]:
        return self.table._column("SELECT path FROM files WHERE owner = ? ORDER BY path DESC", (self.owner,))

    def __contains__(self, path: object) -> bool:
        query = "SELECT 1 FROM files WHERE path = ? AND owner = ?"
        return any(True for _ in self.table._rows(query, (path, self.owner)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (OwnedPaths, tuple)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple, (tuple(self),)  # copied and pickled as the tuple it stands for

    def __repr__(self) -> str:
        return f"OwnedPaths({self.owner!r}, {len(self)} paths)"


def row_of(entry: FileEntry) -> tuple[str, int, str | None, str | None, str | None]:
    """The (path, size, SHA1, SHA256, SHA512) row of an entry; a ValueError for another
    algorithm, which the table could not keep."""
    digests = {c.algorithm: c.value for c in entry.checksums}
    if len(digests) != len(entry.checksums) or not digests.keys() <= _KNOWN:
        raise ValueError(f"{entry.path}: checksums other than one each of {', '.join(ALGORITHMS)}")
    return entry.path, entry.size, digests.get("SHA1"), digests.get("SHA256"), digests.get("SHA512")


def in_order(entry: FileEntry) -> FileEntry:
    """The entry with its checksums in the order a table gives them back."""
    if tuple(c.algorithm for c in entry.checksums) in _ORDERED:
        return entry
    return entry_of(row_of(entry))


def entry_of(row: tuple[Any, ...]) -> FileEntry:
    """The entry of a (path, size, SHA1, SHA256, SHA512) row."""
    path, size, *digests = row
    return FileEntry(
        path, size, tuple(Checksum(a, d) for a, d in zip(ALGORITHMS, digests, strict=True) if d is not None)
    )
