"""The archive findings of the adversarial review: zip details, control characters in
names, NFC/NFD pairs, links to members a scanner needs, unpacked trees and patchlevel.h.

Each test is named after its finding and asserts the exit code, the one line on stderr
and that no output file is left.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import raw_tar
import raw_zip
from conftest import cpython_tree, sbom_data, sbomgen
from raw_tar import TOP
from raw_zip import Entry

CONTROL = ["\n", "\r", "\x1b", "\x7f", "\x85", "\x9b"]
WHEEL = "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"


def fails(tmp_path: Path, artifact: Path, code: int, *fragments: str) -> str:
    out = tmp_path / "out.json"
    run = sbomgen("tarball", artifact, "--offline", "-o", out)
    assert run.returncode == code, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sbomgen: error: "), run.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert not out.exists()
    return lines[0]


def succeeds(tmp_path: Path, artifact: Path) -> tuple[dict[str, Any], str]:
    out = tmp_path / "out.json"
    run = sbomgen("tarball", artifact, "--offline", "-o", out)
    assert run.returncode == 0, run.stderr
    return json.loads(out.read_text()), run.stderr


def packages(document: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p.get("versionInfo", "") for p in document["packages"]}


def tar_of(
    tmp_path: Path,
    members: list[tuple[str, bytes, bytes, str]],
    tree: dict[str, bytes] | None = None,
    top: str = "Python-3.99.0",
) -> Path:
    """A .tgz of ``tree`` (a small CPython tree by default), then ``members``: (name below
    the top folder, tar type, content, link target)."""
    path = tmp_path / f"{top}.tgz"
    with tarfile.open(
        path, "w:gz", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as tar:
        entries = [(n, tarfile.REGTYPE, c, "") for n, c in (cpython_tree() if tree is None else tree).items()]
        for name, kind, content, link in entries + members:
            info = tarfile.TarInfo(f"{top}/{name}")
            info.type, info.linkname, info.mtime = kind, link, 1_700_000_000
            info.size = len(content) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(content) if kind == tarfile.REGTYPE else None)
    return path


def tree_of(tmp_path: Path, tree: dict[str, bytes] | None = None) -> Path:
    root = tmp_path / "Python-3.99.0"
    for name, content in (cpython_tree() if tree is None else tree).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def zip_of(tmp_path: Path, *entries: Entry) -> Path:
    path = tmp_path / "Python-3.99.0.zip"
    path.write_bytes(raw_zip.release(*entries))
    return path


# Zip members sbomgen cannot read as unzip would.


def test_finding_zip_member_encrypted(tmp_path: Path) -> None:
    path = zip_of(tmp_path, Entry(b"Python-3.99.0/Lib/secret.py", b"\x00" * 20, flags=raw_zip.UTF8 | 1))
    fails(tmp_path, path, 3, "member 'Python-3.99.0/Lib/secret.py' is encrypted")


@pytest.mark.parametrize("method", [1, 6, 9, 93, 95, 98, 99])
def test_finding_zip_member_unsupported_compression_method(tmp_path: Path, method: int) -> None:
    path = zip_of(tmp_path, Entry(b"Python-3.99.0/Lib/packed.py", b"data", method=method))
    fails(tmp_path, path, 3, f"member 'Python-3.99.0/Lib/packed.py' uses compression method {method}")


@pytest.mark.parametrize("where", ["central", "local"])
def test_finding_zip_unicode_path_extra_field_disagrees_with_name(tmp_path: Path, where: str) -> None:
    name = b"Python-3.99.0/Lib/harmless.py"
    field = raw_zip.unicode_path("Python-3.99.0/Lib/os.py", name)
    entry = Entry(name, b"import evil\n", **{"extra" if where == "central" else "local_extra": field})
    fails(
        tmp_path,
        zip_of(tmp_path, entry),
        3,
        "'Python-3.99.0/Lib/harmless.py' has a Unicode Path extra field that names it "
        "'Python-3.99.0/Lib/os.py'",
    )


def test_finding_zip_unicode_path_extra_field_that_agrees_is_accepted(tmp_path: Path) -> None:
    name = b"Python-3.99.0/Lib/os.py"
    field = raw_zip.unicode_path("Python-3.99.0/Lib/os.py", name)
    document, _ = succeeds(tmp_path, zip_of(tmp_path, Entry(name, b"x\n", extra=field, local_extra=field)))
    assert "Lib/os.py" in {f["fileName"] for f in document["files"]}


def test_finding_zip_directory_entry_with_content(tmp_path: Path) -> None:
    path = zip_of(tmp_path, Entry(b"Python-3.99.0/Lib/", b"import evil\n", mode=raw_zip.DIRECTORY))
    fails(tmp_path, path, 3, "a directory with 12 bytes of content: 'Python-3.99.0/Lib/'")


def test_finding_zip_cp437_name_without_utf8_flag(tmp_path: Path) -> None:
    path = zip_of(tmp_path, Entry(b"Python-3.99.0/Lib/caf\x82.py", b"x", flags=0))
    fails(tmp_path, path, 3, "member name 'Python-3.99.0/Lib/café.py' is not ASCII and not marked as UTF-8")


def test_finding_zip_mode_that_contradicts_the_name(tmp_path: Path) -> None:
    path = zip_of(tmp_path, Entry(b"Python-3.99.0/Lib/os.py", b"", mode=raw_zip.DIRECTORY))
    fails(tmp_path, path, 3, "'Python-3.99.0/Lib/os.py' is marked as a directory")


def test_finding_zip_local_header_disagrees_with_the_central_directory(tmp_path: Path) -> None:
    entry = Entry(b"Python-3.99.0/Lib/os.py", b"\x00" * 20, local_flags=raw_zip.UTF8 | raw_zip.ENCRYPTED)
    fails(tmp_path, zip_of(tmp_path, entry), 3, "'Python-3.99.0/Lib/os.py': its local header and the central")


def test_finding_zip_member_name_marked_utf8_that_is_not(tmp_path: Path) -> None:
    fails(tmp_path, zip_of(tmp_path, Entry(b"Python-3.99.0/Lib/\xff.py", b"x")), 3, "marked UTF-8 is not")


# Control characters (C0 with newline, CR and ESC; DEL; C1) in names and link targets.


@pytest.mark.parametrize("char", CONTROL, ids=repr)
def test_finding_control_character_in_tar_member_name(tmp_path: Path, char: str) -> None:
    path = tar_of(tmp_path, [(f"Lib/a{char}b.py", tarfile.REGTYPE, b"x", "")])
    fails(
        tmp_path, path, 3, f"member name contains a control character: {f'Python-3.99.0/Lib/a{char}b.py'!r}"
    )


@pytest.mark.parametrize("char", CONTROL, ids=repr)
def test_finding_control_character_in_tar_symlink_target(tmp_path: Path, char: str) -> None:
    path = tar_of(tmp_path, [("Lib/link", tarfile.SYMTYPE, b"", f"a{char}b")])
    fails(
        tmp_path,
        path,
        3,
        f"link 'Python-3.99.0/Lib/link' has a control character in its target: {f'a{char}b'!r}",
    )


@pytest.mark.parametrize("char", CONTROL, ids=repr)
def test_finding_control_character_in_tar_hard_link_target(tmp_path: Path, char: str) -> None:
    path = tar_of(tmp_path, [("Lib/link", tarfile.LNKTYPE, b"", f"Python-3.99.0/a{char}b")])
    fails(tmp_path, path, 3, "target of hard link 'Python-3.99.0/Lib/link' contains a control character")


@pytest.mark.parametrize("char", CONTROL, ids=repr)
def test_finding_control_character_in_zip_member_name(tmp_path: Path, char: str) -> None:
    path = zip_of(tmp_path, Entry(f"Python-3.99.0/Lib/a{char}b.py".encode(), b"x"))
    fails(
        tmp_path, path, 3, f"member name contains a control character: {f'Python-3.99.0/Lib/a{char}b.py'!r}"
    )


def test_finding_control_character_in_zip_symlink_target(tmp_path: Path) -> None:
    path = zip_of(tmp_path, Entry(b"Python-3.99.0/Lib/link", b"a\nb", mode=raw_zip.SYMLINK))
    fails(tmp_path, path, 3, "link 'Python-3.99.0/Lib/link' has a control character in its target: 'a\\nb'")


@pytest.mark.parametrize("char", CONTROL, ids=repr)
def test_finding_control_character_in_unpacked_tree_name(tmp_path: Path, char: str) -> None:
    root = tree_of(tmp_path, {**cpython_tree(), f"Lib/a{char}b.py": b"x"})
    fails(tmp_path, root, 3, f"member name contains a control character: {f'Lib/a{char}b.py'!r}")


def test_finding_control_character_in_unpacked_tree_symlink_target(tmp_path: Path) -> None:
    root = tree_of(tmp_path)
    (root / "Lib" / "link").symlink_to("a\x1b[2Jb")
    fails(tmp_path, root, 3, "link 'Lib/link' has a control character in its target")


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufdd0", "\U0010ffff"], ids=ascii)
def test_finding_noncharacter_in_a_member_name(tmp_path: Path, char: str) -> None:
    """U+FFFE and U+FFFF cannot be written in XML: ``-f cyclonedx-xml`` crashed on them."""
    path = tar_of(tmp_path, [(f"Lib/a{char}b.py", tarfile.REGTYPE, b"x", "")])
    out = tmp_path / "out.xml"
    run = sbomgen("tarball", path, "--offline", "-f", "cyclonedx-xml", "-o", out)
    assert run.returncode == 3, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert f"member name contains a noncharacter (U+{ord(char):04X}): " in line
    assert not out.exists()


def test_finding_control_character_in_the_artifact_name(tmp_path: Path) -> None:
    path = tar_of(tmp_path, [])
    renamed = path.rename(tmp_path / "Python-3.99.0\n.tgz")
    fails(tmp_path, renamed, 2, "the artifact's name contains a control character: 'Python-3.99.0\\n.tgz'")


# Names that differ only by Unicode normalisation are treated like names that differ in case.


def test_finding_nfc_nfd_names_are_recorded_with_a_warning(tmp_path: Path) -> None:
    nfc, nfd = (unicodedata.normalize(form, "Lib/café.py") for form in ("NFC", "NFD"))
    assert nfc != nfd
    path = tar_of(tmp_path, [(nfc, tarfile.REGTYPE, b"one", ""), (nfd, tarfile.REGTYPE, b"two", "")])
    document, stderr = succeeds(tmp_path, path)
    assert "1 member name(s) differ only in case or Unicode normalisation (NFC/NFD)" in stderr
    assert {nfc, nfd} <= {f["fileName"] for f in document["files"]}


def test_finding_nfc_nfd_names_in_an_unpacked_tree_are_recorded_with_a_warning(tmp_path: Path) -> None:
    nfc, nfd = (unicodedata.normalize(form, "Lib/café.py") for form in ("NFC", "NFD"))
    document, stderr = succeeds(tmp_path, tree_of(tmp_path, {**cpython_tree(), nfc: b"one", nfd: b"two"}))
    assert "differ only in case or Unicode normalisation (NFC/NFD)" in stderr
    assert {nfc, nfd} <= {f["fileName"] for f in document["files"]}


# A member a scanner needs is read through a link, or the run fails.

PATCHLEVEL_3_99_7 = b'#define PY_VERSION "3.99.7"\n'


def _needed(
    member: str, content: bytes, how: str
) -> tuple[dict[str, bytes], list[tuple[str, bytes, bytes, str]]]:
    """A tree without ``member`` and the tar members that make ``member`` a link (``how``)
    to a file holding ``content``: a hard link or symlink to an earlier or a later member."""
    tree = {k: v for k, v in cpython_tree().items() if k != member}
    folder = member.rpartition("/")[0]
    real = "Tools/real-" + member.rpartition("/")[2]
    relative = "../" * (folder.count("/") + 1) + real
    file = (real, tarfile.REGTYPE, content, "")
    if how == "hard link to an earlier member":
        return tree, [file, (member, tarfile.LNKTYPE, b"", f"cpython-src/{real}")]
    if how == "symlink to an earlier member":
        return tree, [file, (member, tarfile.SYMTYPE, b"", relative)]
    if how == "symlink to a later member":
        return tree, [(member, tarfile.SYMTYPE, b"", relative), file]
    # a symlink to a symlink to a symlinked folder's file, all later
    return tree, [
        (member, tarfile.SYMTYPE, b"", relative.replace("Tools/", "alias/")),
        ("alias", tarfile.SYMTYPE, b"", "Tools2"),
        ("Tools2", tarfile.SYMTYPE, b"", "Tools"),
        file,
    ]


LINKS = [
    "hard link to an earlier member",
    "symlink to an earlier member",
    "symlink to a later member",
    "chain of symlinks",
]


@pytest.mark.parametrize("how", LINKS)
def test_finding_patchlevel_behind_a_link_is_read_through_it(tmp_path: Path, how: str) -> None:
    tree, members = _needed("Include/patchlevel.h", PATCHLEVEL_3_99_7, how)
    document, _ = succeeds(tmp_path, tar_of(tmp_path, members, tree, top="cpython-src"))
    assert packages(document)["CPython"] == "3.99.7"


@pytest.mark.parametrize("how", LINKS)
def test_finding_pip_wheel_behind_a_link_is_read_through_it(tmp_path: Path, how: str) -> None:
    tree, members = _needed(WHEEL, cpython_tree()[WHEEL], how)
    document, _ = succeeds(tmp_path, tar_of(tmp_path, members, tree, top="cpython-src"))
    assert packages(document)["pip"] == "99.0" and packages(document)["requests"] == "2.0.0"


@pytest.mark.parametrize("how", LINKS)
def test_finding_sbom_data_behind_a_link_is_read_through_it(tmp_path: Path, how: str) -> None:
    content = sbom_data({"Python/ceval.c": cpython_tree()["Python/ceval.c"]})
    tree, members = _needed("Misc/sbom.spdx.json", content, how)
    document, _ = succeeds(tmp_path, tar_of(tmp_path, members, tree, top="cpython-src"))
    assert packages(document)["expat"] == "2.7.1"


@pytest.mark.parametrize("how", LINKS)
def test_finding_externals_data_behind_a_link_is_read_through_it(tmp_path: Path, how: str) -> None:
    wrong = sbom_data({"Python/ceval.c": b"not the file in the archive\n"})
    tree, members = _needed("Misc/externals.spdx.json", wrong, how)
    fails(tmp_path, tar_of(tmp_path, members, tree, top="cpython-src"), 4, "Python/ceval.c")


@pytest.mark.parametrize(
    ("target", "extra"),
    [
        ("missing.h", []),
        ("../Lib", []),
        ("dangling", [("Include/dangling", tarfile.SYMTYPE, b"", "nowhere")]),
    ],
    ids=["dangling", "a folder", "a dangling chain"],
)
def test_finding_needed_member_that_leads_to_no_file_fails(
    tmp_path: Path, target: str, extra: list[Any]
) -> None:
    tree = {k: v for k, v in cpython_tree().items() if k != "Include/patchlevel.h"}
    tree["Lib/x.py"] = b""
    path = tar_of(tmp_path, [("Include/patchlevel.h", tarfile.SYMTYPE, b"", target), *extra], tree)
    fails(tmp_path, path, 3, "Include/patchlevel.h is a link that leads to no file in the archive")


def test_finding_needed_members_below_a_link_to_a_folder_are_read_through_it(tmp_path: Path) -> None:
    """``Include`` and ``Lib/ensurepip/_bundled`` are links to folders: an extracted tree
    has ``Include/patchlevel.h`` and the wheel, and so does the scan."""
    tree = {k: v for k, v in cpython_tree().items() if k not in ("Include/patchlevel.h", WHEEL)}
    members = [
        ("Include", tarfile.SYMTYPE, b"", "Headers"),
        ("Lib/ensurepip/_bundled", tarfile.SYMTYPE, b"", "../../wheels"),
        ("Headers/patchlevel.h", tarfile.REGTYPE, PATCHLEVEL_3_99_7, ""),
        ("wheels/pip-99.0-py3-none-any.whl", tarfile.REGTYPE, cpython_tree()[WHEEL], ""),
    ]
    document, _ = succeeds(tmp_path, tar_of(tmp_path, members, tree, top="cpython-src"))
    assert packages(document)["CPython"] == "3.99.7"
    assert packages(document)["pip"] == "99.0"


def test_finding_needed_member_below_two_links_to_folders_is_read_through_them(tmp_path: Path) -> None:
    tree = {k: v for k, v in cpython_tree().items() if k != WHEEL}
    members = [
        ("Lib", tarfile.SYMTYPE, b"", "L2"),
        ("L2/ensurepip", tarfile.SYMTYPE, b"", "../E"),
        ("E/_bundled/pip-99.0-py3-none-any.whl", tarfile.REGTYPE, cpython_tree()[WHEEL], ""),
        ("loop", tarfile.SYMTYPE, b"", "."),  # a link to a folder above it is not entered again
        ("L2/up", tarfile.SYMTYPE, b"", ".."),
    ]
    document, _ = succeeds(tmp_path, tar_of(tmp_path, members, tree))
    assert packages(document)["pip"] == "99.0"


def test_finding_needed_members_below_a_link_to_a_folder_in_a_tree_are_read_through_it(
    tmp_path: Path,
) -> None:
    tree = {k: v for k, v in cpython_tree().items() if k != WHEEL}
    root = tree_of(tmp_path, {**tree, "wheels/pip-99.0-py3-none-any.whl": cpython_tree()[WHEEL]})
    (root / "Lib" / "ensurepip").mkdir(parents=True)
    (root / "Lib" / "ensurepip" / "_bundled").symlink_to("../../wheels")
    document, _ = succeeds(tmp_path, root)
    assert packages(document)["pip"] == "99.0"


def test_finding_many_links_to_one_needed_member_count_against_the_total_size(tmp_path: Path) -> None:
    wheel = cpython_tree()[WHEEL]
    links = [
        (f"Lib/ensurepip/_bundled/pip{i}-99.0-py3-none-any.whl", tarfile.SYMTYPE, b"", "../x.whl")
        for i in range(64)
    ]
    path = tar_of(tmp_path, [("Lib/ensurepip/x.whl", tarfile.REGTYPE, wheel, ""), *links])
    limit = str(sum(map(len, cpython_tree().values())) + len(wheel) + 8192)  # members and headers fit
    out = tmp_path / "out.json"
    run = sbomgen("tarball", path, "--offline", "--max-total-size", limit, "-o", out)
    assert run.returncode == 3, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert f"the members read through links add up to more than {limit} bytes (--max-total-size)" in line
    assert not out.exists()


@pytest.mark.parametrize("how", ["a copy", "a link"])
def test_finding_two_bundled_wheels_of_one_project(tmp_path: Path, how: str) -> None:
    """ensurepip installs one of them (which, is anyone's guess): exit 4 naming both, not
    exit 5 from SPDX IDs that clash."""
    second = "Lib/ensurepip/_bundled/pip-99.0-py2.py3-none-any.whl"
    member = (second, tarfile.SYMTYPE, b"", "pip-99.0-py3-none-any.whl")
    if how == "a copy":
        member = (second, tarfile.REGTYPE, cpython_tree()[WHEEL], "")
    fails(tmp_path, tar_of(tmp_path, [member]), 4, f"two wheels of pip: {second} and {WHEEL}")


def test_finding_needed_member_that_is_a_folder_fails(tmp_path: Path) -> None:
    tree = {k: v for k, v in cpython_tree().items() if k != "Include/patchlevel.h"}
    path = tar_of(tmp_path, [("Include/patchlevel.h", tarfile.DIRTYPE, b"", "")], tree)
    fails(tmp_path, path, 3, "Include/patchlevel.h is a folder, and sbomgen must read it as a file")


def test_finding_needed_member_behind_a_link_in_a_zip_is_read_through_it(tmp_path: Path) -> None:
    path = tmp_path / "cpython-src.zip"
    path.write_bytes(
        raw_zip.build(
            Entry(b"cpython-src/", mode=raw_zip.DIRECTORY),
            Entry(b"cpython-src/Include/patchlevel.h", b"../Tools/p.h", mode=raw_zip.SYMLINK),
            Entry(b"cpython-src/Tools/p.h", PATCHLEVEL_3_99_7, method=8),
        )
    )
    document, _ = succeeds(tmp_path, path)
    assert packages(document)["CPython"] == "3.99.7"


def test_finding_needed_member_behind_a_link_in_an_unpacked_tree_is_read_through_it(tmp_path: Path) -> None:
    tree = {k: v for k, v in cpython_tree().items() if k != "Include/patchlevel.h"}
    root = tree_of(tmp_path, {**tree, "Tools/p.h": PATCHLEVEL_3_99_7})
    (root / "Include").mkdir()
    (root / "Include" / "patchlevel.h").symlink_to("../Tools/p.h")
    root = root.rename(tmp_path / "cpython-src")
    document, _ = succeeds(tmp_path, root)
    assert packages(document)["CPython"] == "3.99.7"


def test_finding_needed_member_behind_a_link_to_another_needed_member_takes_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the pass kept for one scanner serves a link to it: no second pass."""
    import sbomgen
    from sbomgen.read.archive import ArchiveReader

    content = sbom_data({"Python/ceval.c": cpython_tree()["Python/ceval.c"]})
    tree = {**cpython_tree(), "Misc/sbom.spdx.json": content}
    members = [("Misc/externals.spdx.json", tarfile.LNKTYPE, b"", "Python-3.99.0/Misc/sbom.spdx.json")]
    path = tar_of(tmp_path, members, tree)
    monkeypatch.setenv("SBOMGEN_NO_FORK", "1")

    def no_second_pass(self: ArchiveReader, paths: set[str]) -> dict[str, bytes]:
        raise AssertionError(f"read again: {paths}")

    monkeypatch.setattr(ArchiveReader, "read_again", no_second_pass)
    seen = visits_of_the_sbom_scanner(monkeypatch)
    sbomgen.scan(path)
    assert sorted(seen) == [("Misc/externals.spdx.json", content), ("Misc/sbom.spdx.json", content)]


def visits_of_the_sbom_scanner(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """(path, content) of each member CPython's SBOM scanner is given, in order."""
    from sbomgen.scan.cpython_sbom import CPythonSbomScanner

    seen: list[tuple[str, bytes]] = []
    original = CPythonSbomScanner.visit

    def visit(self: CPythonSbomScanner, path: str, content: bytes) -> None:
        seen.append((path, content))
        original(self, path, content)

    monkeypatch.setattr(CPythonSbomScanner, "visit", visit)
    return seen


def linked_past_what_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes]:
    """An archive whose Misc/externals.spdx.json is a hard link to its Misc/sbom.spdx.json
    (returned too), read in-process by a pass that keeps no content for links."""
    from sbomgen.read import child

    content = sbom_data({"Python/ceval.c": cpython_tree()["Python/ceval.c"]})
    tree = {**cpython_tree(), "Misc/sbom.spdx.json": content}
    members = [("Misc/externals.spdx.json", tarfile.LNKTYPE, b"", "Python-3.99.0/Misc/sbom.spdx.json")]
    monkeypatch.setenv("SBOMGEN_NO_FORK", "1")
    monkeypatch.setattr(child, "_KEPT", 0)
    return tar_of(tmp_path, members, tree), content


def test_finding_needed_member_behind_a_link_past_what_the_pass_keeps_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass keeps wanted contents for links only up to a bound (memory flat in their
    number): a link to one past it costs a second pass, and gets the same bytes."""
    import sbomgen
    from sbomgen.read.archive import ArchiveReader

    path, content = linked_past_what_is_kept(tmp_path, monkeypatch)
    again: list[set[str]] = []
    original_again = ArchiveReader.read_again

    def read_again(self: ArchiveReader, paths: set[str]) -> dict[str, bytes]:
        again.append(set(paths))
        return original_again(self, paths)

    monkeypatch.setattr(ArchiveReader, "read_again", read_again)
    seen = visits_of_the_sbom_scanner(monkeypatch)
    sbomgen.scan(path)
    assert again == [{"Misc/sbom.spdx.json"}]
    assert sorted(seen) == [("Misc/externals.spdx.json", content), ("Misc/sbom.spdx.json", content)]


def test_finding_needed_member_read_again_must_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second pass that reads other bytes than the first (the artifact changed meanwhile)
    is an error, not a silent switch of content."""
    import sbomgen
    from sbomgen.errors import ArchiveError
    from sbomgen.read.archive import ArchiveReader

    tree, members = _needed("Include/patchlevel.h", PATCHLEVEL_3_99_7, "symlink to a later member")
    path = tar_of(tmp_path, members, tree, top="cpython-src")
    monkeypatch.setenv("SBOMGEN_NO_FORK", "1")
    monkeypatch.setattr(ArchiveReader, "read_again", lambda self, paths: dict.fromkeys(paths, b"other"))
    with pytest.raises(ArchiveError, match="changed between two reads"):
        sbomgen.scan(path)


# Hard links and links in unpacked trees.


def test_finding_hard_link_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "Python-3.99.0.tar"
    path.write_bytes(
        raw_tar.release(raw_tar.member(f"{TOP}Lib/self.py", kind=b"1", link=f"{TOP}Lib/self.py"))
    )
    fails(tmp_path, path, 3, "hard link 'Python-3.99.0/Lib/self.py' points to itself")


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"y": ".", "x": "y/y/.."}, "link 'x' leads outside the archive through other links"),
        ({"x": "y/..", "y": "."}, "leads outside the archive through other links"),
        ({"Lib/a": "../Lib/b/x", "Lib/b": "a/x"}, "goes round in a loop of links"),
        ({"Lib/evil": "../../../etc/shadow"}, "link 'Lib/evil' points outside the archive"),
        ({"Lib/evil": "/etc/shadow"}, "points outside the archive"),
    ],
    ids=["chain out", "chain out, later", "loop", "out", "absolute"],
)
def test_finding_unpacked_tree_applies_the_link_rules(
    tmp_path: Path, links: dict[str, str], message: str
) -> None:
    root = tree_of(tmp_path)
    for name, target in links.items():
        os.symlink(target, root / name)
    fails(tmp_path, root, 3, message)


# patchlevel.h is read with C comments removed.


@pytest.mark.parametrize(
    "header",
    [
        b'/* #define PY_VERSION "9.9.9" */\n#define PY_VERSION "3.99.0"\n',
        b'/*\n#define PY_VERSION "9.9.9"\n*/\n#define PY_VERSION "3.99.0"\n',
        b'// #define PY_VERSION "9.9.9"\n#define PY_VERSION "3.99.0" /* the version */\n',
        b'// a comment \\\n#define PY_VERSION "9.9.9"\n#  define PY_VERSION "3.99.0"\n',
        b'#define PY_VERSION_HEX 0x09090900\n#define PY_VERSION "3.99.0"\n/* "unclosed',
    ],
    ids=["block", "multi-line block", "line", "continued line comment", "unclosed"],
)
def test_finding_patchlevel_definition_in_a_comment_does_not_win(tmp_path: Path, header: bytes) -> None:
    path = tar_of(tmp_path, [], {**cpython_tree(), "Include/patchlevel.h": header})
    document, _ = succeeds(tmp_path, path)
    assert packages(document)["CPython"] == "3.99.0"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b'/* #define PY_VERSION "3.99.0" */\n', "Include/patchlevel.h: no PY_VERSION definition"),
        (b'#define PY_VERSION "3.99.0"\n#define PY_VERSION "9.9.9"\n', "PY_VERSION is defined 2 times"),
        (b'#define PY_VERSION "3.99.0 evil"\n', "PY_VERSION is not a quoted version: b'\"3.99.0 evil\"'"),
        (b'#define PY_VERSION "3.99.\x1b[0m"\n', "PY_VERSION is not a quoted version"),
    ],
    ids=["only in a comment", "twice", "spaces", "escape"],
)
def test_finding_patchlevel_without_one_clean_definition(tmp_path: Path, header: bytes, message: str) -> None:
    path = tar_of(tmp_path, [], {**cpython_tree(), "Include/patchlevel.h": header}, top="cpython-src")
    fails(tmp_path, path, 4, message)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            Entry(b"pip/evil.py", b"\x00" * 20, flags=raw_zip.UTF8 | raw_zip.ENCRYPTED),
            "'pip/evil.py' is encrypted",
        ),
        (Entry(b"pip/evil.py", b"data", method=99), "'pip/evil.py' uses compression method 99"),
        (
            Entry(
                b"pip/harmless.py", b"x", extra=raw_zip.unicode_path("pip/__init__.py", b"pip/harmless.py")
            ),
            "'pip/harmless.py' has a Unicode Path extra field that names it 'pip/__init__.py'",
        ),
    ],
    ids=["encrypted", "method", "unicode path"],
)
def test_finding_zip_member_rules_hold_for_a_wheel_artifact(
    tmp_path: Path, entry: Entry, message: str
) -> None:
    import zipfile

    from conftest import make_wheel

    with zipfile.ZipFile(io.BytesIO(make_wheel())) as wheel:
        entries = [Entry(i.filename.encode(), wheel.read(i)) for i in wheel.infolist()]
    path = tmp_path / "pip-99.0-py3-none-any.whl"
    path.write_bytes(raw_zip.build(*entries, entry))
    out = tmp_path / "out.json"
    run = sbomgen("wheel", path, "--offline", "-o", out)
    assert run.returncode == 3, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith(f"sbomgen: error: {path.name}: member {message}")
    assert not out.exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (Entry(b"pip-99.0.dist-info/METADATA", b"\x00" * 20, flags=raw_zip.UTF8 | 1), "is encrypted"),
        (Entry(b"pip/_vendor/vendor.txt", b"data", method=99), "uses compression method 99"),
    ],
    ids=["encrypted", "method"],
)
def test_finding_a_bundled_wheel_member_zip_would_misread(tmp_path: Path, entry: Entry, message: str) -> None:
    """The bundled wheel, a nested zip, follows the same zip rules as a .zip artifact."""
    wheel = raw_zip.build(
        Entry(b"pip/__init__.py", b""),
        Entry(b"pip-99.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: pip\nVersion: 99.0\n")
        if b"METADATA" not in entry.name
        else entry,
        *([entry] if b"METADATA" not in entry.name else []),
    )
    path = tar_of(tmp_path, [], tree=cpython_tree(**{WHEEL.replace("/", "__"): wheel}))
    fails(tmp_path, path, 3, f"{WHEEL}:{entry.name.decode()}", message)


def test_windows_parts_read_again_must_not_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Windows SBOMs' source is read as ``tarball`` reads: a member behind a link read a
    second time must be the bytes the first pass hashed."""
    from sbomgen.errors import ArchiveError
    from sbomgen.read.archive import ArchiveReader
    from sbomgen.workflows.windows import read_source

    path, content = linked_past_what_is_kept(tmp_path, monkeypatch)
    assert read_source(path).documents["Misc/externals.spdx.json"] == content
    monkeypatch.setattr(ArchiveReader, "read_again", lambda self, paths: dict.fromkeys(paths, b"other"))
    with pytest.raises(ArchiveError, match="changed between two reads"):
        read_source(path)
