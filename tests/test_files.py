"""The file table: an artifact's files on disk, read back exactly as they went in."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cpython_tree, write_tar

from sbomgen.model import Checksum, FileEntry
from sbomgen.model.files import FileTable


def entry(path: str, content: bytes, algorithms: tuple[str, ...] = ("SHA1", "SHA256")) -> FileEntry:
    checksums = tuple(Checksum(a, hashlib.new(a.lower(), content).hexdigest()) for a in algorithms)
    return FileEntry(path, len(content), checksums)


def test_entries_come_back_in_the_order_they_went_in() -> None:
    entries = [entry(p, p.encode()) for p in ("b/z.py", "a.py", "b/a.py", "é.txt", "A.py")]
    entries.append(entry("x.bin", b"x", ("SHA1", "SHA256", "SHA512")))
    table = FileTable(entries)
    assert list(table) == entries
    assert len(table) == 6
    assert list(table.paths()) == [e.path for e in entries]
    assert [row[0] for row in table.rows_by_path()] == sorted(e.path for e in entries)
    assert table.get("a.py") == entries[1]
    assert table.get("missing") is None
    assert "b/a.py" in table
    assert "b" not in table
    assert entries[0] not in table  # ``in`` asks about paths only
    assert not FileTable()


def test_a_path_added_again_keeps_its_place_and_owner() -> None:
    table = FileTable([entry("a", b"1"), entry("b", b"2")])
    table.claim(["a"], "expat")
    table.add(entry("a", b"changed"))
    assert list(table) == [entry("a", b"changed"), entry("b", b"2")]
    assert len(table) == 2
    assert list(table.claim_rest("cpython")) == ["b"]


def test_claims_go_to_the_first_claimer_and_the_rest_to_the_last() -> None:
    table = FileTable(entry(p, p.encode()) for p in ("z", "m/2", "m/1", "a", "k"))
    table.claim(["m/1", "m/2", "not-there"], "mpdecimal")
    table.claim(["m/1", "k"], "other")
    rest = table.claim_rest("cpython")
    assert list(rest) == ["a", "z"]
    assert len(rest) == 2
    assert rest == ("a", "z")
    assert "z" in rest and "k" not in rest
    assert rest[-1] == "z"
    assert hash(rest) == hash(("a", "z"))
    assert list(table.claim_rest("late")) == []


def test_sorted_digests_of_a_claimed_view_and_of_a_tuple_agree() -> None:
    table = FileTable(entry(f"f{n}", bytes([n])) for n in range(50))
    table.add(FileEntry("no-sha1", 0, (Checksum("SHA256", "0" * 64),)))
    everything = table.claim_rest("cpython")
    expected = sorted(e.digest("SHA1") or "" for e in table)
    assert expected[0] == ""
    assert list(table.sorted_digests(everything, "SHA1")) == expected
    assert list(table.sorted_digests(tuple(everything), "SHA1")) == expected


@pytest.mark.skipif(os.name != "posix", reason="POSIX unlinks the open database")
def test_a_killed_run_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The databases are unlinked as soon as they are open: killing sbomgen at any point
    leaves nothing in the temporary folder."""
    many = {f"Lib/module_{n:04}.py": b"pass\n" for n in range(3000)}
    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree(**many))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "sbomgen", "tarball", str(artifact), "-o", str(tmp_path / "o.json")]
    for delay in (0.3, 0.6, 0.9):
        process = subprocess.Popen([*command, "--offline"], env=env, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert list(scratch.iterdir()) == []
    assert subprocess.run([*command, "--offline"], env=env, capture_output=True).returncode == 0
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX unlinks the open database")
def test_the_table_holds_no_file_open_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    table = FileTable([entry("a", b"1")])
    assert list(tmp_path.iterdir()) == []
    assert table.get("a") == entry("a", b"1")


def test_a_collected_table_closes_its_database() -> None:
    import gc
    import weakref

    table = FileTable([entry("a", b"1")])
    database = table._db
    alive = weakref.ref(table)
    del table
    gc.collect()
    assert alive() is None
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        database.execute("SELECT 1")


def test_only_the_temporary_folders_errors_are_exit_6() -> None:
    """A full or failing folder is sbomgen's OutputError; a mistaken query stays a bug."""
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        list(FileTable([entry("a", b"1")]).sorted_digests(("a",), "MD5"))


def test_checksums_come_in_one_order_and_others_are_refused(tmp_path: Path) -> None:
    import sbomgen

    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    inventory = sbomgen.scan(artifact, checksums=("sha256", "SHA1"))
    assert {tuple(c.algorithm for c in e.checksums) for e in inventory.files} == {("SHA1", "SHA256")}
    with pytest.raises(ValueError, match="other than one each of SHA1, SHA256, SHA512"):
        FileTable([FileEntry("a", 1, (Checksum("MD5", "0" * 32),))])


def test_tables_compare_copy_and_pickle_by_their_entries(tmp_path: Path) -> None:
    import copy
    import pickle

    import sbomgen

    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    inventory = sbomgen.scan(artifact)
    assert inventory == sbomgen.scan(artifact)
    assert copy.deepcopy(inventory) == inventory
    root = inventory.component(inventory.root)
    assert pickle.loads(pickle.dumps(root)) == root
    assert pickle.loads(pickle.dumps(inventory.files)) == inventory.files
    assert inventory.files != FileTable(list(inventory.files)[1:])


def test_an_owned_view_indexes_and_compares_like_a_tuple() -> None:
    table = FileTable(entry(p, p.encode()) for p in ("c", "a", "b"))
    rest = table.claim_rest("cpython")
    assert (rest[0], rest[1], rest[-1], rest[-3]) == ("a", "b", "c", "a")
    with pytest.raises(IndexError):
        rest[3]
    with pytest.raises(IndexError):
        rest[-4]
    assert list(reversed(rest)) == ["c", "b", "a"]
    assert rest[1:] == ("b", "c")
    assert rest == ("a", "b", "c")
    assert rest != ["a", "b", "c"]
    assert rest != "abc"


def test_a_writer_used_again_before_its_document_is_written_says_so(tmp_path: Path) -> None:
    import sbomgen
    from sbomgen.write.spdx import SpdxWriter

    first = sbomgen.scan(write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree()))
    (tmp_path / "b").mkdir()
    other = sbomgen.scan(write_tar(tmp_path / "b" / "Python-3.99.0.tgz", cpython_tree(**{"Lib/x y.py": b""})))
    writer = SpdxWriter()
    pieces = writer.render_parts(first)
    writer.render(other)
    with pytest.raises(RuntimeError, match="prepared other files before this document was written"):
        b"".join(pieces)
    assert writer.render(first) == SpdxWriter().render(first)


def test_the_spdx_writer_keeps_nothing_per_file_in_memory(tmp_path: Path) -> None:
    """A scan and its SPDX document hold no Python object per file in the process that
    writes (no set of SPDX IDs, no list of entries): once written, its Python heap holds as
    much for 10,000 files as for 1,000, give or take less than 50 bytes a file (a string per
    file is more); its peak differs by at most what waits between the reading child and the
    writer (the pipe's 1 MiB of buffers, parsed), which depends on how the two are scheduled.
    Measured in a process of its own, which reads the archive in a forked child as the
    command line does (a test process has threads, so it would read in-process)."""
    for count in (100, 1_000, 10_000):
        tree = {"Include/patchlevel.h": b'#define PY_VERSION "3.99.0"\n'}
        tree.update({f"Lib/d{i // 500}/f{i}.py": b"" for i in range(count)})
        (tmp_path / str(count)).mkdir()
        write_tar(tmp_path / str(count) / "Python-3.99.0.tgz", tree)
    script = """if True:
        import sys, tracemalloc
        import sbomgen
        from sbomgen.write.spdx import SpdxWriter

        def peak(archive):
            tracemalloc.start()
            writer = SpdxWriter()
            for _ in writer.render_parts(sbomgen.scan(archive)):
                pass
            found = tracemalloc.get_traced_memory()  # (held now, the writer still alive; peak)
            tracemalloc.stop()
            return found

        for count in (100, 1000, 10000):
            print(*peak(f"{sys.argv[1]}/{count}/Python-3.99.0.tgz"))
    """
    command = [sys.executable, "-c", script, str(tmp_path)]
    output = subprocess.run(command, check=True, capture_output=True, cwd=Path(__file__).parents[1]).stdout
    _, small, large = [tuple(map(int, line.split())) for line in output.decode().splitlines()]
    assert large[0] - small[0] < 9_000 * 50, (small, large)
    assert large[1] - small[1] < 2 << 20, (small, large)
