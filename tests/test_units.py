"""Smaller pieces: SPDX IDs, path checks, input forms, the Python API, the help text."""

from __future__ import annotations

import datetime
import hashlib
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import cpython_tree, sbom_data, write_tar
from conftest import sbomgen as run_sbomgen

import sbomgen
from sbomgen.errors import ArchiveError
from sbomgen.read.archive import resolve_link, split_path
from sbomgen.write.spdx import SpdxIds, verification_code


def test_spdx_ids_follow_release_tooling() -> None:
    ids = SpdxIds()
    assert (
        ids.allocate("SPDXRef-FILE-", "Lib/test/data file+1.txt") == "SPDXRef-FILE-Lib-test-data-file-1.txt"
    )
    assert ids.allocate("SPDXRef-FILE-", "a b") == "SPDXRef-FILE-a-b"
    # A second value with the same encoding keeps its own, hash-suffixed ID.
    suffix = hashlib.sha256(b"a-b").hexdigest()[:8]
    assert ids.allocate("SPDXRef-FILE-", "a-b") == f"SPDXRef-FILE-a-b-{suffix}"
    assert (
        ids.allocate("SPDXRef-FILE-", "a/b") == f"SPDXRef-FILE-a-b-{hashlib.sha256(b'a/b').hexdigest()[:8]}"
    )


def test_verification_code_of_nothing_is_sha1_of_nothing() -> None:
    assert verification_code([]) == hashlib.sha1(b"").hexdigest()


def test_verification_code_hashes_every_digest_in_order() -> None:
    """Hashed a batch at a time: files without a SHA1 ("", sorted first) are no end."""
    digests = [""] * 3000 + [hashlib.sha1(bytes([n])).hexdigest() for n in range(256)]
    assert verification_code(iter(digests)) == hashlib.sha1("".join(digests).encode()).hexdigest()


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("./Python-3.13.5//Lib/./os.py", ["Python-3.13.5", "Lib", "os.py"]),
        ("Python-3.13.5/", ["Python-3.13.5"]),
    ],
)
def test_split_path_normalises(name: str, parts: list[str]) -> None:
    assert split_path(name, "x") == parts


@pytest.mark.parametrize("name", ["/etc/passwd", "C:/Windows/x", "a/../../b", "a\\..\\..\\b", "a\x00b"])
def test_split_path_rejects(name: str) -> None:
    with pytest.raises(ArchiveError):
        split_path(name, "x")


def test_links_inside_are_resolved_and_outside_rejected() -> None:
    assert resolve_link(["Top", "Lib", "link"], "../Include/x.h", "x", "m") == "Include/x.h"
    with pytest.raises(ArchiveError, match="points outside"):
        resolve_link(["Top", "Lib", "link"], "../../x", "x", "m")


@pytest.fixture()
def tree_forms(tmp_path: Path) -> dict[str, Path]:
    """One small CPython-shaped tree as every supported input form."""
    tree = cpython_tree()
    forms = {
        "tgz": write_tar(tmp_path / "Python-3.99.0.tgz", tree),
        "tar.xz": write_tar(tmp_path / "Python-3.99.0.tar.xz", tree, mode="w:xz"),
        "tar.bz2": write_tar(tmp_path / "Python-3.99.0.tar.bz2", tree, mode="w:bz2"),
        "tar": write_tar(tmp_path / "Python-3.99.0.tar", tree, mode="w"),
    }
    with zipfile.ZipFile(tmp_path / "Python-3.99.0.zip", "w") as archive:
        for name, content in sorted(tree.items()):
            archive.writestr(f"Python-3.99.0/{name}", content)
    forms["zip"] = tmp_path / "Python-3.99.0.zip"
    directory = tmp_path / "unpacked"
    with tarfile.open(forms["tgz"]) as archive:
        archive.extractall(directory, filter="data")
    forms["dir"] = directory / "Python-3.99.0"
    return forms


def test_every_input_form_gives_the_same_inventory(tree_forms: dict[str, Path]) -> None:
    inventories = {form: sbomgen.scan(path) for form, path in tree_forms.items()}
    expected = inventories["tgz"]
    for form, inventory in inventories.items():
        assert sorted(inventory.files, key=lambda f: f.path) == sorted(
            expected.files, key=lambda f: f.path
        ), form
        assert [(c.name, c.version) for c in inventory.components] == [
            ("CPython", "3.99.0"),
            ("pip", "99.0"),
            ("requests", "2.0.0"),
        ], form
    for form in ("tgz", "tar.xz", "tar.bz2", "tar", "zip"):
        digest = hashlib.sha256(tree_forms[form].read_bytes()).hexdigest()
        assert inventories[form].artifact.checksums[0].value == digest, form
    assert inventories["dir"].artifact.checksums == ()


def test_api_returns_the_model(tree_forms: dict[str, Path]) -> None:
    inventory = sbomgen.scan(tree_forms["tgz"], checksums=("SHA1", "SHA256", "SHA512"))
    assert isinstance(inventory, sbomgen.Inventory)
    patchlevel = next(f for f in inventory.files if f.path == "Include/patchlevel.h")
    content = cpython_tree()["Include/patchlevel.h"]
    assert patchlevel.digest("SHA512") == hashlib.sha512(content).hexdigest()
    root = inventory.component(inventory.root)
    assert set(root.files) == {f.path for f in inventory.files}


def test_hard_link_repeats_its_target(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    linked = tmp_path / "linked.tgz"
    with tarfile.open(path) as source, tarfile.open(linked, "w:gz") as target:
        for member in source:
            target.addfile(member, source.extractfile(member))
        link = tarfile.TarInfo("Python-3.99.0/Python/ceval-copy.c")
        link.type = tarfile.LNKTYPE
        link.linkname = "Python-3.99.0/Python/ceval.c"
        target.addfile(link)
    files = {f.path: f.checksums for f in sbomgen.scan(linked).files}
    assert files["Python/ceval-copy.c"] == files["Python/ceval.c"]


def test_unknown_option_is_a_usage_error() -> None:
    run = run_sbomgen("tarball", "--no-such-option", "x")
    assert run.returncode == 2
    assert "No such option" in run.stderr


def test_declared_version_is_checked_against_the_header(tmp_path: Path) -> None:
    tree = cpython_tree()
    header = b"#define XML_MAJOR_VERSION 2\n#define XML_MINOR_VERSION 7\n#define XML_MICRO_VERSION 1\n"
    tree["Modules/expat/expat.h"] = header
    tree["Misc/sbom.spdx.json"] = sbom_data({"Modules/expat/expat.h": header}, version="2.6.3")
    path = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    run = run_sbomgen("tarball", path, "-o", tmp_path / "out.json")
    assert run.returncode == 0, run.stderr
    assert "warning: Misc/sbom.spdx.json says expat 2.6.3, but Modules/expat/expat.h says 2.7.1" in run.stderr


def test_creators(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    run = run_sbomgen("tarball", path, "-o", "-", "--creator", "Person: Python Release Managers")
    assert run.returncode == 0, run.stderr
    import json

    creators = json.loads(run.stdout)["creationInfo"]["creators"]
    assert creators == ["Person: Python Release Managers", "Tool: sbomgen-0.1.0"]
    bad = run_sbomgen("tarball", path, "-o", tmp_path / "bad.json", "--creator", "Bob")
    assert bad.returncode == 2
    assert "not a creator: 'Bob'; expected 'Person: NAME <E-MAIL>'" in bad.stderr
    assert not (tmp_path / "bad.json").exists()


@pytest.mark.parametrize(
    ("checksums", "problem"),
    [
        ((("SHA1", "AB" * 20), ("SHA256", "ab" * 32)), "SHA1 checksum is not 40 lowercase hex digits"),
        ((("SHA1", "ab" * 19), ("SHA256", "ab" * 32)), "SHA1 checksum is not 40 lowercase hex digits"),
        ((("SHA256", "ab" * 32),), "checksums must contain a SHA1 algorithm checksum"),
    ],
)
def test_a_file_spdx_tools_would_reject_fails_validation(
    tmp_path: Path, checksums: tuple[tuple[str, str], ...], problem: str
) -> None:
    """Files go through templates, not spdx-tools' model: the same rules still apply."""
    from sbomgen.errors import OutputValidationError
    from sbomgen.model import Artifact, Checksum, Component, FileEntry, Inventory
    from sbomgen.write.spdx import SpdxWriter

    entry = FileEntry("README", 1, tuple(Checksum(a, v) for a, v in checksums))
    inventory = Inventory(
        artifact=Artifact("x.tgz", 1, ()),
        root="cpython",
        components=(Component("cpython", "CPython", "3.99.0", files=("README",)),),
        files=(entry,),
        dependencies=(),
        created=datetime.datetime(2025, 1, 1),
    )
    with pytest.raises(OutputValidationError, match=f"first: {problem} \\[SPDXRef-FILE-README\\]"):
        SpdxWriter().render(inventory)


def test_a_file_prepared_again_keeps_its_id(tmp_path: Path) -> None:
    """A writer that saw an older entry for a path writes what a fresh writer writes."""
    from sbomgen.model import Checksum, FileEntry
    from sbomgen.write.spdx import SpdxWriter

    inventory = sbomgen.scan(write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree()))
    entry = next(iter(inventory.files))
    used = SpdxWriter()
    used.prepare_file(FileEntry(entry.path, 1, (Checksum("SHA1", "0" * 40), Checksum("SHA256", "0" * 64))))
    assert used.render(inventory) == SpdxWriter().render(inventory)
    assert used.render(inventory) == SpdxWriter().render(inventory)


def test_paths_sharing_a_plain_id_get_unique_ids_the_same_in_every_flow(tmp_path: Path) -> None:
    """The first path (in the artifact's order) keeps the plain ID, the later ones get
    SpdxIds' hashed IDs: through the command line, a writer fed the files first, a fresh
    writer, and a writer that saw one of them again with other content."""
    import json

    from sbomgen.model import Checksum, FileEntry
    from sbomgen.write.spdx import SpdxWriter

    same = {"Lib/a b.py": b"1", "Lib/a+b.py": b"2", "Lib/a-b.py": b"3"}
    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree(**same))
    assert run_sbomgen("tarball", artifact, "-o", tmp_path / "cli.json", "--offline").returncode == 0
    fed = SpdxWriter()
    inventory = sbomgen.scan(artifact)
    for entry in inventory.files:
        fed.prepare_file(entry)
    again = SpdxWriter()
    again.prepare_file(FileEntry("Lib/a-b.py", 9, (Checksum("SHA1", "0" * 40),)))
    again.prepare_file(FileEntry("Lib/a+b.py", 9, (Checksum("SHA1", "0" * 40),)))
    outputs = {fed.render(inventory), SpdxWriter().render(inventory), again.render(inventory)}
    assert len(outputs) == 1
    document = json.loads(outputs.pop())
    ids = {f["fileName"]: f["SPDXID"] for f in document["files"]}
    hashed = {p: f"SPDXRef-FILE-Lib-a-b.py-{hashlib.sha256(p.encode()).hexdigest()[:8]}" for p in same}
    assert ids["Lib/a b.py"] == "SPDXRef-FILE-Lib-a-b.py"
    assert ids["Lib/a+b.py"] == hashed["Lib/a+b.py"]
    assert ids["Lib/a-b.py"] == hashed["Lib/a-b.py"]
    assert len(set(ids.values())) == len(ids)
    contained = {
        r["relatedSpdxElement"] for r in document["relationships"] if r["relationshipType"] == "CONTAINS"
    }
    assert contained == set(ids.values())
    cli = json.loads((tmp_path / "cli.json").read_bytes())
    assert {f["fileName"]: f["SPDXID"] for f in cli["files"]} == ids


def _tarball_with_small_files(tmp_path: Path, artifact: Path, cache: Path) -> tuple[int, list[str]]:
    """``sbomgen tarball`` where no file may grow past 100 bytes: exit code, stderr lines."""
    import resource
    import subprocess
    import sys

    out = tmp_path / "out" / "sbom.json"
    out.parent.mkdir(exist_ok=True)

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    command = [sys.executable, "-m", "sbomgen", "tarball", str(artifact), "-o", str(out), "--offline"]
    run = subprocess.run(
        [*command, "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,  # noqa: PLW1509 - a limit for the child only, set before exec
    )
    assert "Traceback" not in run.stderr
    assert list(out.parent.iterdir()) == []
    return run.returncode, run.stderr.strip().splitlines()


def test_a_full_temporary_folder_is_an_output_error(tmp_path: Path) -> None:
    """Each file waits in a temporary database: when it cannot be written, exit 6. (A few
    MB stay in memory, SQLite's page cache: these files are more.)"""
    many = {f"Lib/package_{n:05}/a_module_with_a_long_name_{n:05}.py": b"pass\n" for n in range(6000)}
    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree(**many))
    code, lines = _tarball_with_small_files(tmp_path, artifact, tmp_path / "cache")
    assert code == 6, lines
    assert lines[-1].startswith("sbomgen: error: cannot use a temporary file in ")


def test_a_cache_on_a_failing_disk_is_a_cache_error_and_kept(tmp_path: Path) -> None:
    """A disk error is not damage: exit 8, and the cache stays where it was, as it was."""
    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    cache = tmp_path / "cache"
    assert (
        run_sbomgen(
            "tarball", artifact, "-o", tmp_path / "first.json", "--offline", "--cache-dir", cache
        ).returncode
        == 0
    )
    before = (cache / "index.sqlite3").read_bytes()
    code, lines = _tarball_with_small_files(tmp_path, artifact, cache)
    assert code == 8, lines
    assert lines[-1] == f"sbomgen: error: cannot use the cache {cache / 'index.sqlite3'}: disk I/O error"
    assert (cache / "index.sqlite3").read_bytes() == before
    assert not [p.name for p in cache.iterdir() if ".corrupt-" in p.name]


def test_output_failing_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    """The SBOM reaches write_atomic as pieces made while writing: a failure among them
    leaves the previous output as it was and no temporary file."""
    from sbomgen.write.output import write_atomic

    target = tmp_path / "sbom.json"
    target.write_bytes(b"previous\n")

    def pieces() -> Iterator[bytes]:
        yield b'{"partial":'
        raise OSError(28, "No space left on device")

    with pytest.raises(sbomgen.errors.OutputError, match="No space left on device"):
        write_atomic(target, pieces())
    assert target.read_bytes() == b"previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sbom.json"]


def test_the_api_leaves_the_callers_priority_alone(tmp_path: Path) -> None:
    """sbomgen.scan() forks its reading process in a program with no other thread, and
    lowers the caller's priority only when asked (the command line asks)."""
    import subprocess
    import sys

    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    program = (
        "import os, sys, sbomgen\n"
        "before = os.nice(0)\n"
        "sbomgen.scan(sys.argv[1])\n"
        "middle = os.nice(0)\n"
        "sbomgen.scan(sys.argv[1], yield_to_reading=True)\n"
        "print(before, middle, os.nice(0))\n"
    )
    run = subprocess.run([sys.executable, "-c", program, str(artifact)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    before, middle, after = map(int, run.stdout.split())
    assert middle == before
    assert after == max(before, 10)
