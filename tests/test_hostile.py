"""Hostile inputs: bombs, limits and their flags, every kind of bad name, and crash safety."""

from __future__ import annotations

import io
import json
import random
import signal
import subprocess
import sys
import tarfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import raw_tar
from conftest import CPYTHON_311, DATA, ROOT, cpython_tree, peak_rss, sbomgen, write_tar
from raw_tar import TOP

from sbomgen.errors import ArchiveError
from sbomgen.read.archive import ArchiveReader, Limits, check_zip_entries


def fails(tmp_path: Path, artifact: Path, code: int, *fragments: str, options: tuple[str, ...] = ()) -> None:
    out = tmp_path / "out.json"
    run = sbomgen("tarball", artifact, "-o", out, *options)
    assert run.returncode == code, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("sbomgen: error: ")
    assert "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in run.stderr
    assert not out.exists()


def test_zip_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "Python-3.99.0.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("Python-3.99.0/zeros", "w", force_zip64=True) as member,
    ):
        chunk = bytes(1 << 20)
        for _ in range(300):
            member.write(chunk)
    assert bomb.stat().st_size < 2 << 20
    fails(tmp_path, bomb, 3, "expands more than 250 times", "--max-ratio")


def test_huge_member_is_refused_before_reading(tmp_path: Path) -> None:
    # A header that claims 64 GiB with no data behind it: refused from the header alone.
    path = tmp_path / "Python-3.99.0.tar"
    info = tarfile.TarInfo("Python-3.99.0/huge.bin")
    info.size = 64 << 30
    path.write_bytes(info.tobuf(format=tarfile.GNU_FORMAT))
    fails(tmp_path, path, 3, "'Python-3.99.0/huge.bin' is 68719476736 bytes", "--max-member-size")


def sparse_tar(tmp_path: Path, hole: int, tar_format: str) -> Path:
    """A real sparse archive made by GNU tar: one file that is all hole."""
    tree = tmp_path / tar_format / "Python-3.99.0"
    tree.mkdir(parents=True)
    with (tree / "sparse.bin").open("wb") as handle:
        handle.truncate(hole)
    path = tmp_path / f"Python-3.99.0-{tar_format}.tar.gz"
    subprocess.run(
        ["tar", "--sparse", f"--format={tar_format}", "-czf", path, "-C", tree.parent, "Python-3.99.0"],
        check=True,
    )
    return path


@pytest.mark.parametrize("tar_format", ["gnu", "pax"])
def test_sparse_members(tmp_path: Path, tar_format: str) -> None:
    # 64 GiB of hole in a few hundred bytes: refused by its expanded size, nothing inflated.
    huge = sparse_tar(tmp_path, 64 << 30, tar_format)
    assert huge.stat().st_size < 4096
    fails(tmp_path, huge, 3, "'Python-3.99.0/sparse.bin' is 68719476736 bytes", "--max-member-size")
    # Within the limits a sparse member is still refused: a source release has none.
    small = sparse_tar(tmp_path / "small", 1 << 20, tar_format)
    fails(tmp_path, small, 3, "'Python-3.99.0/sparse.bin' is a sparse file: not supported")


@pytest.mark.parametrize("mtime", [1 << 40, -(1 << 40)])
def test_impossible_modification_time(tmp_path: Path, mtime: int) -> None:
    # Base-256 times tens of thousands of years away: refused, not a crash in date handling.
    path = tmp_path / "Python-3.99.0.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as archive:
        info = tarfile.TarInfo("Python-3.99.0/README")
        info.size, info.mtime = 2, mtime
        archive.addfile(info, io.BytesIO(b"hi"))
    fails(tmp_path, path, 3, "'Python-3.99.0/README' has an impossible modification time")


@pytest.mark.parametrize("command", ["tarball", "provenance"])
def test_impossible_source_date_epoch(tmp_path: Path, command: str) -> None:
    path = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    extra = ("--builder-id", "https://ci.example.org/b") if command == "provenance" else ()
    out = tmp_path / "out"
    for epoch in (str(1 << 40), "1" + "0" * 30):
        run = sbomgen(
            command,
            path,
            "-o" if command == "tarball" else "-d",
            out,
            *extra,
            env={"SOURCE_DATE_EPOCH": epoch},
        )
        assert run.returncode == 2, run.stderr
        assert (
            run.stderr
            == f"sbomgen: error: SOURCE_DATE_EPOCH is not a time between the years 1 and 9999: {epoch!r}\n"
        )
        assert not out.exists()


def test_wheel_bomb_in_bundled(tmp_path: Path) -> None:
    # METADATA that inflates to 16 MiB inside the bundled wheel: refused, not read.
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pip-99.0.dist-info/METADATA", b"Name: pip\nVersion: 99.0\n" + bytes(16 << 20))
    tree = cpython_tree()
    tree["Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"] = wheel.getvalue()
    fails(tmp_path, write_tar(tmp_path / "a.tgz", tree), 4, "implausibly large")


def test_tens_of_thousands_of_members_in_the_memory_of_a_few(tmp_path: Path) -> None:
    """Listed files wait on disk, not in memory: 60,000 members and 6,000 (about a CPython
    release) take the same peak memory, under the 64 MB target."""

    def peak_rss_mb(artifact: Path) -> float:
        output = str(tmp_path / "out.json")
        status, peak = peak_rss(["tarball", str(artifact), "-o", output, "--offline"])
        assert status == 0
        return peak / 1024

    def members(count: int) -> dict[str, bytes]:
        return {f"Lib/package_{n // 1000:02}/module_{n:05}.py": b"" for n in range(count)}

    (tmp_path / "few").mkdir()
    (tmp_path / "many").mkdir()
    few = peak_rss_mb(write_tar(tmp_path / "few" / "Python-3.99.0.tgz", cpython_tree(**members(6_000))))
    lots = peak_rss_mb(write_tar(tmp_path / "many" / "Python-3.99.0.tgz", cpython_tree(**members(60_000))))
    assert json.loads((tmp_path / "out.json").read_bytes())["files"][-1]["fileName"] == "Python/ceval.c"
    assert lots < 64
    assert lots < few * 1.25, (few, lots)


def test_limit_flags(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    fails(tmp_path, path, 3, "more than 2 members (--max-members)", options=("--max-members", "2"))
    fails(
        tmp_path, path, 3, "over the limit of 100 (--max-member-size)", options=("--max-member-size", "100")
    )
    fails(tmp_path, path, 3, "more than 64 bytes (--max-total-size)", options=("--max-total-size", "64"))
    fails(tmp_path, path, 3, "opened whole (--max-nested-size)", options=("--max-nested-size", "64"))
    run = sbomgen(
        "tarball", path, "-o", tmp_path / "ok.json", "--max-members", "10", "--max-nested-size", "1M"
    )
    assert run.returncode == 0, run.stderr
    bad = sbomgen("tarball", path, "--max-total-size", "lots")
    assert bad.returncode == 2 and "not a size" in bad.stderr


def tar_with(tmp_path: Path, *members: tarfile.TarInfo) -> Path:
    path = tmp_path / "Python-3.99.0.tar"
    with tarfile.open(
        path, "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as archive:
        for name, content in cpython_tree().items():
            info = tarfile.TarInfo(f"Python-3.99.0/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for member in members:
            archive.addfile(member, io.BytesIO(b"x" * member.size) if member.isreg() else None)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = 1 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (member("Python-3.99.0/Lib\\evil.py"), "contains a backslash"),
        (member("Python-3.99.0/Lib/\udcff\udcfe.py"), "not valid UTF-8"),
        (member("Python-3.99.0/fifo", tarfile.FIFOTYPE), "device or special file"),
        (member("Python-3.99.0/dev", tarfile.CHRTYPE), "device or special file"),
        (member("Python-3.99.0/hard", tarfile.LNKTYPE, "/etc/shadow"), "absolute path"),
        (member("Python-3.99.0/hard", tarfile.LNKTYPE, "Python-3.99.0/not-there"), "not an earlier file"),
        (member("Python-3.99.0/hard", tarfile.LNKTYPE, "Python-3.99.0/../../etc/shadow"), "'..'"),
        (member("Python-3.99.0/soft", tarfile.SYMTYPE, "../../../etc/shadow"), "points outside the archive"),
        (member("Python-3.99.0/soft", tarfile.SYMTYPE, "/etc/shadow"), "points outside the archive"),
    ],
)
def test_bad_names_and_kinds(tmp_path: Path, bad: tarfile.TarInfo, message: str) -> None:
    fails(tmp_path, tar_with(tmp_path, bad), 3, message)


def test_a_directory_with_a_non_utf8_name_is_refused_like_a_member(tmp_path: Path) -> None:
    """An unpacked tree follows the members' name policy: exit 3, not a traceback."""
    import os

    tree = tmp_path / "Python-3.99.0"
    for name, content in cpython_tree().items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(content)
    with open(os.path.join(os.fsencode(tree / "Lib"), b"\xff\xfe.py"), "wb") as bad:
        bad.write(b"")
    fails(tmp_path, tree, 3, "not valid UTF-8")


def test_names_differing_only_in_case_are_recorded_with_a_warning(tmp_path: Path) -> None:
    path = tar_with(tmp_path, member("Python-3.99.0/README"), member("Python-3.99.0/readme"))
    out = tmp_path / "out.json"
    run = sbomgen("tarball", path, "-o", out)
    assert run.returncode == 0, run.stderr
    assert "differ only in case" in run.stderr
    names = {f["fileName"] for f in json.loads(out.read_text())["files"]}
    assert {"README", "readme"} <= names


def test_links_inside_are_not_files(tmp_path: Path) -> None:
    path = tar_with(tmp_path, member("Python-3.99.0/link", tarfile.SYMTYPE, "Python/ceval.c"))
    run = sbomgen("tarball", path, "-o", "-")
    assert run.returncode == 0, run.stderr
    assert "link" not in {f["fileName"] for f in json.loads(run.stdout)["files"]}


def test_sigkill_never_leaves_a_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    old = b'{"old": "output"}\n'
    reference = tmp_path / "reference.json"
    assert sbomgen("tarball", CPYTHON_311, "-o", reference, "--offline").returncode == 0
    complete = reference.read_bytes()
    rng = random.Random(20261121)
    for _ in range(12):
        out.write_bytes(old)
        process = subprocess.Popen(
            [sys.executable, "-m", "sbomgen", "tarball", str(CPYTHON_311), "-o", str(out), "--offline"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        time.sleep(rng.uniform(0.05, 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait()
        content = out.read_bytes()
        assert content in (old, complete), f"partial output of {len(content)} bytes"


EVIL = raw_tar.member(f"{TOP}Lib/evil.py", b"import evil\n")


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        # Content behind links and directories: other readers would take it for headers.
        (
            raw_tar.member(f"{TOP}Lib/x.py", b"x\n")
            + raw_tar.header(f"{TOP}Lib/y.py", b"1", len(EVIL), link=f"{TOP}Lib/x.py")
            + EVIL,
            "a hard link with 1024 bytes of content",
        ),
        (raw_tar.header(f"{TOP}Lib/", b"5", len(EVIL)) + EVIL, "a directory with 1024 bytes of content"),
        (raw_tar.header(f"{TOP}Lib/s", b"2", len(EVIL), link="x.py") + EVIL, "a symlink with 1024 bytes"),
        (raw_tar.member(f"{TOP}Lib/d/", b"data"), "a regular file with a directory's name and content"),
        # Members written through a link once extracted.
        (
            raw_tar.member(f"{TOP}Modules/x.c", b"good\n")
            + raw_tar.member(f"{TOP}Lib", kind=b"2", link="Modules")
            + raw_tar.member(f"{TOP}Lib/x.c", b"evil\n"),
            "lies below 'Lib', which is a link",
        ),
        (
            raw_tar.member(f"{TOP}a/b", b"file\n") + raw_tar.member(f"{TOP}a/b/c", b"x\n"),
            "lies below 'a/b', which is a file",
        ),
        (
            raw_tar.member(f"{TOP}a/b/c", b"x\n") + raw_tar.member(f"{TOP}a/b", kind=b"2", link="c"),
            "is not a directory, but other members lie below it",
        ),
        # Links that stay inside by their names but not when followed through each other.
        (
            raw_tar.member(f"{TOP}y", kind=b"2", link=".")
            + raw_tar.member(f"{TOP}x", kind=b"2", link="y/y/.."),
            "leads outside the archive through other links",
        ),
        (
            raw_tar.member(f"{TOP}x", kind=b"2", link="y/..")
            + raw_tar.member(f"{TOP}y", kind=b"2", link="."),
            "leads outside the archive through other links",
        ),
        (
            raw_tar.member(f"{TOP}a", kind=b"2", link="b/x")
            + raw_tar.member(f"{TOP}b", kind=b"2", link="a/x"),
            "goes round in a loop of links",
        ),
        (raw_tar.member(f"{TOP}s", kind=b"2", link="..\\..\\x"), "a NUL or a backslash in its target"),
        (raw_tar.member(f"{TOP}Lib2", kind=b"1", link=f"{TOP}Include"), "which is not an earlier file"),
        # Headers that tar implementations read differently.
        (
            raw_tar.pax({"path": f"{TOP}a.py"}) + raw_tar.pax({"mtime": "1"}) + EVIL,
            "more than one pax header",
        ),
        (raw_tar.long_name(f"{TOP}a.py") + raw_tar.long_name(f"{TOP}b.py") + EVIL, "more than one long-name"),
        (raw_tar.pax({"path": f"{TOP}g.py"}, kind=b"g") + EVIL, "a global pax header that sets path"),
        (raw_tar.pax({"size": "12"}, kind=b"g") + EVIL, "a global pax header that sets size"),
        (
            raw_tar.member(f"{TOP}a.py", b"x", magic=raw_tar.GNU, prefix="Tools"),
            "a GNU tar header with a name prefix",
        ),
        (raw_tar.pax({"size": "1_024"}) + EVIL, "malformed pax size '1_024'"),
        (raw_tar.header(f"{TOP}a.py", size_field=b"0000_002000\x00") + EVIL, "bad size field"),
        (raw_tar.pax({"mtime": "1e999"}) + EVIL, "malformed pax time '1e999'"),
    ],
    ids=lambda value: "" if isinstance(value, bytes) else value.split(":")[0][:40],
)
def test_ambiguous_archives_are_refused(tmp_path: Path, archive: bytes, message: str) -> None:
    path = tmp_path / "Python-3.99.0.tar"
    path.write_bytes(raw_tar.release(archive))
    fails(tmp_path, path, 3, message)


def test_data_after_the_end_of_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Python-3.99.0.tar"
    path.write_bytes(raw_tar.release() + EVIL + raw_tar.END)  # what `tar -i` would still extract
    fails(tmp_path, path, 3, "data after the end-of-archive block")


def test_extended_headers_count_against_the_limits(tmp_path: Path) -> None:
    global_header = raw_tar.pax({"comment": "x" * 1000}, kind=b"g")
    path = tmp_path / "Python-3.99.0.tar"
    path.write_bytes(raw_tar.release(global_header * 200))
    fails(tmp_path, path, 3, "--max-total-size", options=("--max-total-size", "100K"))


@pytest.mark.parametrize(
    "archive",
    [
        raw_tar.long_name(f"{TOP}Lib/evil.py")
        + raw_tar.member(f"{TOP}Lib/d/", b"import evil\n", kind=b"\x00"),
        raw_tar.pax({"path": f"{TOP}Lib/evil.py"})
        + raw_tar.member(f"{TOP}Lib/d/", b"import evil\n", kind=b"\x00"),
        raw_tar.member(f"{TOP}Lib/os.py/") + raw_tar.member(f"{TOP}Lib/os.py/evil.py", b"evil\n"),
        raw_tar.member("Lib/a.py", b"evil\n", magic=b"ustar\x00  ", prefix=f"{TOP}Tools"),
        raw_tar.long_name(f"{TOP}{'long/' * 40}name.py") + raw_tar.member(f"{TOP}short", b"x"),
    ],
    ids=[
        "gnu-long-name-over-a-slash",
        "pax-path-over-a-slash",
        "regular-type-with-a-slash",
        "prefix",
        "long",
    ],
)
def test_files_are_the_ones_gnu_tar_sees(tmp_path: Path, archive: bytes) -> None:
    """Where the final name decides what a member is, sbomgen lists what GNU tar extracts."""
    path = tmp_path / "Python-3.99.0.tar"
    path.write_bytes(raw_tar.release(archive))
    listing = subprocess.run(["tar", "-tvf", path], capture_output=True, text=True, check=True).stdout
    expected = {
        line.split(None, 5)[5].removeprefix(TOP) for line in listing.splitlines() if line.startswith("-")
    }
    run = sbomgen("tarball", path, "-o", "-")
    assert run.returncode == 0, run.stderr
    assert {f["fileName"] for f in json.loads(run.stdout)["files"]} == expected


def _source_with_a_big_wheel(tmp_path: Path) -> Path:
    """A CPython-like source whose bundled wheel (~1 KB) is over ``--max-nested-size 100``."""
    documents = {"Misc/sbom.spdx.json": b"{}", "Misc/externals.spdx.json": b"{}"}
    return write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree(**documents))


@pytest.mark.parametrize("command", ["tarball", "regenerate", "release --source"])
def test_every_command_opening_nested_archives_honours_the_nested_limit(tmp_path: Path, command: str) -> None:
    source = _source_with_a_big_wheel(tmp_path)
    if command == "tarball":
        arguments: list[str | Path] = ["tarball", source, "-o", tmp_path / "out.json"]
    elif command == "regenerate":
        reference = DATA / "cpython" / "Python-3.13.5.tar.xz.release-tools.spdx.json"
        arguments = ["regenerate", reference, "--tarball", source, "-o", tmp_path / "out.json"]
    else:
        folder = tmp_path / "release"
        folder.mkdir()
        (folder / "python-3.13.5-amd64.exe").write_bytes(b"MZ" + bytes(8000))
        arguments = ["release", folder, "--source", source, "--builder-id", "https://ci.example.org/w"]
    run = sbomgen(*arguments, "--max-nested-size", "100")
    wheel = "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"
    size = len(cpython_tree()[wheel])
    assert run.returncode == 3, run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        f"sbomgen: error: Python-3.99.0.tgz: {wheel} is {size} bytes, over the limit of 100 for a member "
        "opened whole (--max-nested-size)"
    )


def test_a_bundled_wheel_holds_no_more_members_than_the_artifact_may(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("pip-99.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pip\nVersion: 99.0\n")
        for n in range(60):
            wheel.writestr(f"pip/m{n}.py", "")
    tree = cpython_tree(**{"Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl": buffer.getvalue()})
    path = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    fails(
        tmp_path,
        path,
        3,
        "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl: more than 50 members (--max-members)",
        options=("--max-members", "50"),
    )


def test_zip_entries_are_counted_before_zipfile_reads_them(tmp_path: Path) -> None:
    """50,000 entries of a zip artifact are ~25 MB of zipfile's objects: refused from ~2 MB."""
    path = tmp_path / "Python-3.99.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(50_000):
            archive.writestr(zipfile.ZipInfo(f"Python-3.99.0/{n:x}"), b"")
    tracemalloc.start()
    try:
        with pytest.raises(
            ArchiveError, match=r"^Python-3.99.0.zip: more than 1000 members \(--max-members\)$"
        ):
            for _ in ArchiveReader(path, Limits(max_members=1000)).members():
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20, peak


@pytest.mark.parametrize("padding", [0, 1, 65_535, 65_536])
def test_zip_entries_are_counted_wherever_zipfile_finds_the_directory(padding: int) -> None:
    """Bytes after the end record, up to as far as zipfile searches for it: the count is made."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(50):
            archive.writestr(f"m{n}", b"")
    data = buffer.getvalue() + bytes(padding)
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 50  # zipfile still reads it
    with pytest.raises(ArchiveError, match=r"^w: more than 10 members \(--max-members\)$"):
        check_zip_entries(io.BytesIO(data), 10, "w")


def test_an_archive_error_is_reported_before_a_bad_document_read_earlier(tmp_path: Path) -> None:
    """CPython's SBOM data is parsed as it arrives, but a refusal of it waits for the end of
    the pass: a later link out of the archive is the error reported (exit 3), as when the
    document was parsed last."""
    tree = cpython_tree()
    tree["Misc/sbom.spdx.json"] = b"not json"
    archive = tmp_path / "Python-3.99.0.tar"
    write_tar(archive, tree, mode="w")
    with tarfile.open(archive, "a") as out:
        link = tarfile.TarInfo("Python-3.99.0/zz-out")
        link.type, link.linkname = tarfile.SYMTYPE, "../../etc/passwd"
        out.addfile(link)
    run = sbomgen("tarball", archive, "-o", tmp_path / "out.json")
    assert run.returncode == 3, run.stderr
    assert "points outside the archive" in run.stderr, run.stderr
    assert len(run.stderr.splitlines()) == 1, run.stderr
