"""The verified, offline-capable cache of index metadata: one SQLite file.

An entry is keyed by what it is about: project name, version and subject (the SHA256 of
the file the entry vouches for, a bundled wheel, or "" for a release looked up by name and
version), never by which index answered: an entry fetched from the public index serves a
run configured for a mirror, offline. The index that answered is kept beside it. Each
entry holds exactly what the SBOM uses, when it was fetched, and the
SHA256 of its data, checked on every read. SQLite transactions make every write atomic.
A file that is not a valid cache is moved aside and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..documents.cache import FORMAT, VERSION, canonical, digest, read_export, read_row, read_row_source
from ..documents.index import ReleaseData
from ..errors import CacheError

__all__ = ["FORMAT", "VERSION", "Cache", "Entry", "canonical", "digest", "parse_export"]
# The database's own format: 2 keys entries by name, version and subject (1 also by index);
# a file of another format is moved aside and rebuilt. Exports keep their format.
DB_FORMAT = f"{FORMAT}/{VERSION}/2"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS release (
    index_url TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (name, version, subject)
);
-- What the cache holds of a release from any index (held): a look-up, not a scan per release.
CREATE INDEX IF NOT EXISTS release_by_name ON release (name, version);
-- Entries imported from an unsigned export (--allow-unsigned): the SHA256 of that export.
CREATE TABLE IF NOT EXISTS unsigned (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    subject TEXT NOT NULL,
    export_sha256 TEXT NOT NULL,
    PRIMARY KEY (name, version, subject)
);
"""


@dataclass(frozen=True)
class Entry:
    index_url: str
    name: str
    version: str
    subject: str
    data: ReleaseData
    fetched_at: str
    unsigned_from: str | None = None  # the SHA256 of the unsigned export it was imported from

    @property
    def text(self) -> str:
        return canonical(self.data.model_dump())


class Cache:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "index.sqlite3"
        self.notices: list[str] = []
        self.existed = self.path.exists()
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot create the cache folder {directory}: {exc.strerror}") from None
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        with self._usable():
            try:
                return self._connect()
            except sqlite3.OperationalError:
                raise  # the disk or the lock, not the file's content: never moved aside
            except sqlite3.DatabaseError as exc:
                aside = self.path.with_name(
                    f"{self.path.name}.corrupt-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%S}"
                )
                os.replace(self.path, aside)
                self.notices.append(
                    f"warning: the cache {self.path} is not valid ({exc}); moved to {aside.name}, rebuilt"
                )
                return self._connect()

    @contextlib.contextmanager
    def _usable(self) -> Iterator[None]:
        """SQLite's and the file system's errors (a full disk, a read-only folder, a lock
        held too long) as sbomgen's own: the cache cannot be used (exit 8)."""
        try:
            yield
        except (sqlite3.DatabaseError, OSError) as exc:
            raise CacheError(f"cannot use the cache {self.path}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check says {check}")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('format', ?)", (DB_FORMAT,))
            elif row[0] != DB_FORMAT:
                raise sqlite3.DatabaseError(f"unknown cache format {row[0]!r}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    def get(self, name: str, version: str, subject: str = "") -> Entry | None:
        with self._usable():
            row = self._db.execute(
                "SELECT index_url, data, sha256, fetched_at, export_sha256 FROM release LEFT JOIN unsigned "
                "USING (name, version, subject) "
                "WHERE name=? AND version=? AND subject=?",
                (name, version, subject),
            ).fetchone()
        if row is None:
            return None
        index_url, text, expected, fetched_at, unsigned_from = row
        index_url = _without_credentials(index_url)
        if digest(text) != expected:
            self.notices.append(f"warning: cache entry {name} {version} fails its checksum; not used")
            return None
        data = self._data(text, name, version)
        source = read_row_source(index_url, unsigned_from, f"{self.path}: the entry for {name} {version}")
        return Entry(source.index_url, name, version, subject, data, fetched_at, source.unsigned_from)

    def find(self, name: str, version: str) -> Entry | None:
        """The newest entry for a release, whatever file it was derived from."""
        rows = self._db.execute(
            "SELECT subject FROM release WHERE name=? AND version=? ORDER BY fetched_at DESC", (name, version)
        ).fetchall()
        for (subject,) in rows:
            entry = self.get(name, version, subject)
            if entry is not None:
                return entry
        return None

    def is_empty(self) -> bool:
        with self._usable():
            return self._db.execute("SELECT 1 FROM release LIMIT 1").fetchone() is None

    def held(self, name: str, version: str) -> set[str]:
        """The subject of every entry for a release."""
        with self._usable():
            rows = self._db.execute(
                "SELECT subject FROM release WHERE name=? AND version=?", (name, version)
            ).fetchall()
        return {subject for (subject,) in rows}

    def unsigned(self) -> list[str]:
        """ "NAME VERSION" of every entry imported from an unsigned export."""
        with self._usable():
            rows = self._db.execute("SELECT DISTINCT name, version FROM unsigned ORDER BY name, version")
            return [f"{name} {version}" for name, version in rows]

    def put(self, entries: list[Entry], unsigned_from: str | None = None) -> None:
        """Store ``entries``; ``unsigned_from``: the SHA256 of the unsigned export they come
        from, kept with each until it is replaced (by the index's answer or a signed import)."""
        if not entries:
            return
        with self._usable(), self._transaction():
            for entry in entries:
                key = (entry.name, entry.version, entry.subject)
                self._db.execute("DELETE FROM unsigned WHERE name=? AND version=? AND subject=?", key)
                if unsigned_from is not None:
                    self._db.execute("INSERT INTO unsigned VALUES (?, ?, ?, ?)", (*key, unsigned_from))
                self._db.execute(
                    "INSERT OR REPLACE INTO release VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.index_url,
                        entry.name,
                        entry.version,
                        entry.subject,
                        entry.text,
                        digest(entry.text),
                        entry.fetched_at,
                    ),
                )

    def entries(self) -> Iterator[Entry]:
        rows = self._db.execute(
            "SELECT index_url, name, version, subject, data, sha256, fetched_at FROM release "
            "ORDER BY name, version, subject"
        )
        for index_url, name, version, subject, text, expected, fetched_at in rows:
            if digest(text) == expected:
                index_url = _without_credentials(index_url)
                yield Entry(index_url, name, version, subject, self._data(text, name, version), fetched_at)

    def _data(self, text: str, name: str, version: str) -> ReleaseData:
        """A row whose checksum holds was still written by someone: it passes the gate too."""
        return read_row(text, f"{self.path}: the entry for {name} {version}")

    def export(self) -> bytes:
        """Every entry as a self-checking JSON document."""
        entries = [
            {
                "index_url": e.index_url,
                "name": e.name,
                "version": e.version,
                "subject": e.subject,
                "data": e.data.model_dump(),
                "sha256": digest(e.text),
                "fetched_at": e.fetched_at,
            }
            for e in self.entries()
        ]
        body = {"format": FORMAT, "version": VERSION, "entries": entries}
        return (canonical({**body, "sha256": digest(canonical(entries))}) + "\n").encode()

    def _transaction(self) -> Any:
        db = self._db

        class _Tx:
            def __enter__(self) -> None:
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind: object, *rest: object) -> None:
                db.execute("COMMIT" if kind is None else "ROLLBACK")

        return _Tx()


def parse_export(content: bytes, where: str) -> list[Entry]:
    return [
        Entry(e.index_url, e.name, e.version, e.subject, e.data, e.fetched_at)
        for e in read_export(content, where).entries
    ]


def _without_credentials(index_url: Any) -> Any:
    """A row's index URL without the user and password that sbomgen stored with it before it
    took them out of index URLs: never read back, exported or written in an SBOM (and the
    rows stay usable, as the URL's host is what they say)."""
    import urllib.parse

    if not isinstance(index_url, str) or "@" not in index_url:
        return index_url
    try:
        parts = urllib.parse.urlsplit(index_url)
    except ValueError:
        return index_url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
