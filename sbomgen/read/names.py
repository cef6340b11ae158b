"""The checks on an archive's member names, kept as a path trie.

One top folder, no duplicates, nothing below a file or a link, hard links to earlier
files, symlinks that stay inside when followed through each other; names that differ only
in case or Unicode normalisation are counted. Once the members are read, the trie tells
which file a path leads to through links, and which paths an extracted tree has below
links to folders.

Each name is a node (parent, name), never a string per prefix: a file 200,000 folders
deep costs 200,000 nodes, not 200,000 prefixes of up to 400 KB each. The nodes wait in
memory, and past ``_IN_MEMORY`` of them go to a temporary SQLite database, so a million
members cost a few MB of SQLite's page cache; a usual archive never needs it. The folders
of the member before are kept, so that members grouped by folder cost one node each. A
member that repeats a name already written to the database is found when its node is
written (at the latest when the members end: ``flush``). Links are followed node by node,
each link's resolution kept beside it once found: linear in the parts of every target,
whatever points to what.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import unicodedata
from array import array
from collections.abc import Iterator
from typing import Any

from ..errors import ArchiveError
from ..model.files import temporary_database, temporary_storage

DIR, FILE, SYMLINK, HARDLINK = 0, 1, 2, 3
_ROOT = 0  # the folder the member paths are relative to: the top folder, or the root
_ROOT_FOLD = bytes(8)
_IN_MEMORY = 1 << 13  # nodes waiting in memory, at about 400 bytes each (a CPython release: 5,600)
_BATCH = 256  # rows read at once
_MAX_HOPS = 40  # links followed within one path, as Linux allows (ELOOP)
_PAGE = 64  # children read at once when listing a folder
_SCHEMA = """
CREATE TABLE nodes (
    id INTEGER PRIMARY KEY,
    parent INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    fold BLOB NOT NULL,  -- the folded path (case, NFC/NFD), hashed part by part
    member INTEGER,  -- its place among the members; NULL for a folder no member names
    target TEXT,  -- a symlink's target as written
    behind INTEGER,  -- the file a hard link repeats
    digest TEXT,  -- a file's first digest, to check a second read against
    resolved INTEGER, beyond INTEGER, hops INTEGER  -- a symlink followed (see _walk)
);
CREATE UNIQUE INDEX children ON nodes (parent, name);
INSERT INTO nodes (id, parent, name, kind, fold) VALUES (0, -1, '', 0, zeroblob(8));
"""
_COLUMNS = "id, parent, name, kind, fold, member, target, behind, digest"  # a row's, in order
_INSERT = f"INSERT INTO nodes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_NAMED = "SELECT id, member FROM nodes WHERE parent = ? AND name = ?"
_LINK = "SELECT id, kind, target, resolved, beyond, hops FROM nodes WHERE parent = ? AND name = ?"


def fold(name: str) -> str:
    """The key under which names that a case-insensitive or normalising file system (macOS
    APFS/HFS+, Windows) would take for one are equal: Unicode's canonical caseless match.
    Folding a path part by part gives the parts of the folded path: "/" neither folds nor
    combines."""
    if name.isascii():
        return name.casefold()
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


def _parts(path: str) -> Iterator[str]:
    """The parts of a path or link target, "" and "." left out, without a list of them all."""
    start = 0
    while True:
        end = path.find("/", start)
        part = path[start:] if end < 0 else path[start:end]
        if part and part != ".":
            yield part
        if end < 0:
            return
        start = end + 1


class Names:
    """Every member's name, placed as it comes; the checks of the module's docstring.
    ``in_memory``: the nodes that wait in memory before they are written."""

    def __init__(self, where: str, top_folder: bool = True, in_memory: int = _IN_MEMORY) -> None:
        self.where = where
        self.top_folder = top_folder
        self.in_memory = in_memory
        self.top: str | None = None
        self._database: sqlite3.Connection | None = None  # made when first needed
        # Keyed by a secret of this run: names cannot be made to collide on purpose.
        self._hasher = hashlib.blake2b(digest_size=8, key=os.urandom(16))
        self._ids = 0
        self._members = 0
        self._symlinks = 0
        # The rows not yet written, by (parent, name); each ends with its member's name as given.
        self._waiting: dict[tuple[int, str], list[Any]] = {}
        self._last: list[Any] | None = None  # the row of the file placed last
        # The folders of the member before, from the top: names, node ids, folded hashes.
        self._chain: list[str] = []
        self._chain_ids = array("q")
        self._chain_folds = bytearray()
        self._folder_of_last = _ROOT, _ROOT_FOLD

    @property
    def _db(self) -> sqlite3.Connection:
        if self._database is None:
            self._database = temporary_database(_SCHEMA, self)
        return self._database

    def _hash(self, parent: bytes, name: str) -> bytes:
        hasher = self._hasher.copy()
        hasher.update(parent)
        hasher.update((name.casefold() if name.isascii() else fold(name)).encode())
        return hasher.digest()

    def place(
        self, parts: list[str], name: str, kind: int, target: str | None = None, behind: int | None = None
    ) -> str | None:
        """Record a member; return its path below the top folder, or None for the top folder
        itself. ``target``: a symlink's target as written; ``behind``: the file a hard
        link repeats (``earlier_file``)."""
        is_dir = kind == DIR
        if not parts:
            if is_dir:
                return None
            raise ArchiveError(f"{self.where}: member has an empty name")
        if self.top_folder:
            if self.top is None:
                if len(parts) == 1 and not is_dir:
                    raise ArchiveError(
                        f"{self.where}: {name!r} lies outside a top folder; "
                        "expected every member under one folder such as Python-X.Y.Z/"
                    )
                self.top = parts[0]
            elif parts[0] != self.top:
                raise ArchiveError(f"{self.where}: member {name!r} lies outside the top folder {self.top!r}")
            if len(parts) == 1:
                if is_dir:
                    return None
                raise ArchiveError(f"{self.where}: member {name!r} has the top folder's name")
            parts = parts[1:]
        if len(self._waiting) >= self.in_memory:
            self.flush()
        parent, parent_fold = self._folder(parts, name)
        self._members += 1
        key = (parent, parts[-1])
        waiting = self._waiting.get(key)
        known = (waiting[0], waiting[5]) if waiting is not None else None
        if known is None and kind == DIR and self._database is not None:
            with temporary_storage():
                known = self._db.execute(_NAMED, key).fetchone()
        if known is not None:  # a duplicate, or a folder that members lie below
            if known[1] is not None:
                raise ArchiveError(f"{self.where}: duplicate member {name!r}")
            if kind != DIR:
                raise ArchiveError(
                    f"{self.where}: member {name!r} is not a directory, but other members lie below it"
                )
            if waiting is not None:
                waiting[5] = self._members
            else:
                with temporary_storage():
                    self._db.execute("UPDATE nodes SET member = ? WHERE id = ?", (self._members, known[0]))
            return "/".join(parts)
        self._ids += 1
        row = [
            self._ids,
            parent,
            key[1],
            kind,
            self._hash(parent_fold, key[1]),
            self._members,
            target,
            behind,
            None,
            name,
        ]
        self._waiting[key] = self._last = row
        if kind == SYMLINK:
            self._symlinks += 1
        return "/".join(parts)

    def _folder(self, parts: list[str], name: str) -> tuple[int, bytes]:
        """The node of the folder holding ``parts`` and its folded hash, made where missing."""
        chain, ids, folds = self._chain, self._chain_ids, self._chain_folds
        depth = len(parts) - 1
        if depth == len(chain) and parts[:depth] == chain:
            return self._folder_of_last
        same = 0
        most = min(len(chain), depth)
        while same < most and chain[same] == parts[same]:
            same += 1
        if same < len(chain):
            del chain[same:], ids[same:], folds[8 * same :]
        parent = ids[-1] if same else _ROOT
        parent_fold = bytes(folds[-8:]) if same else _ROOT_FOLD
        found = True  # below a folder made just now, nothing can be found
        for level in range(same, depth):
            part = parts[level]
            row = self._child(parent, part) if found else None
            if row is not None:
                if row[1] != DIR:
                    above = "/".join(parts[: level + 1])
                    raise ArchiveError(
                        f"{self.where}: member {name!r} lies below {above!r}, which is a "
                        f"{'file' if row[1] == FILE else 'link'}"
                    )
                parent, parent_fold = row[0], row[2]
            else:
                found = False
                if len(self._waiting) >= self.in_memory:  # a deep path makes many at once
                    self.flush()
                self._ids += 1
                parent_fold = self._hash(parent_fold, part)
                self._waiting[parent, part] = [
                    self._ids,
                    parent,
                    part,
                    DIR,
                    parent_fold,
                    None,
                    None,
                    None,
                    None,
                    None,
                ]
                parent = self._ids
            chain.append(part)
            ids.append(parent)
            folds += parent_fold
        self._folder_of_last = parent, parent_fold
        return parent, parent_fold

    def note_digest(self, digest: str) -> None:
        """The first digest of the file placed last, before the next is placed."""
        if self._last is not None:
            self._last[8] = digest

    def flush(self) -> None:
        """Write the rows waiting; one that repeats a name written before is an error now,
        the first such (what waits behind it is never reported)."""
        rows = list(self._waiting.values())
        self._waiting, self._last = {}, None
        if not rows:
            return
        with temporary_storage():
            before = self._db.total_changes
            try:
                self._db.executemany(_INSERT, (row[:9] for row in rows))
            except sqlite3.IntegrityError:  # (parent, name) is taken
                failed = rows[self._db.total_changes - before]
                known = self._db.execute(_NAMED, (failed[1], failed[2])).fetchone()
                if known[1] is not None:
                    raise ArchiveError(f"{self.where}: duplicate member {failed[9]!r}") from None
                raise ArchiveError(  # a folder that is named before it is written is never waiting
                    f"{self.where}: member {failed[9]!r} is not a directory, but other members lie below it"
                ) from None

    def _child(self, parent: int, name: str) -> tuple[int, int, bytes, int | None] | None:
        """(id, kind, folded hash, file behind) of a node, while the members are read."""
        row = self._waiting.get((parent, name))
        if row is not None:
            return row[0], row[3], row[4], row[7]
        if self._database is None:
            return None
        with temporary_storage():
            return self._db.execute(
                "SELECT id, kind, fold, behind FROM nodes WHERE parent = ? AND name = ?", (parent, name)
            ).fetchone()

    def _node(self, node: int) -> tuple[int, str, int, int | None]:
        with temporary_storage():
            return self._db.execute(
                "SELECT parent, name, kind, behind FROM nodes WHERE id = ?", (node,)
            ).fetchone()

    def path(self, node: int) -> str:
        names = []
        while node != _ROOT:
            node, name, _, _ = self._node(node)
            names.append(name)
        return "/".join(reversed(names))

    def earlier_file(self, parts: list[str]) -> int | None:
        """The file behind an earlier file member or hard link at ``parts``, for a hard link
        to repeat; None when there is none."""
        row = None
        node = _ROOT
        for part in parts:
            row = self._child(node, part)
            if row is None:
                return None
            node = row[0]
        if row is None:
            return None
        return row[0] if row[1] == FILE else row[3] if row[1] == HARDLINK else None

    def _walk(self, node: int, parts: Iterator[str], link: int | str, budget: int) -> tuple[int, int, int]:
        """Follow ``parts`` from the folder ``node`` through the symlinks, as a file system
        would: the node reached, how many parts past it no member names, and the links
        followed (at most ``budget``). ``link``: the link (node or path) errors name.

        A symlink's own resolution from its folder is the same wherever the walk comes
        from, so it is found once and written beside it."""
        beyond = hops = 0
        for part in parts:
            if part == "..":
                if beyond:
                    beyond -= 1
                elif node == _ROOT:
                    raise self._link_error(link, "leads outside the archive through other links")
                else:
                    node = self._node(node)[0]
                continue
            if beyond:  # nothing lies below a path no member names
                beyond += 1
                continue
            with temporary_storage():
                row = self._db.execute(_LINK, (node, part)).fetchone()
            if row is None:
                beyond = 1
            elif row[1] != SYMLINK:
                node = row[0]
            else:
                hops += 1
                if hops > budget:
                    raise self._link_error(link, "goes round in a loop of links")
                if row[3] is None:
                    resolved = self._walk(node, _parts(row[2]), link, budget - hops)
                    with temporary_storage():
                        self._db.execute(
                            "UPDATE nodes SET resolved = ?, beyond = ?, hops = ? WHERE id = ?",
                            (*resolved, row[0]),
                        )
                else:
                    resolved = row[3], row[4], row[5]
                if hops + resolved[2] > budget:
                    raise self._link_error(link, "goes round in a loop of links")
                node, beyond = resolved[0], resolved[1]
                hops += resolved[2]
        return node, beyond, hops

    def _link_error(self, link: int | str, what: str) -> ArchiveError:
        return ArchiveError(
            f"{self.where}: link {link if isinstance(link, str) else self.path(link)!r} {what}"
        )

    def _symlink_rows(self, condition: str, descending: bool = False) -> Iterator[tuple[int, int, str, int]]:
        """(id, parent, target, node reached) of each symlink (``l``) that meets ``condition``,
        in the archive's order or the reverse."""
        last = 1 << 62 if descending else -1
        order, after = ("DESC", "<") if descending else ("ASC", ">")
        while True:
            with temporary_storage():
                rows = self._db.execute(
                    f"SELECT id, parent, target, resolved FROM nodes AS l WHERE kind = {SYMLINK} "
                    f"AND id {after} ? AND {condition} ORDER BY id {order} LIMIT {_BATCH}",
                    (last,),
                ).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def check_links(self) -> None:
        """Once the members are read: follow every symlink through the others, none may lead
        out of the top folder or round in a loop; and find any name written before repeated
        by one still waiting."""
        if self._database is not None or self._symlinks:
            self.flush()
        if not self._symlinks:
            return
        for link, parent, target, _ in self._symlink_rows("resolved IS NULL"):
            resolved = self._walk(parent, _parts(target), link, _MAX_HOPS)
            with temporary_storage():
                self._db.execute(
                    "UPDATE nodes SET resolved = ?, beyond = ?, hops = ? WHERE id = ?", (*resolved, link)
                )

    def file_behind(self, path: str) -> str | None:
        """The regular file a member's path leads to through symlinks and hard links (what
        an extracted tree opens), or None when it leads to no file of the archive."""
        self.flush()
        node, beyond, _ = self._walk(_ROOT, _parts(path), path, _MAX_HOPS)
        if beyond:
            return None
        _, _, kind, behind = self._node(node)
        if kind == HARDLINK:
            assert behind is not None
            node, kind = behind, FILE
        return self.path(node) if kind == FILE else None

    def digest_of(self, path: str) -> str | None:
        """The first digest noted for the file member at ``path``."""
        self.flush()
        node = _ROOT
        for part in path.split("/"):
            row = self._child(node, part)
            if row is None:
                return None
            node = row[0]
        with temporary_storage():
            row = self._db.execute("SELECT digest FROM nodes WHERE id = ?", (node,)).fetchone()
        return row[0] if row else None

    def paths_through_linked_folders(self, most: int) -> Iterator[str]:
        """The paths an extracted tree has, and no member names, below a symlink to a folder
        (``link/file`` for each member ``folder/file``), through up to 8 such links in a
        row. A link back to a folder above it only repeats names under longer ones and is
        not entered. At most ``most`` paths: links to big folders could make too many."""
        if not self._symlinks:
            return
        self.flush()
        for link, _, _, _ in self._symlink_rows(
            f"hops >= {_MAX_HOPS}"
        ):  # walked from the top, the link is one more
            raise self._link_error(link, "goes round in a loop of links")
        count = 0
        to_folders = f"beyond = 0 AND (SELECT kind FROM nodes AS t WHERE t.id = l.resolved) = {DIR}"
        for link, _, _, folder in self._symlink_rows(to_folders, descending=True):
            pending = [(self.path(link), folder, 1)]
            while pending:
                alias, folder, depth = pending.pop()
                for below, node, kind in self._below(folder):
                    count += 1
                    if count > most:
                        raise ArchiveError(
                            f"{self.where}: more than {most} paths through links to folders (--max-members)"
                        )
                    path = f"{alias}/{below}"
                    yield path
                    if kind != SYMLINK or depth >= 8:
                        continue
                    with temporary_storage():
                        inner = self._db.execute(
                            f"SELECT resolved FROM nodes AS l WHERE id = ? AND {to_folders}", (node,)
                        ).fetchone()
                    if inner is not None and not self._above(inner[0], node):
                        pending.append((path, inner[0], depth + 1))

    def _above(self, folder: int, node: int) -> bool:
        """Whether ``folder`` holds ``node``, however deep (the top folder holds everything)."""
        while node != _ROOT:
            node = self._node(node)[0]
            if node == folder:
                return True
        return folder == _ROOT

    def _below(self, folder: int) -> Iterator[tuple[str, int, int]]:
        """(path relative to ``folder``, node, kind) of everything below it but folders,
        folder by folder in the order of names, a page of children at a time (one at a time
        deep down, so that what waits stays small however deep the folders go)."""
        names: list[str] = []
        frames = [(folder, self._page(folder, "", 0))]
        while frames:
            node, page = frames[-1]
            if not page:
                frames.pop()
                if frames:
                    names.pop()
                continue
            child, name, kind = page.pop()
            if not page:
                page += self._page(node, name, len(frames))
            if kind == DIR:
                names.append(name)
                frames.append((child, self._page(child, "", len(frames))))
            else:
                yield "/".join([*names, name]), child, kind

    def _page(self, parent: int, after: str, depth: int) -> list[tuple[int, str, int]]:
        """The next children of ``parent`` after the name ``after``, the first last."""
        with temporary_storage():
            rows = self._db.execute(
                "SELECT id, name, kind FROM nodes WHERE parent = ? AND name > ? ORDER BY name LIMIT ?",
                (parent, after, _PAGE if depth < _PAGE else 1),
            ).fetchall()
        rows.reverse()
        return rows

    def case_clashes(self) -> tuple[int, tuple[str, str] | None]:
        """How many members have a path that differs only in case or Unicode normalisation
        (NFC and NFD) from an earlier member's, and the first such pair (earlier, later)."""
        if self._database is None:  # all in memory: a clash is rare, and then found in the database
            folds = [row[4] for row in self._waiting.values() if row[5] is not None]
            if len(set(folds)) == len(folds):
                return 0, None
        self.flush()
        with temporary_storage():  # an index (a sort) and a scan of it beat a count of distinct values
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS folds ON nodes (fold, member) WHERE member IS NOT NULL"
            )
            (count,) = self._db.execute(
                "SELECT COUNT(*) - COUNT(DISTINCT fold) FROM nodes WHERE member IS NOT NULL"
            ).fetchone()
            if not count:
                return 0, None
            later, earlier = self._db.execute(
                "SELECT b.id, (SELECT a.id FROM nodes AS a WHERE a.fold = b.fold AND a.member IS NOT NULL "
                "ORDER BY a.member LIMIT 1) FROM nodes AS b WHERE b.member IS NOT NULL AND EXISTS "
                "(SELECT 1 FROM nodes AS a WHERE a.fold = b.fold AND a.member < b.member) "
                "ORDER BY b.member LIMIT 1"
            ).fetchone()
        return count, (self.path(earlier), self.path(later))
