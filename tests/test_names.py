"""The member-name checks (sbomgen/read/names.py): the same findings as the plain in-memory
checks they replace (reference_names.py) on generated member lists, and linear on the
hostile shapes that made those quadratic, run by the command under resource limits."""

from __future__ import annotations

import io
import lzma
import resource
import subprocess
import sys
import tarfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from conftest import sbomgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_tar import END, TOP, member, pax
from reference_names import Tracker

from sbomgen.errors import ArchiveError
from sbomgen.read import names
from sbomgen.read.archive import Kind

NFC, NFD = (unicodedata.normalize(form, "é") for form in ("NFC", "NFD"))
PARTS = ["a", "A", "b", "a-b", NFC, NFD]
CODES = {
    Kind.FILE: names.FILE,
    Kind.DIR: names.DIR,
    Kind.SYMLINK: names.SYMLINK,
    Kind.HARDLINK: names.HARDLINK,
}

paths = st.lists(st.sampled_from(PARTS), min_size=1, max_size=3)
targets = st.lists(st.sampled_from([*PARTS, *PARTS, "..", ".", ""]), max_size=5).map("/".join)
OUTSIDE = [[], ["other", "a"], ["T2"]]


@st.composite
def members(draw: Any) -> list[tuple[Kind, list[str], Any]]:
    """Mostly files, folders and symlinks (to paths, or anywhere); now and then a hard link
    (mostly to an earlier member) or a name outside the top folder."""
    entries: list[tuple[Kind, list[str], Any]] = []
    for _ in range(draw(st.integers(0, 16))):
        choice = draw(st.integers(0, 19))
        if choice < 10:
            entries.append((draw(st.sampled_from([Kind.FILE, Kind.DIR])), draw(paths), None))
        elif choice < 17:
            entries.append((Kind.SYMLINK, draw(paths), draw(st.one_of(targets, paths.map("/".join)))))
        elif choice < 19:
            earlier = [path for _, path, _ in entries if path and path[0] not in ("other", "T2")]
            entries.append(
                (Kind.HARDLINK, draw(paths), draw(st.sampled_from(earlier)) if earlier else draw(paths))
            )
        else:
            entries.append(
                (draw(st.sampled_from([Kind.FILE, Kind.DIR])), draw(st.sampled_from(OUTSIDE)), None)
            )
    return entries


def _run(entries: list[tuple[Kind, list[str], Any]], probes: list[str], most: int, new: int) -> Any:
    """What either checker finds, as the archive readers drive it; ``new``: the nodes the
    trie keeps in memory (0: the checks in memory)."""
    checker: Any = names.Names("w", in_memory=new) if new else Tracker("w")
    try:
        for kind, path, link in entries:
            parts = ["T", *path] if path and path[0] not in ("other", "T2") else path
            name = "/".join(parts) + ("/" if kind is Kind.DIR else "")
            behind = None
            if kind is Kind.HARDLINK:
                target_parts = ["T", *link]
                if target_parts == parts:
                    raise ArchiveError("w: points to itself")
                if new:
                    behind = checker.earlier_file(link) if checker.top == "T" else None
                    bad = behind is None
                else:
                    bad = checker.top != "T" or not checker.is_file("/".join(link))
                if bad:
                    raise ArchiveError("w: not an earlier file")
            if new:
                checker.place(parts, name, CODES[kind], link if kind is Kind.SYMLINK else None, behind)
                continue
            rel = checker.place(parts, name, kind)
            if rel is not None and kind is Kind.SYMLINK:
                checker.symlinks[rel] = link
            elif rel is not None and kind is Kind.HARDLINK:
                checker.hardlinks[rel] = "/".join(link)
        checker.check_links()
    except ArchiveError as exc:
        if not new:
            return str(exc)
        try:
            checker.flush()  # as the readers do: an earlier member's conflict comes first
        except ArchiveError as earlier:
            return str(earlier)
        return str(exc)
    if new:
        count, first = checker.case_clashes()
    else:
        count, first = len(checker.case_clashes), (checker.case_clashes or [None])[0]
    found: dict[str, Any] = {"clashes": (count, first)}
    try:
        found["aliases"] = sorted(checker.paths_through_linked_folders(most))
    except ArchiveError as exc:
        found["aliases"] = str(exc)
    for probe in [*probes, *(found["aliases"] if isinstance(found["aliases"], list) else ())]:
        try:
            found[probe] = checker.file_behind(probe)
        except ArchiveError as exc:
            found[probe] = str(exc)
    return found


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    members(), st.lists(paths.map("/".join), max_size=4), st.integers(1, 12), st.sampled_from([1, 2, 5, 1000])
)
def test_finding_what_the_names_in_memory_found(
    entries: Any, probes: list[str], most: int, in_memory: int
) -> None:
    probes += ["/".join(path) for _, path, _ in entries if path]
    assert _run(entries, probes, most, in_memory) == _run(entries, probes, most, 0)


def test_case_clashes_are_counted_with_the_first_pair() -> None:
    checker = names.Names("w")
    for path in ["Lib/a.py", "Lib/B/", "lib/A.py", "LIB/a.py", "Lib/b/", f"Lib/{NFC}", f"Lib/{NFD}"]:
        kind = names.DIR if path.endswith("/") else names.FILE
        checker.place(["T", *path.strip("/").split("/")], path, kind)
    assert checker.case_clashes() == (4, ("Lib/a.py", "lib/A.py"))


@pytest.mark.parametrize("in_memory", [1, 2, 1000])
def test_digests_are_kept_whether_the_names_wait_in_memory_or_not(in_memory: int) -> None:
    checker = names.Names("w", in_memory=in_memory)
    paths = ["a/x", "a/y", "b/z", "c"]
    for number, path in enumerate(paths):
        checker.place(["T", *path.split("/")], f"T/{path}", names.FILE)
        checker.note_digest(f"digest {number}")
    checker.check_links()
    assert [checker.digest_of(path) for path in [*paths, "a", "d"]] == [
        *(f"digest {number}" for number in range(4)),
        None,
        None,
    ]


# The shapes that made the checks in memory quadratic: one file 200,000 folders deep (400 KB
# of name; the checks in memory needed ~50 GB), a symlink target of 160,000 parts (hours),
# 100,000 links, each to the one before, all read by the command in a child process.
LIMIT_AS = 1 << 30
LIMIT_CPU = 60


def _deep(levels: int) -> bytes:
    name = TOP + "d/" * levels + "file"
    return pax({"path": name}) + member("placeholder", b"x")


def _long_target(parts: int) -> bytes:
    return pax({"linkpath": "/".join(["d"] * parts)}) + member(f"{TOP}link", kind=b"2")


def _links(count: int) -> bytes:
    chain = [member(f"{TOP}f/", kind=b"5"), member(f"{TOP}f/file", b"x\n")]
    chain += [member(f"{TOP}f/l{i}", kind=b"2", link=f"l{i - 1}" if i % 32 else "file") for i in range(count)]
    return b"".join(chain)


def _chain(count: int) -> bytes:
    return b"".join(member(f"{TOP}l{i}", kind=b"2", link=f"l{i + 1}") for i in range(count))


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))
    resource.setrlimit(resource.RLIMIT_CPU, (LIMIT_CPU, LIMIT_CPU))


@pytest.mark.parametrize(
    ("shape", "error"),
    [
        (_deep(200_000), None),
        (_long_target(160_000), None),
        (_links(100_000), None),
        (_chain(100_000), "link 'l0' goes round in a loop of links"),
    ],
    ids=["200,000 folders deep", "160,000-part link target", "100,000 links", "a chain of 100,000 links"],
)
def test_hostile_shapes_in_bounded_time_and_memory(tmp_path: Path, shape: bytes, error: str | None) -> None:
    base = member(TOP, kind=b"5") + member(f"{TOP}Include/patchlevel.h", b'#define PY_VERSION "3.99.0"\n')
    archive = tmp_path / "Python-3.99.0.tar.xz"
    archive.write_bytes(lzma.compress(base + shape + END, preset=1))
    command = [sys.executable, "-m", "sbomgen", "tarball", str(archive), "--offline"]
    command += ["--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out.json")]
    run = subprocess.run(command, capture_output=True, text=True, preexec_fn=_limited)
    if error is None:
        assert run.returncode == 0, run.stderr
    else:
        assert run.returncode == 3 and run.stderr.strip() == f"sbomgen: error: {archive.name}: {error}", (
            run.stderr
        )


@pytest.mark.parametrize("target", ["\x01\udc80", "a/\udc80"])
def test_a_link_target_refused_is_never_kept_by_the_checker(tmp_path: Path, target: str) -> None:
    """A bad link target is the error, whatever the name checker still holds when it is
    raised (it writes what waits first, to report an earlier conflict before it)."""
    archive = tmp_path / "Python-3.99.0.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT, errors="surrogateescape") as out:
        out.addfile(tarfile.TarInfo("Python-3.99.0/a"), io.BytesIO(b""))
        link = tarfile.TarInfo("Python-3.99.0/link")
        link.type, link.linkname = tarfile.SYMTYPE, target
        out.addfile(link)
    run = sbomgen("tarball", archive, "-o", tmp_path / "out.json")
    assert run.returncode == 3, run.stderr
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith("sbomgen: error: Python-3.99.0.tar: link 'Python-3.99.0/link' "), run.stderr
