"""The member-name checks as sbomgen made them before they moved to a trie on disk: every
name, prefix and link in memory. Quadratic on deep paths and long link targets, but plain
to read: the oracle the trie (sbomgen/read/names.py) is compared with in test_names.py."""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterator

from sbomgen.errors import ArchiveError
from sbomgen.read.archive import Kind


def _fold(path: str) -> str:
    """The key under which names that a case-insensitive or normalising file system (macOS
    APFS/HFS+, Windows) would take for one are equal: Unicode's canonical caseless match."""
    if path.isascii():
        return path.casefold()
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", path).casefold())


class Tracker:
    """Shared checks: one top folder, no duplicates, nothing below a file or a link, hard
    links to earlier files, symlinks that stay inside when followed through each other."""

    def __init__(self, where: str, top_folder: bool = True) -> None:
        self.where = where
        self.top_folder = top_folder
        self.top: str | None = None
        self.seen: dict[str, Kind] = {}
        self.directories: set[str] = set()  # named by a member or holding one
        self.symlinks: dict[str, str] = {}  # path -> target as written
        self.hardlinks: dict[str, str] = {}  # path -> the earlier member it repeats
        self.folded: dict[str, str] = {}
        self.case_clashes: list[tuple[str, str]] = []

    def _remember(self, rel: str, name: str, kind: Kind) -> None:
        if rel in self.seen:
            raise ArchiveError(f"{self.where}: duplicate member {name!r}")
        parent = rel.rpartition("/")[0]
        if parent and parent not in self.directories:
            parts = parent.split("/")
            for depth in range(1, len(parts) + 1):
                above = "/".join(parts[:depth])
                if self.seen.get(above, Kind.DIR) is not Kind.DIR:
                    raise ArchiveError(
                        f"{self.where}: member {name!r} lies below {above!r}, which is a "
                        f"{'link' if self.seen[above] in (Kind.SYMLINK, Kind.HARDLINK) else 'file'}"
                    )
                self.directories.add(above)
        if kind is Kind.DIR:
            self.directories.add(rel)
        elif rel in self.directories:
            raise ArchiveError(
                f"{self.where}: member {name!r} is not a directory, but other members lie below it"
            )
        self.seen[rel] = kind
        other = self.folded.setdefault(_fold(rel), rel)
        if other != rel:
            self.case_clashes.append((other, rel))

    def place(self, parts: list[str], name: str, kind: Kind) -> str | None:
        """Return the path below the top folder, or None for the top folder itself."""
        is_dir = kind is Kind.DIR
        if not parts:
            if is_dir:
                return None
            raise ArchiveError(f"{self.where}: member has an empty name")
        if not self.top_folder:  # members are relative to the archive's root
            rel = "/".join(parts)
            self._remember(rel, name, kind)
            return rel
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
        rel = "/".join(parts[1:])
        self._remember(rel, name, kind)
        return rel

    def is_file(self, rel: str) -> bool:
        return self.seen.get(rel) in (Kind.FILE, Kind.HARDLINK)

    def _follow(self, folder: list[str], target: str, link: str) -> list[str]:
        """Walk ``target`` from ``folder`` through the symlinks, as a file system would."""
        current = list(folder)
        pending = [p for p in reversed(target.split("/")) if p not in ("", ".")]
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if not current:
                    raise ArchiveError(
                        f"{self.where}: link {link!r} leads outside the archive through other links"
                    )
                current.pop()
                continue
            candidate = "/".join([*current, part])
            if candidate in self.symlinks:
                hops += 1
                if hops > 40:
                    raise ArchiveError(f"{self.where}: link {link!r} goes round in a loop of links")
                pending += [p for p in reversed(self.symlinks[candidate].split("/")) if p not in ("", ".")]
            else:
                current.append(part)
        return current

    def check_links(self) -> None:
        """Follow every symlink through the others: none may lead out of the top folder or
        round in a loop."""
        for link, target in self.symlinks.items():
            self._follow(link.split("/")[:-1], target, link)

    def paths_through_linked_folders(self, most: int) -> Iterator[str]:
        """The paths an extracted tree has, and no member names, below a symlink to a folder
        (``link/file`` for each member ``folder/file``), through up to 8 such links in a
        row. A link back to a folder above it only repeats names under longer ones and is
        not entered. At most ``most`` paths: links to big folders could make too many."""
        folders: dict[str, str] = {}
        for link in self.symlinks:
            target = "/".join(self._follow([], link, link))
            if target == "" or target in self.directories:
                folders[link] = target
        if not folders:
            return
        paths = sorted(path for path, kind in self.seen.items() if kind is not Kind.DIR)
        pending = [(link, folder, 1) for link, folder in folders.items()]
        count = 0
        while pending:
            link, folder, depth = pending.pop()
            prefix = f"{folder}/" if folder else ""
            index = bisect.bisect_left(paths, prefix)
            while index < len(paths) and paths[index].startswith(prefix):
                path = paths[index]
                count += 1
                if count > most:
                    raise ArchiveError(
                        f"{self.where}: more than {most} paths through links to folders (--max-members)"
                    )
                alias = f"{link}/{path[len(prefix) :]}"
                yield alias
                inner = folders.get(path)
                if inner is not None and depth < 8 and not (inner == "" or path.startswith(f"{inner}/")):
                    pending.append((alias, inner, depth + 1))
                index += 1

    def file_behind(self, rel: str) -> str | None:
        """The regular file a member's path leads to through symlinks and hard links (what
        an extracted tree opens), or None when it leads to no file of the archive."""
        path = "/".join(self._follow([], rel, rel))
        while path in self.hardlinks:  # each repeats an earlier member: no loop
            path = self.hardlinks[path]
        return path if self.seen.get(path) is Kind.FILE else None
