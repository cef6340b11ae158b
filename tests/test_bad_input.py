"""Bad input: one clear line on stderr, a documented exit code, no traceback, no output."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from conftest import CPYTHON_313, cpython_tree, peak_rss, sbom_data, sbomgen, write_tar


def assert_fails(
    run_dir: Path, artifact: Path, exit_code: int, *fragments: str, env: dict[str, str] | None = None
) -> str:
    out = run_dir / "out" / "sbom.json"
    out.parent.mkdir(exist_ok=True)
    run = sbomgen("tarball", artifact, "-o", out, env=env)
    assert run.returncode == exit_code, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("sbomgen: error: ")
    assert "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert list(out.parent.iterdir()) == []  # no output, not even a temporary file
    return lines[0]


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "notes.tar.xz"
    path.write_text("these are release notes, not an archive\n")
    assert_fails(tmp_path, path, 3, "notes.tar.xz", "not a readable archive")


def test_random_bytes_named_tgz(tmp_path: Path) -> None:
    path = tmp_path / "Python-3.13.5.tgz"
    path.write_bytes(hashlib.sha512(b"seed").digest() * 4000)
    assert_fails(tmp_path, path, 3, "not a readable archive")


# Decompression on a thread of its own, or inline in the reading thread (python-isal's gzip).
DECOMPRESSORS = {
    "thread": {"SBOMGEN_DECOMPRESSION": "thread"},
    "inline": {"SBOMGEN_DECOMPRESSION": "inline"},
}


@pytest.mark.parametrize("decompressor", DECOMPRESSORS)
def test_random_bytes_behind_gzip_magic(tmp_path: Path, decompressor: str) -> None:
    path = tmp_path / "Python-3.13.5.tgz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + hashlib.sha512(b"seed").digest() * 100)
    assert_fails(tmp_path, path, 3, "not a readable archive", env=DECOMPRESSORS[decompressor])


@pytest.mark.parametrize("decompressor", DECOMPRESSORS)
def test_truncated_tar_xz(tmp_path: Path, decompressor: str) -> None:
    path = tmp_path / "Python-3.13.5.tar.xz"
    with CPYTHON_313.open("rb") as source:
        path.write_bytes(source.read(1_000_000))
    assert_fails(tmp_path, path, 3, "not a readable archive", "truncated", env=DECOMPRESSORS[decompressor])


@pytest.mark.parametrize("decompressor", DECOMPRESSORS)
@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz"])
def test_garbage_after_the_compressed_stream(tmp_path: Path, decompressor: str, mode: str) -> None:
    path = write_tar(tmp_path / "Python-3.99.0.tar.z", cpython_tree(), mode=mode)
    path.write_bytes(path.read_bytes() + b"not part of any stream")
    assert_fails(tmp_path, path, 3, "not a readable archive", env=DECOMPRESSORS[decompressor])


def test_truncated_plain_tar(tmp_path: Path) -> None:
    full = write_tar(tmp_path / "full.tar", cpython_tree(), mode="w")
    path = tmp_path / "cut.tar"
    path.write_bytes(full.read_bytes()[:1500])
    assert_fails(tmp_path, path, 3, "not a readable archive")


@pytest.mark.parametrize("name", ["Python-3.99.0/../../etc/passwd", "Python-3.99.0/Lib/../../escape.py"])
def test_member_with_dotdot(tmp_path: Path, name: str) -> None:
    path = write_tar(
        tmp_path / "a.tgz",
        {**{f"Python-3.99.0/{k}": v for k, v in cpython_tree().items()}, name: b"x"},
        top="",
    )
    assert_fails(tmp_path, path, 3, "'..'")


def test_member_with_absolute_path(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "a.tgz", {"/etc/cron.d/evil": b"x"}, top="")
    assert_fails(tmp_path, path, 3, "absolute path")


def test_symlink_out_of_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.tgz"
    with tarfile.open(path, "w:gz") as archive:
        link = tarfile.TarInfo("Python-3.99.0/Lib/evil")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../etc/shadow"
        archive.addfile(link)
    assert_fails(tmp_path, path, 3, "points outside the archive")


def test_device_file(tmp_path: Path) -> None:
    path = tmp_path / "a.tgz"
    with tarfile.open(path, "w:gz") as archive:
        device = tarfile.TarInfo("Python-3.99.0/dev/sda")
        device.type = tarfile.BLKTYPE
        archive.addfile(device)
    assert_fails(tmp_path, path, 3, "device or special file")


def test_duplicate_member(tmp_path: Path) -> None:
    path = tmp_path / "a.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for content in (b"one", b"two"):
            info = tarfile.TarInfo("Python-3.99.0/README")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    assert_fails(tmp_path, path, 3, "duplicate member")


def test_members_outside_one_top_folder(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "a.tgz", {"Python-3.99.0/README": b"a", "Other/README": b"b"}, top="")
    assert_fails(tmp_path, path, 3, "outside the top folder")


def test_sbom_data_not_json(tmp_path: Path) -> None:
    tree = cpython_tree()
    tree["Misc/sbom.spdx.json"] = b"{not json"
    path = write_tar(tmp_path / "a.tgz", tree)
    assert_fails(tmp_path, path, 4, "Misc/sbom.spdx.json: not JSON")


def test_bundled_wheel_not_a_zip(tmp_path: Path) -> None:
    tree = cpython_tree()
    tree["Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"] = b"this is not a zip file"
    path = write_tar(tmp_path / "a.tgz", tree)
    assert_fails(tmp_path, path, 4, "pip-99.0-py3-none-any.whl", "not a valid zip")


def test_listed_file_checksum_mismatch(tmp_path: Path) -> None:
    tree = cpython_tree()
    tree["Modules/expat/expat.h"] = b"#define XML_MAJOR_VERSION 2\n"
    tree["Misc/sbom.spdx.json"] = sbom_data({"Modules/expat/expat.h": b"something else\n"})
    path = write_tar(tmp_path / "a.tgz", tree)
    assert_fails(tmp_path, path, 4, "Modules/expat/expat.h: SHA256 is ", "--allow-mismatch")
    out = tmp_path / "allowed.json"
    run = sbomgen("tarball", path, "--allow-mismatch", "-o", out)
    assert run.returncode == 0, run.stderr
    assert "warning: 1 file(s) listed in CPython's SBOM data do not match" in run.stderr
    assert out.exists()


def test_listed_file_missing(tmp_path: Path) -> None:
    tree = cpython_tree()
    tree["Misc/sbom.spdx.json"] = sbom_data({"Modules/expat/xmlparse.c": b"gone\n"})
    path = write_tar(tmp_path / "a.tgz", tree)
    assert_fails(tmp_path, path, 4, "Modules/expat/xmlparse.c is missing from the artifact")


def test_version_disagrees_with_patchlevel(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "a.tgz", cpython_tree(version="3.99.1"))
    assert_fails(tmp_path, path, 4, "says version 3.99.0", "3.99.1")


def test_missing_input(tmp_path: Path) -> None:
    assert_fails(tmp_path, tmp_path / "nope.tar.xz", 2, "does not exist")  # as every command says it


def test_decompression_bomb_is_stopped(tmp_path: Path) -> None:
    # 300 MB of zeros packs into a few tens of kilobytes: far past the expansion limit.
    path = tmp_path / "Python-3.99.0.tar.xz"
    with lzma.open(path, "wb", preset=0) as packed, tarfile.open(fileobj=packed, mode="w|") as archive:
        info = tarfile.TarInfo("Python-3.99.0/zeros")
        info.size = 300 << 20
        archive.addfile(info, _Zeros(info.size))
    assert os.path.getsize(path) < 1 << 20
    assert_fails(tmp_path, path, 3, "decompression bomb")


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


@pytest.mark.parametrize("decompressor", DECOMPRESSORS)
@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz"])
def test_zero_padding_after_the_compressed_stream_is_fine(
    tmp_path: Path, decompressor: str, mode: str
) -> None:
    path = write_tar(tmp_path / "Python-3.99.0.tar.z", cpython_tree(), mode=mode)
    path.write_bytes(path.read_bytes() + bytes(10240))  # as tape-blocked writers leave it
    run = sbomgen("tarball", path, "-o", tmp_path / "out.json", env=DECOMPRESSORS[decompressor])
    assert run.returncode == 0, run.stderr


NOT_AN_SBOM = "not an SBOM sbomgen reads (SPDX JSON, CycloneDX JSON or CycloneDX XML)"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("diff", "{bad}", "{bad}"), f"{NOT_AN_SBOM}: not JSON"),
        (("report", "{bad}", "-o", "{dir}/report.html"), f"{NOT_AN_SBOM}: not JSON"),
        (("check", "{bad}", "--offline"), f"{NOT_AN_SBOM}: not JSON"),
        (("release", "{dir}", "--check", "{bad}"), "not JSON"),
    ],
    ids=["diff", "report", "check", "release-check"],
)
def test_named_documents_that_are_not_json(tmp_path: Path, command: tuple[str, ...], expected: str) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text("these are release notes\n")
    args = [arg.format(bad=bad, dir=tmp_path) for arg in command]
    run = sbomgen(*args)
    assert run.returncode == 4, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"sbomgen: error: {bad}: {expected} (Expecting value"), lines[0]


@pytest.mark.parametrize("command", ["diff", "report"])
def test_what_is_no_sbom_is_named_so_with_the_kinds_read(tmp_path: Path, command: str) -> None:
    """The release tarball given in place of its SBOM, or JSON of another kind: one line
    saying it is no SBOM sbomgen reads, which kinds it reads, and what the file is instead."""
    other = tmp_path / "package.json"
    other.write_text('{"name": "demo", "version": "1.0"}')
    for given, why in (
        (CPYTHON_313, "not UTF-8 (byte 0)"),
        (other, 'JSON without "spdxVersion" or "bomFormat": "CycloneDX"'),
    ):
        args = (given, given) if command == "diff" else (given, "-o", tmp_path / "report.html")
        run = sbomgen(command, *args)
        assert (run.returncode, run.stdout) == (4, b""), run.stderr
        assert run.stderr == f"sbomgen: error: {given}: {NOT_AN_SBOM}: {why}\n"
        assert not (tmp_path / "report.html").exists()


def _xz_streams(tmp_path: Path, padding: bytes) -> Path:
    """A tar.xz made of two xz streams (the tar split in two) with ``padding`` between."""
    plain = write_tar(tmp_path / "plain.tar", cpython_tree(), mode="w").read_bytes()
    half = len(plain) // 2
    path = tmp_path / "Python-3.99.0.tar.xz"
    path.write_bytes(lzma.compress(plain[:half]) + padding + lzma.compress(plain[half:]))
    return path


@pytest.mark.parametrize("decompressor", DECOMPRESSORS)
def test_xz_stream_padding_between_streams(tmp_path: Path, decompressor: str) -> None:
    """xz allows zero bytes between streams, four at a time (as `xz -dc` reads them)."""
    path = _xz_streams(tmp_path, b"\0" * 8)
    run = sbomgen("tarball", path, "-o", tmp_path / "out.json", "--offline", env=DECOMPRESSORS[decompressor])
    assert run.returncode == 0, run.stderr
    assert "Python/ceval.c" in {
        f["fileName"] for f in json.loads((tmp_path / "out.json").read_bytes())["files"]
    }
    bad = tmp_path / "bad"
    bad.mkdir()
    path = _xz_streams(bad, b"\0" * 3)
    assert_fails(bad, path, 3, "not a readable archive", "3 zero bytes between compressed streams")


def test_zeros_between_gzip_members_are_refused(tmp_path: Path) -> None:
    plain = write_tar(tmp_path / "plain.tar", cpython_tree(), mode="w").read_bytes()
    path = tmp_path / "Python-3.99.0.tgz"
    path.write_bytes(gzip.compress(plain[:1024]) + b"\0" * 4 + gzip.compress(plain[1024:]))
    for decompressor in DECOMPRESSORS.values():
        assert_fails(tmp_path, path, 3, "zero bytes between compressed streams", env=decompressor)


def test_long_zero_padding_is_digested_in_bounded_memory(tmp_path: Path) -> None:
    """Raw input that decompresses to nothing does not pile up waiting for its digest."""
    path = write_tar(tmp_path / "Python-3.99.0.tar.xz", cpython_tree(), mode="w:xz")
    with path.open("ab") as padded:
        for _ in range(64):
            padded.write(b"\0" * (4 << 20))  # 256 MiB in all
    out = tmp_path / "out.json"
    status, peak = peak_rss(
        ["tarball", str(path), "-o", str(out), "--offline"], env={"SBOMGEN_DECOMPRESSION": "thread"}
    )
    assert status == 0
    assert peak < 120 * 1024  # KiB: far below the padding's 256 MiB
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert json.loads(out.read_bytes())["documentNamespace"].endswith(digest)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_reading_process_is_reported_as_such(tmp_path: Path, signal_number: int) -> None:
    """Not as a damaged archive (exit 3), and never by running the caller's code in the child."""
    out = tmp_path / "out" / "sbom.json"
    out.parent.mkdir()
    command = [sys.executable, "-m", "sbomgen", "tarball", str(CPYTHON_313), "-o", str(out), "--offline"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    child = None
    for _ in range(500):
        children = _children(process.pid)
        if children:
            child = children[0]
            break
        time.sleep(0.01)
    assert child is not None
    time.sleep(0.3)
    os.kill(child, signal_number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert stderr.strip().splitlines() == [
        f"sbomgen: error: the process reading the artifact was killed by signal {signal_number}"
    ]
    assert list(out.parent.iterdir()) == []
