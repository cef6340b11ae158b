"""Outputs that cannot be turned against the user: what -o and -d may replace, outputs that
are inputs, targets checked before the work, links in the HTML report, release manifests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REFERENCE_313, Run, chromium, cpython_tree, make_wheel, sbomgen, write_tar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

BUILDER = ("--builder-id", "https://ci.example.org/release")


def one_line(run: Run, code: int, fragment: str) -> str:
    """The command failed with ``code`` and one line holding ``fragment``; the line."""
    assert run.returncode == code, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("sbomgen: error: ") and fragment in lines[0], lines[0]
    return lines[0]


def state(folder: Path) -> dict[str, Any]:
    """What ``folder`` holds, without following anything: kind and content of every entry."""
    found: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[str(path.relative_to(folder))] = ("link", os.readlink(path))
        elif stat.S_ISREG(mode):
            found[str(path.relative_to(folder))] = ("file", path.read_bytes())
        else:
            found[str(path.relative_to(folder))] = (stat.S_IFMT(mode), path.lstat().st_rdev)
    return found


@pytest.fixture
def tarball(tmp_path: Path) -> Path:
    return write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())


# --- the atomic writer replaces only regular files -------------------------------------


def _device(path: Path) -> None:
    try:  # as root; the numbers of the null device, so nothing reads or writes anything real
        os.mknod(path, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    except PermissionError:
        pytest.skip("making a device needs root")


def _socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))


TARGET_KINDS: dict[str, Callable[[Path], None]] = {
    "character device": _device,
    "FIFO": lambda p: os.mkfifo(p),
    "socket": _socket,
    "folder": lambda p: p.mkdir(),
    "symbolic link": lambda p: p.symlink_to(p.with_name("elsewhere.json")),
}


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_finding_write_atomic_renames_over_whatever_o_names(kind: str, tarball: Path, tmp_path: Path) -> None:
    """As root, -o /dev/null replaced the device with a regular file: the same, made in tmp_path."""
    target = tmp_path / "out.json"
    TARGET_KINDS[kind](target)
    before = state(tmp_path)
    run = sbomgen("tarball", tarball, "--offline", "-o", target)
    one_line(run, 6, f"cannot write {target}: it is a {kind}, and sbomgen replaces only regular files")
    assert state(tmp_path) == before
    assert not (tmp_path / "elsewhere.json").exists()


def test_finding_write_atomic_replaced_a_device_in_process(tmp_path: Path) -> None:
    from sbomgen.errors import OutputError
    from sbomgen.write.output import write_atomic

    target = tmp_path / "null"
    _device(target)
    with pytest.raises(OutputError, match="it is a character device"):
        write_atomic(target, b"{}")
    assert stat.S_ISCHR(target.lstat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["null"]  # no temporary file left


@pytest.mark.parametrize(
    "name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/proc/thread-self/fd/1", "/dev//stdout"]
)
def test_finding_o_dev_stdout_replaced_the_link_and_printed_nothing(name: str, tarball: Path) -> None:
    assert os.path.islink("/dev/stdout")
    expected = sbomgen("tarball", tarball, "--offline", "-o", "-")
    assert expected.returncode == 0 and expected.stdout.startswith(b"{")
    run = sbomgen("tarball", tarball, "--offline", "-o", name)
    assert run.returncode == 0, run.stderr
    assert run.stdout == expected.stdout
    assert "wrote" not in run.stderr
    assert os.path.islink("/dev/stdout")


def test_finding_o_dev_stdout_for_report(tmp_path: Path) -> None:
    sbom = tmp_path / "x.spdx.json"
    shutil.copyfile(REFERENCE_313, sbom)
    run = sbomgen("report", sbom, "-o", "/dev/stdout")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(b"<!DOCTYPE html>") and run.stderr == ""
    assert sorted(os.listdir(tmp_path)) == ["x.spdx.json"]


# --- an output that is one of the inputs ------------------------------------------------


def _inputs(tmp_path: Path) -> dict[str, Path]:
    tgz = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel("demo", "1.0", None))
    sdist = write_tar(tmp_path / "demo-1.0.tar.gz", {"PKG-INFO": b"Name: demo\nVersion: 1.0\n"}, "demo-1.0")
    upstream = tmp_path / "upstream.spdx.json"
    shutil.copyfile(REFERENCE_313, upstream)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "index.sqlite3").write_bytes(b"SQLite format 3\x00" + bytes(100))
    (tmp_path / "a.txt").write_bytes(b"a file to sign")
    (tmp_path / "a.txt.sigstore").write_bytes(b"another file to sign")
    (tmp_path / "Python-3.99.0.tgz.intoto.json").write_bytes(b"an artifact, too")
    (tmp_path / "release").mkdir()
    shutil.copyfile(tgz, tmp_path / "release" / tgz.name)
    # -o folder (several formats) and release write ARTIFACT.spdx.json: here a link to an input
    (tmp_path / "release" / f"{tgz.name}.spdx.json").symlink_to(tgz.name)
    (tmp_path / "link.tgz").symlink_to(tgz.name)
    os.link(tgz, tmp_path / "hard.tgz")
    return {"tgz": tgz, "wheel": wheel, "sdist": sdist, "upstream": upstream}


SAME_AS_INPUT = {
    "tarball X -o X": ("tarball", "{tgz}", "-o", "{tgz}"),
    "through a symlink": ("tarball", "{tgz}", "-o", "{dir}/link.tgz"),
    "another spelling": ("tarball", "{tgz}", "-o", "{dir}/cache/../Python-3.99.0.tgz"),
    "a hard link": ("tarball", "{tgz}", "-o", "{dir}/hard.tgz"),
    "several formats": (
        "tarball",
        "{dir}/release/Python-3.99.0.tgz",
        "-f",
        "spdx-json,spdx-tv",
        "-o",
        "{dir}/release",
    ),
    "regenerate over upstream": ("regenerate", "{upstream}", "--tarball", "{tgz}", "-o", "{upstream}"),
    "regenerate over the tarball": ("regenerate", "{upstream}", "--tarball", "{tgz}", "-o", "{tgz}"),
    "report over the SBOM": ("report", "{upstream}", "-o", "{upstream}"),
    "wheel": ("wheel", "{wheel}", "-o", "{wheel}"),
    "sdist": ("sdist", "{sdist}", "-o", "{sdist}"),
    "provenance": ("provenance", "{tgz}", "{dir}/Python-3.99.0.tgz.intoto.json", *BUILDER, "-d", "{dir}"),
    "sign": ("sign", "{dir}/a.txt", "{dir}/a.txt.sigstore", "-d", "{dir}"),
    "release": ("release", "{dir}/release", *BUILDER, "--offline"),
    "cache export": ("cache", "export", "{dir}/cache/index.sqlite3", "--cache-dir", "{dir}/cache"),
    "the index cache": ("tarball", "{tgz}", "--cache-dir", "{dir}/cache", "-o", "{dir}/cache/index.sqlite3"),
    "the index cache of wheel": (
        "wheel",
        "{wheel}",
        "--cache-dir",
        "{dir}/cache",
        "-o",
        "{dir}/cache/index.sqlite3",
    ),
}


@pytest.mark.parametrize("case", SAME_AS_INPUT)
def test_finding_output_is_one_of_the_inputs(case: str, tmp_path: Path) -> None:
    """tarball X -o X overwrote the artifact; every command that writes refuses it (exit 2)."""
    paths = {k: str(v) for k, v in _inputs(tmp_path).items()} | {"dir": str(tmp_path)}
    before = state(tmp_path)
    run = sbomgen(*(a.format(**paths) for a in SAME_AS_INPUT[case]), env={"SIGSTORE_ID_TOKEN": ""})
    line = one_line(run, 2, "cannot write ")
    assert "it is the input " in line and line.endswith("; choose another output")
    assert state(tmp_path) == before


# --- targets are checked before the work -------------------------------------------------


def _garbage(tmp_path: Path, name: str) -> Path:
    """An input that fails once read (exit 3 or 4): an output error first shows the order."""
    path = tmp_path / name
    path.write_bytes(b"not an archive, not JSON" * 10)
    return path


BEFORE_THE_WORK = {
    "tarball": lambda t, o: ("tarball", _garbage(t, "Python-3.99.0.tgz"), "-o", o),
    "regenerate": lambda t, o: (
        "regenerate",
        _garbage(t, "up.json"),
        "--tarball",
        _garbage(t, "x.tgz"),
        "-o",
        o,
    ),
    "report": lambda t, o: ("report", _garbage(t, "sbom.json"), "-o", o),
    "wheel": lambda t, o: ("wheel", _garbage(t, "demo-1.0-py3-none-any.whl"), "-o", o),
    "sdist": lambda t, o: ("sdist", _garbage(t, "demo-1.0.tar.gz"), "-o", o),
    "cache export": lambda t, o: ("cache", "export", o, "--cache-dir", t / "new-cache"),
}


@pytest.mark.parametrize("command", BEFORE_THE_WORK)
def test_finding_missing_output_folder_found_after_the_scan(command: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.json"
    run = sbomgen(*BEFORE_THE_WORK[command](tmp_path, target))
    one_line(run, 6, f"cannot write {target}: {tmp_path / 'missing'} does not exist")
    assert not (tmp_path / "missing").exists() and not (tmp_path / "new-cache").exists()


@pytest.mark.parametrize("command", BEFORE_THE_WORK)
def test_finding_unwritable_target_found_after_the_scan(command: str, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    run = sbomgen(*BEFORE_THE_WORK[command](tmp_path, target))
    one_line(run, 6, f"cannot write {target}: it is a folder, and sbomgen replaces only regular files")
    assert list(target.iterdir()) == []


def test_finding_unwritable_output_folder_found_before_the_work(tmp_path: Path) -> None:
    folder = Path("/proc")  # takes no new files, even from root
    run = sbomgen("tarball", _garbage(tmp_path, "Python-3.99.0.tgz"), "-o", folder / "sbom.json")
    one_line(run, 6, f"cannot write {folder / 'sbom.json'}: /proc: ")


@pytest.mark.parametrize(
    "arguments",
    [
        ("provenance", "{tgz}", *BUILDER, "-d", "{file}/out"),
        ("sign", "{tgz}", "-d", "{file}/out"),
        ("release", "{dir}", *BUILDER, "--offline", "-d", "{file}/out"),
    ],
    ids=["provenance", "sign", "release"],
)
def test_finding_output_folder_under_a_file_found_before_the_work(
    arguments: tuple[str, ...], tarball: Path, tmp_path: Path
) -> None:
    (tmp_path / "file").write_bytes(b"a file, not a folder")
    before = state(tmp_path)
    paths = {"tgz": tarball, "dir": tmp_path, "file": tmp_path / "file"}
    run = sbomgen(*(a.format(**paths) for a in arguments), env={"SIGSTORE_ID_TOKEN": ""})
    one_line(run, 6, f"{tmp_path / 'file'} is not a folder")
    assert state(tmp_path) == before


# --- links in the HTML report -------------------------------------------------------------


def _sbom(download: str) -> dict[str, Any]:
    return {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "demo",
        "documentNamespace": "https://example.invalid/demo",
        "dataLicense": "CC0-1.0",
        "creationInfo": {"created": "2025-01-01T00:00:00Z", "creators": ["Tool: test"]},
        "documentDescribes": ["SPDXRef-PACKAGE-demo"],
        "packages": [
            {
                "SPDXID": "SPDXRef-PACKAGE-demo",
                "name": "demo",
                "versionInfo": "1.0",
                "downloadLocation": download,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:pypi/demo@1.0",
                    }
                ],
            }
        ],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": "SPDXRef-PACKAGE-demo",
            }
        ],
    }


CSP = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
)


@pytest.mark.parametrize(
    "download",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "https:\\\\evil.example",
    ],
)
def test_finding_javascript_download_location_becomes_a_live_link(download: str, tmp_path: Path) -> None:
    sbom = tmp_path / "demo.spdx.json"
    sbom.write_text(json.dumps(_sbom(download)))
    report = tmp_path / "report.html"
    run = sbomgen("report", sbom, "-o", report)
    if run.returncode == 4:  # the gate refuses what SPDX's grammar does not call a location
        assert run.stderr.startswith("sbomgen: error: ") and len(run.stderr.splitlines()) == 1
        assert "packages[0].downloadLocation: not a download location" in run.stderr
        assert not report.exists()
        return
    assert run.returncode == 0, run.stderr
    html = report.read_text()
    links = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert links == ["https://pypi.org/project/demo/1.0/"]  # the purl's; the download is text
    assert 'href="javascript:' not in html.lower() and "<script" not in html
    assert f"<td><code>{escape(download)}</code></td>" in html
    head = html.split("</head>")[0]
    assert head.count(CSP) == 1
    assert head.index(CSP) < head.index("<title>")  # before anything the policy governs


def test_report_csp_forbids_scripts_and_keeps_http_links(tmp_path: Path) -> None:
    from sbomgen.workflows.report import render

    sbom = tmp_path / "demo.spdx.json"
    sbom.write_text(json.dumps(_sbom("https://files.example.org/demo-1.0.tar.gz")))
    html = render(sbom).decode()
    assert CSP in html
    url = "https://files.example.org/demo-1.0.tar.gz"
    assert f'<a class="download" href="{url}" title="{url}" rel="noreferrer">demo-1.0.tar.gz</a>' in html


def test_report_csp_blocks_injected_scripts_in_chromium(tmp_path: Path) -> None:
    """Should markup ever slip through the escaping, the policy still stops it: a script,
    an event handler and an image put into a rendered report do nothing in a browser."""
    from sbomgen.workflows.report import render

    sbom = tmp_path / "demo.spdx.json"
    sbom.write_text(json.dumps(_sbom("https://files.example.org/demo-1.0.tar.gz")))
    injected = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    page = tmp_path / "report.html"
    page.write_text(render(sbom).decode().replace("</body>", f"{injected}</body>"))
    driver = chromium(tmp_path / "profile")
    try:
        driver.get(page.as_uri())
        assert driver.title == "SBOM of demo 1.0"
        refused = [
            e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]
        ]
        assert len(refused) == 3, refused  # the script, the handler, the image
    finally:
        driver.quit()


# --- release manifests ------------------------------------------------------------------


def _release_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "3.99.0"
    (folder / "amd64").mkdir(parents=True)
    (folder / "python-3.99.0.tar.xz.asc").write_bytes(b"signature")
    (folder / "amd64" / "core.msi").write_bytes(b"MSI")
    return folder


def test_finding_release_manifest_follows_symlinks_out_of_the_folder(tmp_path: Path) -> None:
    folder = _release_folder(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not part of the release")
    (folder / "secret").symlink_to(outside / "secret")
    (folder / "everything").symlink_to(outside)
    (folder / "inside").symlink_to("amd64/core.msi")
    tgz = write_tar(folder / "Python-3.99.0.tgz", cpython_tree())
    run = sbomgen("release", folder, *BUILDER, "--offline")
    assert run.returncode == 0, run.stderr
    manifest = json.loads((folder / "release-manifest.json").read_text())
    entries = {entry.pop("name"): entry for entry in manifest["files"]}
    assert entries["secret"] == {"link": str(outside / "secret")}
    assert entries["everything"] == {"link": str(outside)}
    assert entries["inside"] == {"link": "amd64/core.msi"}
    assert "everything/secret" not in entries
    assert set(entries) == {
        "Python-3.99.0.tgz",
        "Python-3.99.0.tgz.intoto.json",
        "Python-3.99.0.tgz.spdx.intoto.json",
        "Python-3.99.0.tgz.spdx.json",
        "amd64/core.msi",
        "everything",
        "inside",
        "python-3.99.0.tar.xz.asc",
        "release-attestation.intoto.json",
        "secret",
    }
    # The release attestation lists files by what they hold: the link to a folder is left
    # out of it, and the run says so.
    assert (
        f"{folder / 'everything'}: a link to a folder or to nothing; not in the release attestation"
        in run.stderr
    )
    assert entries[tgz.name]["size"] == tgz.stat().st_size

    (outside / "secret").write_bytes(b"changed outside: not the release's business")
    check = sbomgen("release", folder, "--check", folder / "release-manifest.json")
    assert check.returncode == 0, check.stdout
    (folder / "inside").unlink()
    (folder / "inside").symlink_to("python-3.99.0.tar.xz.asc")
    check = sbomgen("release", folder, "--check", folder / "release-manifest.json")
    assert check.returncode == 1 and check.stdout.decode().splitlines() == ["changed: inside"]


def test_finding_release_folder_with_a_fifo(tmp_path: Path) -> None:
    """A FIFO would hang the manifest's reading: refused, and before any SBOM is made."""
    folder = _release_folder(tmp_path)
    write_tar(folder / "Python-3.99.0.tgz", cpython_tree())
    os.mkfifo(folder / "amd64" / "pipe")
    before = state(folder)
    run = sbomgen("release", folder, *BUILDER, "--offline")
    one_line(run, 4, f"{folder / 'amd64' / 'pipe'}: neither a file, a folder nor a symbolic link")
    assert state(folder) == before
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"format": "sbomgen-release-manifest", "version": 1, "files": []}))
    run = sbomgen("release", folder, "--check", manifest)
    one_line(run, 4, "pipe: neither a file, a folder nor a symbolic link")


def test_finding_release_folder_name_with_a_newline(tmp_path: Path) -> None:
    folder = _release_folder(tmp_path)
    (folder / "evil\nchanged: python-3.99.0.tar.xz.asc").write_bytes(b"x")
    from sbomgen.errors import ContentError
    from sbomgen.workflows.release import manifest

    good = tmp_path / "m.json"
    good.write_text(json.dumps({"format": "sbomgen-release-manifest", "version": 1, "files": []}))
    run = sbomgen("release", folder, "--check", good)
    one_line(run, 4, "holds the control character U+000A")
    assert run.stdout == b""
    with pytest.raises(ContentError, match="U\\+000A"):
        manifest(folder)


def _manifest(folder: Path) -> dict[str, Any]:
    from sbomgen.workflows.release import manifest

    return json.loads(manifest(folder))


MANIFEST_FINDINGS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "entry without sha256": (lambda m: m["files"][0].pop("sha256"), "files[0]: missing sha256"),
    "entry without size": (lambda m: m["files"][0].pop("size"), "files[0]: missing size"),
    "non-hex sha256": (
        lambda m: m["files"][1].update(sha256="z" * 64),
        "files[1].sha256: expected 64 hexadecimal digits",
    ),
    "sha256 a number": (
        lambda m: m["files"][1].update(sha256=5),
        "files[1].sha256: expected a string, not a number",
    ),
    "name with ..": (
        lambda m: m["files"][0].update(name="../../etc/passwd"),
        "files[0].name: '../../etc/passwd' has",
    ),
    "absolute name": (
        lambda m: m["files"][0].update(name="/etc/passwd"),
        "files[0].name: '/etc/passwd' is absolute",
    ),
    "name with a backslash": (
        lambda m: m["files"][0].update(name="..\\x"),
        "files[0].name: '..\\\\x' holds a backslash",
    ),
    "name with a newline": (
        lambda m: m["files"][1].update(name="a\nb"),
        "files[1].name: holds the control character",
    ),
    "name with ESC": (
        lambda m: m["files"][1].update(name="a\x1b[2Jb"),
        "files[1].name: holds the control character",
    ),
    "name a list": (lambda m: m["files"][0].update(name=[]), "files[0].name: expected a string, not a list"),
    "negative size": (lambda m: m["files"][0].update(size=-1), "files[0].size: "),
    "size a string": (
        lambda m: m["files"][0].update(size="3"),
        "files[0].size: expected an integer, not a string",
    ),
    "a name twice": (
        lambda m: m["files"].append(m["files"][0]),
        "files: the name 'amd64/core.msi' appears twice",
    ),
    "a link with a digest": (
        lambda m: m["files"][0].update(link="x"),
        "files[0]: a link has no size or sha256",
    ),
    "files not a list": (lambda m: m.update(files={"a": 1}), "files: expected a list, not an object"),
    "another format": (lambda m: m.update(format="cyclonedx"), "format: "),
    "version true": (lambda m: m.update(version=True), "version: expected an integer, not true/false"),
    "version 2": (lambda m: m.update(version=2), "version: version 2 is not known"),
    "not an object": (lambda m: None, "(top level): expected an object, not a list"),
}


@pytest.mark.parametrize("finding", MANIFEST_FINDINGS)
def test_finding_release_check_reads_the_manifest_untyped(finding: str, tmp_path: Path) -> None:
    folder = _release_folder(tmp_path)
    document = _manifest(folder)
    mutate, message = MANIFEST_FINDINGS[finding]
    mutate(document)
    if finding == "not an object":
        document = [document]  # type: ignore[assignment]
    path = tmp_path / "release-manifest.json"
    path.write_text(json.dumps(document))
    run = sbomgen("release", folder, "--check", path)
    one_line(run, 4, f"{path}: {message}")
    assert run.stdout == b""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 64 levels deep"),
        (
            b'{"format": "sbomgen-release-manifest", "version": 1' + b"0" * 5000 + b', "files": []}',
            "a number of",
        ),
        (b'{"format": "sbomgen-release-manifest", "version": NaN, "files": []}', "NaN is not a JSON number"),
        (b'{"format": 1, "format": 2}', "the key 'format' appears twice"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"", "not JSON"),
    ],
    ids=["deep", "long number", "NaN", "duplicate key", "not UTF-8", "empty"],
)
def test_finding_release_check_manifest_tracebacks(data: bytes, message: str, tmp_path: Path) -> None:
    folder = _release_folder(tmp_path)
    path = tmp_path / "release-manifest.json"
    path.write_bytes(data)
    run = sbomgen("release", folder, "--check", path)
    one_line(run, 4, f"{path}: {message}")


def test_release_check_manifest_that_is_a_fifo(tmp_path: Path) -> None:
    folder = _release_folder(tmp_path)
    os.mkfifo(tmp_path / "manifest")
    run = sbomgen("release", folder, "--check", tmp_path / "manifest")
    one_line(run, 4, f"--check: {tmp_path / 'manifest'} is not a regular file")


# --- property tests: the manifest loader and check raise nothing but ContentError --------

MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**60)
    | st.floats()
    | st.text(max_size=20)
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)


json_values = st.recursive(json_leaves, _containers, max_leaves=12)
small_values = st.recursive(json_leaves, _containers, max_leaves=4)
# values that sit at the edge of what a manifest's fields take
edge_values = st.sampled_from(
    [
        "../x", "/etc/passwd", "a//b", "./a", "a/.", "a\\b", "a\nb", "a\x1bb", "\x85", "\udcff", "",
        "0" * 64, "A" * 64, "g" * 64, "0" * 63, -1, 0, 2**63, 10**39, 1.5, True, None, [], {},
        "sbomgen-release-manifest", "amd64/core.msi", "link-target",
    ]
)  # fmt: skip


@pytest.fixture(scope="module")
def real_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small release folder of real files (the Sigstore inputs), a subfolder and a link,
    with the manifest sbomgen writes for it."""
    from conftest import DATA

    from sbomgen.workflows.release import manifest

    folder = tmp_path_factory.mktemp("real-release")
    for source in sorted((DATA / "sigstore").iterdir()):
        shutil.copyfile(source, folder / source.name)
    (folder / "amd64").mkdir()
    shutil.copyfile(DATA / "sigstore" / "rfc8785-0.1.2-py3-none-any.whl", folder / "amd64" / "core.msi")
    (folder / "latest.tar.gz").symlink_to("sigstore-3.6.1.tar.gz")
    return folder, json.loads(manifest(folder))


def _check_in_process(folder: Path, data: bytes) -> None:
    """What ``release FOLDER --check MANIFEST`` does once it has read the file's bytes."""
    from sbomgen.documents.manifest import load_manifest
    from sbomgen.errors import ContentError, SbomgenError
    from sbomgen.workflows.release import compare

    try:
        drift = compare(
            load_manifest(data, "release-manifest.json"), folder, folder / "release-manifest.json"
        )
    except ContentError as exc:
        assert exc.exit_code == 4 and "\n" not in str(exc)
        return
    except SbomgenError as exc:
        pytest.fail(f"exit {exc.exit_code} from a manifest: {exc}")
    for name in drift.added + drift.removed + drift.changed:
        assert "\n" not in name and "\x1b" not in name and ".." not in name.split("/")


@pytest.mark.slow
@MANY
@given(
    st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.integers(60, 3000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(1, 3000).map(
            lambda n: b'{"format": "sbomgen-release-manifest", "version": 1%s}' % (b"0" * n)
        ),
    )
)
def test_release_manifest_arbitrary_json(real_release: tuple[Path, dict[str, Any]], data: bytes) -> None:
    _check_in_process(real_release[0], data)


def _places(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``value``: () for the whole, ("files", 0, "name")..."""
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    )
    return [here, *(p for key, child in children for p in _places(child, (*here, key)))]


# The manifest of the release folder below (names and shape; digests do not change paths).
_FILE = {"name": "", "size": 0, "sha256": ""}
_REAL_PLACES = _places(
    {"format": "", "version": 1, "files": [_FILE, {"name": "", "link": ""}, _FILE, _FILE, _FILE, _FILE]}
)
mutations = st.lists(
    st.tuples(
        st.sampled_from(_REAL_PLACES),
        st.sampled_from(["replace", "delete", "duplicate", "wrap"]),
        st.one_of(edge_values, small_values),
    ),
    min_size=1,
    max_size=3,
)


@pytest.mark.slow
@MANY
@given(mutations)
def test_release_manifest_type_mutations(
    real_release: tuple[Path, dict[str, Any]], changes: list[tuple[tuple[Any, ...], str, Any]]
) -> None:
    folder, real = real_release
    document: Any = json.loads(json.dumps(real))
    for place, action, value in changes:
        parent, node = None, document
        try:
            for key in place:
                if not isinstance(node, (dict, list)):
                    raise LookupError(key)
                parent, node = node, node[key]
        except (LookupError, TypeError):
            continue  # an earlier change took this place away
        if parent is None:
            document = value if action == "replace" else [document] if action == "wrap" else document
        elif action == "replace":
            parent[place[-1]] = value
        elif action == "delete":
            del parent[place[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(json.loads(json.dumps(node)))
        else:
            parent[place[-1]] = [node]
    _check_in_process(folder, json.dumps(document).encode())


def test_the_real_manifest_checks_clean(real_release: tuple[Path, dict[str, Any]]) -> None:
    from sbomgen.workflows.release import check

    folder, real = real_release
    assert {"name": "latest.tar.gz", "link": "sigstore-3.6.1.tar.gz"} in real["files"]
    assert len(real["files"]) == 6 and _places(real) == _REAL_PLACES
    path = folder.parent / "clean.json"
    path.write_text(json.dumps(real))
    assert check(path, folder).empty
