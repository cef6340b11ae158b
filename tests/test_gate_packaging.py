"""The gate for packaging documents: METADATA / PKG-INFO, RECORD, vendor.txt, index answers,
cache rows and cache exports. One test per finding of the adversarial review: each asserts
the exit code, the one line on stderr and that no output file is left."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import CPYTHON_313, PIP_WHEELS, Run, cpython_tree, make_wheel, sbomgen, write_tar
from index_server import IndexServer, recorded_documents

from sbomgen.documents.cache import canonical, digest
from sbomgen.documents.metadata import read_metadata
from sbomgen.documents.record import read_record, record_hash
from sbomgen.documents.vendor import read_vendor_txt
from sbomgen.errors import ContentError
from sbomgen.workflows.embed import embed
from sbomgen.workflows.windows import read_source, windows_inventory


def failed(run: Run, code: int, *fragments: str, out: Path | None = None) -> str:
    """``run`` ended with ``code`` and one line on stderr holding every fragment; the line."""
    assert run.returncode == code, run.stderr
    assert "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("sbomgen: error: "), run.stderr
    assert all(line.startswith("sbomgen: ") for line in run.stderr.strip().splitlines()), run.stderr
    for fragment in fragments:
        assert fragment in last, last
    if out is not None:
        assert not out.exists()
    return last


def tarball(tmp_path: Path, *wheels: tuple[str, bytes]) -> Run:
    tree = cpython_tree()
    for name, content in wheels:
        tree[f"Lib/ensurepip/_bundled/{name}"] = content
    path = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    return sbomgen(
        "tarball", path, "--offline", "--cache-dir", tmp_path / "cache", "-o", tmp_path / "out.json"
    )


def wheel_with(metadata: bytes, vendor_txt: bytes | None = None, name: str = "pip") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(f"{name}-99.0.dist-info/METADATA", metadata)
        if vendor_txt is not None:
            archive.writestr(f"{name}/_vendor/vendor.txt", vendor_txt)
    return buffer.getvalue()


def record_line(path: str, data: bytes) -> str:
    return f"{path},{record_hash(hashlib.sha256(data).digest())},{len(data)}\n"


def demo_wheel(path: Path, record_extra: str = "", files: dict[str, bytes] | None = None) -> Path:
    """demo-1.0: a valid wheel, with ``record_extra`` appended to its RECORD."""
    files = files or {
        "demo/__init__.py": b"",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n",
    }
    record = (
        "".join(record_line(n, d) for n, d in files.items()) + record_extra + "demo-1.0.dist-info/RECORD,,\n"
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("demo-1.0.dist-info/RECORD", record)
    return path


# --- METADATA -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [b"Name: p\xe9p\nVersion: 99.0\n", b"License: MIT \xff\n", b"Classifier: License :: \xc3\x28\n"],
    ids=["Name", "License", "Classifier"],
)
def test_finding_non_utf8_name_license_classifier_in_metadata(tmp_path: Path, line: bytes) -> None:
    metadata = b"Metadata-Version: 2.1\n" + (
        line if line.startswith(b"Name") else b"Name: pip\nVersion: 99.0\n" + line
    )
    run = tarball(tmp_path, ("pip-99.0-py3-none-any.whl", wheel_with(metadata)))
    failed(run, 4, "pip-99.0.dist-info/METADATA: not UTF-8", out=tmp_path / "out.json")
    wheel = tmp_path / "pip-99.0-py3-none-any.whl"
    wheel.write_bytes(wheel_with(metadata))
    failed(
        sbomgen("wheel", wheel, "-o", tmp_path / "w.json"), 4, "METADATA: not UTF-8", out=tmp_path / "w.json"
    )


def test_finding_version_with_spaces_in_metadata(tmp_path: Path) -> None:
    run = tarball(tmp_path, ("pip-99.0-py3-none-any.whl", wheel_with(b"Name: pip\nVersion: 99.0 beta 1\n")))
    failed(run, 4, "METADATA: Version: not a valid PEP 440 version: '99.0 beta 1'", out=tmp_path / "out.json")


def test_finding_metadata_name_is_a_path(tmp_path: Path) -> None:
    run = tarball(tmp_path, ("pip-99.0-py3-none-any.whl", wheel_with(b"Name: ../../etc\nVersion: 99.0\n")))
    failed(run, 4, "METADATA: Name: not a valid project name: '../../etc'", out=tmp_path / "out.json")


def test_finding_metadata_field_with_control_character(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    demo_wheel(
        wheel,
        files={
            "demo/__init__.py": b"",
            "demo-1.0.dist-info/METADATA": b"Name: demo\nVersion: 1.0\nAuthor: Eve\x1b[2J\n",
        },
    )
    failed(
        sbomgen("wheel", wheel, "-o", tmp_path / "o.json"), 4, "Author: holds the control character U+001B"
    )


def test_finding_metadata_field_too_long(tmp_path: Path) -> None:
    metadata = b"Name: pip\nVersion: 99.0\nAuthor: " + b"a" * (200 << 10) + b"\n"
    run = tarball(tmp_path, ("pip-99.0-py3-none-any.whl", wheel_with(metadata)))
    failed(run, 4, "METADATA: Author: String should have at most 65536 characters", out=tmp_path / "out.json")


def test_finding_metadata_name_given_twice(tmp_path: Path) -> None:
    run = tarball(
        tmp_path, ("pip-99.0-py3-none-any.whl", wheel_with(b"Name: pip\nName: evil\nVersion: 99.0\n"))
    )
    failed(run, 4, "METADATA: Name appears 2 times", out=tmp_path / "out.json")


def test_real_metadata_forms_keep_working() -> None:
    """A whole license text (form feeds and all) in License, folded headers, CRLF lines."""
    content = (
        b"Metadata-Version: 2.1\r\nName: Demo_Pkg\r\nVersion: 1.0.post1\r\n"
        b"License: GNU GENERAL PUBLIC LICENSE\r\n        Version 2\r\n        \x0c\r\n        END\r\n"
        b"Author-email: A <a@example.org>,\r\n\tB <b@example.org>\r\n"
        b"Classifier: License :: OSI Approved :: MIT License\r\n\r\nBody \xff\xfe is not read\n"
    )
    with pytest.raises(ContentError, match="not UTF-8"):
        read_metadata(content, "PKG-INFO", ContentError)  # the body is part of the file
    metadata = read_metadata(content.replace(b"\xff\xfe", b""), "PKG-INFO", ContentError)
    assert (metadata.name, metadata.version) == ("Demo_Pkg", "1.0.post1")
    assert metadata.author_email == "A <a@example.org>, B <b@example.org>"
    assert metadata.classifiers == ("License :: OSI Approved :: MIT License",)
    assert metadata.license is not None and "\x0c" in metadata.license


def test_finding_two_pip_wheels(tmp_path: Path) -> None:
    run = tarball(
        tmp_path,
        ("pip-99.0-py3-none-any.whl", make_wheel()),
        ("pip-98.0-py3-none-any.whl", make_wheel(version="98.0")),
    )
    failed(
        run,
        4,
        "two wheels of pip: Lib/ensurepip/_bundled/pip-98.0-py3-none-any.whl and "
        "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl",
        out=tmp_path / "out.json",
    )


def test_finding_a_bundled_wheel_named_for_another_version(tmp_path: Path) -> None:
    """Offline, nothing else would say that pip-99.0-py3-none-any.whl holds pip 98.0: the SBOM
    recorded the file name of one version and the other's version."""
    run = tarball(tmp_path, ("pip-99.0-py3-none-any.whl", make_wheel(version="98.0")))
    failed(
        run,
        4,
        "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl: "
        "the file name says pip 99.0, its METADATA pip 98.0",
        out=tmp_path / "out.json",
    )


# --- vendor.txt ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pin", "fragment"),
    [
        ("requests==2.*", "not a valid PEP 440 version: '2.*'"),
        ("requests===../../x?y", "not a NAME==VERSION pin: 'requests===../../x?y'"),
        ("requests>=2.0", "not a NAME==VERSION pin"),
        ("requests[socks]==2.0", "not a NAME==VERSION pin"),
        ("requests==2.0; python_version<'3'", "not a NAME==VERSION pin"),
        ("requests @ https://example.org/r.whl", "not a NAME==VERSION pin"),
        ("../../etc==1.0", "not a NAME==VERSION pin"),
        ("requests==1." + "9" * 5000, "not a valid PEP 440 version: '1.999"),
    ],
)
def test_finding_vendor_txt_pin_that_is_not_exact(tmp_path: Path, pin: str, fragment: str) -> None:
    wheel = make_wheel(vendor_txt=f"idna==3.10\n{pin}\n")
    run = tarball(tmp_path, ("pip-99.0-py3-none-any.whl", wheel))
    failed(run, 4, "pip/_vendor/vendor.txt, line 2: " + fragment, out=tmp_path / "out.json")


def test_finding_vendor_txt_not_utf8(tmp_path: Path) -> None:
    run = tarball(tmp_path, ("pip-99.0-py3-none-any.whl", make_wheel(vendor_txt="x")))
    assert run.returncode == 4  # "x" has no version either
    wheel = wheel_with(b"Name: pip\nVersion: 99.0\n", vendor_txt=b"r\xe9quests==1.0\n")
    failed(tarball(tmp_path, ("pip-99.0-py3-none-any.whl", wheel)), 4, "vendor.txt: not UTF-8 (byte 1)")


@pytest.mark.parametrize("version", ["22.3.1", "24.2", "25.1.1"])
def test_real_vendor_txt_formats_keep_working(version: str) -> None:
    with zipfile.ZipFile(PIP_WHEELS / f"pip-{version}-py3-none-any.whl") as archive:
        content = archive.read("pip/_vendor/vendor.txt")
    pins = read_vendor_txt(content, "vendor.txt", ContentError)
    assert len(pins) == {"22.3.1": 23, "24.2": 18, "25.1.1": 20}[version]
    assert ("typing-extensions", pins[[n for n, _ in pins].index("typing-extensions")][1]) in pins
    if version == "22.3.1":
        assert ("certifi", "2022.09.24") in pins  # the version as written, not normalised


# --- RECORD -------------------------------------------------------------------------------


def test_finding_record_row_without_hash(tmp_path: Path) -> None:
    files = {
        "demo/__init__.py": b"",
        "demo/evil.py": b"import os\n",
        "demo-1.0.dist-info/METADATA": b"Name: demo\nVersion: 1.0\n",
    }
    record = {n: d for n, d in files.items() if n != "demo/evil.py"}
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        text = (
            "".join(record_line(n, d) for n, d in record.items())
            + "demo/evil.py,,\ndemo-1.0.dist-info/RECORD,,\n"
        )
        archive.writestr("demo-1.0.dist-info/RECORD", text)
    out = tmp_path / "o.json"
    failed(sbomgen("wheel", wheel, "-o", out), 4, "demo/evil.py has no hash", out=out)
    folder = tmp_path / "embedded"
    failed(sbomgen("wheel", wheel, "--embed", "-o", folder), 4, "demo/evil.py has no hash")
    assert not (folder / wheel.name).exists()


def test_finding_record_field_over_128_kib(tmp_path: Path) -> None:
    wheel = demo_wheel(
        tmp_path / "demo-1.0-py3-none-any.whl", record_extra="demo/x.py," + "a" * (130 << 10) + ",1\n"
    )
    out = tmp_path / "o.json"
    failed(sbomgen("wheel", wheel, "-o", out), 4, "RECORD, line 3: longer than 65,536 characters", out=out)


def test_finding_embed_non_utf8_record_size(tmp_path: Path) -> None:
    wheel = demo_wheel(tmp_path / "demo-1.0-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["demo-1.0.dist-info/RECORD"] = members["demo-1.0.dist-info/RECORD"].replace(
        b",0\n", b",\xff\n", 1
    )
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    folder = tmp_path / "embedded"
    failed(sbomgen("wheel", wheel, "--embed", "-o", folder), 4, "RECORD: not UTF-8")
    assert not (folder / wheel.name).exists()
    # The embedder reads RECORD with the scan's reader, whoever calls it.
    with pytest.raises(ContentError, match="RECORD: not UTF-8"):
        embed(wheel, b"{}")


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("demo/x.py,sha256=abc,1", "demo/x.py: 'sha256=abc' is not a SHA256"),
        ("demo/x.py,sha256=\u0080" + "A" * 42 + ",1", "is not a SHA256 in unpadded urlsafe base64"),
        ("demo/x.py,md5=" + "A" * 22 + ",1", "demo/x.py: RECORD uses 'md5'; sha256 expected"),
        ("demo/x.py,sha256=" + "A" * 43 + ",1_000", "demo/x.py: the size '1_000' is not a number of bytes"),
        ("demo/x.py,sha256=" + "A" * 43, "2 fields, not the 3 of path,hash,size"),
        ('"demo/x.py,sha256=,1', "not a CSV row"),
        ("demo/__init__.py,,", "demo/__init__.py is listed twice"),
        ("demo/\x1bx.py,,", "the path holds the control character U+001B"),
    ],
)
def test_finding_record_rows_that_say_nothing_certain(tmp_path: Path, row: str, fragment: str) -> None:
    wheel = demo_wheel(tmp_path / "demo-1.0-py3-none-any.whl", record_extra=row + "\n")
    out = tmp_path / "o.json"
    failed(sbomgen("wheel", wheel, "-o", out), 4, fragment, out=out)


def test_record_signature_files_need_no_hash() -> None:
    text = "d/a.py,sha256=" + "A" * 43 + ",3\nd-1.dist-info/RECORD,,\nd-1.dist-info/RECORD.jws,,\n"
    record = read_record(text.encode(), "d-1.dist-info/RECORD", "RECORD", ContentError)
    assert [r.path for r in record.rows if r.sha256 is None] == [
        "d-1.dist-info/RECORD",
        "d-1.dist-info/RECORD.jws",
    ]


# --- index answers ------------------------------------------------------------------------


def pip_document(wheel: bytes) -> dict[str, Any]:
    return {
        "info": {"name": "pip", "version": "99.0", "license_expression": "MIT", "classifiers": []},
        "releases": {
            "99.0": [
                {
                    "filename": "pip-99.0-py3-none-any.whl",
                    "url": "https://files.example.org/pip-99.0-py3-none-any.whl",
                    "digests": {"sha256": hashlib.sha256(wheel).hexdigest()},
                    "packagetype": "bdist_wheel",
                }
            ]
        },
    }


def online(tmp_path: Path, pip: bytes, *extra: str) -> tuple[Run, Path]:
    """A small release whose pip wheel the index answers for with ``pip``."""
    wheel = make_wheel(vendor_txt="requests==2.32.3\n")
    tree = cpython_tree()
    tree["Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"] = wheel
    path = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    documents = {"pip": pip, "requests": recorded_documents()["requests"]}
    out = tmp_path / "out.json"
    with IndexServer(documents) as server:
        run = sbomgen(
            "tarball", path, "-o", out, "--index-url", server.url, "--cache-dir", tmp_path / "cache", *extra
        )
    return run, out


def small_pip_document() -> dict[str, Any]:
    return pip_document(make_wheel(vendor_txt="requests==2.32.3\n"))


def test_finding_index_answer_with_deeply_nested_arrays(tmp_path: Path) -> None:
    body = b'{"info": {"classifiers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}, " + b'"releases": {}}'
    run, out = online(tmp_path, body)
    failed(run, 7, "the index's answer for pip: nested more than 64 levels deep", out=out)


def test_finding_index_answer_with_a_huge_integer(tmp_path: Path) -> None:
    document = small_pip_document()
    document["info"]["last_serial"] = 0
    body = json.dumps(document).replace('"last_serial": 0', '"last_serial": ' + "9" * 5000).encode()
    run, out = online(tmp_path, body)
    failed(run, 7, "the index's answer for pip: a number of 5000 characters", out=out)


def test_finding_index_answer_with_classifiers_5(tmp_path: Path) -> None:
    document = small_pip_document()
    document["info"]["classifiers"] = 5
    run, out = online(tmp_path, json.dumps(document).encode())
    failed(run, 7, "the index's answer for pip: info.classifiers: expected a list, not a number", out=out)


def test_finding_non_hex_sha256_from_the_index(tmp_path: Path) -> None:
    document = small_pip_document()
    document["releases"]["99.0"][0]["digests"]["sha256"] = "z" * 64
    run, out = online(tmp_path, json.dumps(document).encode())
    failed(
        run,
        7,
        "the index's answer for pip: releases.99.0[0].digests.sha256: expected 64 hexadecimal digits",
        out=out,
    )


def test_finding_index_answer_that_is_not_json(tmp_path: Path) -> None:
    run, out = online(tmp_path, b'{"info": {"name": "pip"')
    failed(run, 7, "the index's answer for pip: not JSON", out=out)


def test_valid_small_answer_resolves(tmp_path: Path) -> None:
    run, out = online(tmp_path, json.dumps(small_pip_document()).encode())
    assert run.returncode == 0, run.stderr
    pip = next(p for p in json.loads(out.read_text())["packages"] if p["name"] == "pip")
    assert pip["downloadLocation"] == "https://files.example.org/pip-99.0-py3-none-any.whl"


# --- the cache and its exports ------------------------------------------------------------


def warm_cache(tmp_path: Path) -> Path:
    run, _ = online(tmp_path, json.dumps(small_pip_document()).encode())
    assert run.returncode == 0, run.stderr
    return tmp_path / "cache" / "index.sqlite3"


def tamper(database: Path, name: str, text: str) -> None:
    """Replace a row's data and recompute its checksum, as someone editing the cache would."""
    db = sqlite3.connect(database)
    db.execute("UPDATE release SET data = ?, sha256 = ? WHERE name = ?", (text, digest(text), name))
    db.commit()
    db.close()


def offline(tmp_path: Path) -> tuple[Run, Path]:
    out = tmp_path / "offline.json"
    path = tmp_path / "Python-3.99.0.tgz"
    db = sqlite3.connect(tmp_path / "cache" / "index.sqlite3")
    (index_url,) = db.execute("SELECT DISTINCT index_url FROM release").fetchone()
    db.close()
    options = ("--offline", "--index-url", index_url, "--cache-dir", tmp_path / "cache")
    return sbomgen("tarball", path, "-o", out, *options), out


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels deep"),
        ('{"files": [], "license": ' + "1" * 5000 + "}", "a number of 5000 characters"),
        ('{"files": 5}', "files: expected a list, not a number"),
    ],
)
def test_finding_tampered_cache_with_nesting_huge_integers_wrong_types(
    tmp_path: Path, text: str, fragment: str
) -> None:
    tamper(warm_cache(tmp_path), "pip", text)
    run, out = offline(tmp_path)
    failed(run, 8, "index.sqlite3: the entry for pip 99.0: " + fragment, out=out)


def test_finding_non_hex_sha256_from_the_cache(tmp_path: Path) -> None:
    database = warm_cache(tmp_path)
    text = sqlite3.connect(database).execute("SELECT data FROM release WHERE name = 'pip'").fetchone()[0]
    data = json.loads(text)
    data["files"][0]["sha256"] = "not-hex"
    tamper(database, "pip", canonical(data))
    run, out = offline(tmp_path)
    failed(run, 8, "the entry for pip 99.0: files[0].sha256: expected 64 hexadecimal digits", out=out)


def export_of(tmp_path: Path) -> dict[str, Any]:
    warm_cache(tmp_path)
    export = tmp_path / "export.json"
    assert sbomgen("cache", "export", export, "--cache-dir", tmp_path / "cache").returncode == 0
    document: dict[str, Any] = json.loads(export.read_text())
    return document


def seal(document: dict[str, Any]) -> bytes:
    """An export whose checksums are made to fit whatever it says."""
    for entry in document["entries"]:
        entry["sha256"] = digest(canonical(entry["data"]))
    document["sha256"] = digest(canonical(document["entries"]))
    return canonical(document).encode()


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            lambda d: d["entries"][0]["data"]["files"][0].update(sha256="Z" * 64),
            "files[0].sha256: expected 64",
        ),
        (lambda d: d["entries"][0]["data"].update(files="abc"), "entries[0].data.files: expected a list"),
        (lambda d: d["entries"][0].update(name=5), "entries[0].name: expected a string, not a number"),
        (lambda d: d["entries"][0]["data"].update(license="MIT\nEvil"), "holds the control character U+000A"),
    ],
)
def test_finding_cache_export_with_wrong_types(tmp_path: Path, change: Any, fragment: str) -> None:
    document = export_of(tmp_path)
    change(document)
    export = tmp_path / "edited.json"
    export.write_bytes(seal(document))
    fresh = tmp_path / "fresh"
    failed(
        sbomgen("cache", "import", export, "--allow-unsigned", "--cache-dir", fresh),
        8,
        "edited.json: ",
        fragment,
    )
    assert not fresh.exists()  # checked whole before the cache is opened: not even an empty one


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "not a cache export (nested more than 64 levels deep)"),
        (
            b'{"format": "sbomgen-index-cache", "version": ' + b"1" * 5000 + b"}",
            "a number of 5000 characters",
        ),
        (
            b'{"format": "sbomgen-index-cache", "version": 1, "entries": 5, "sha256": ""}',
            "entries: expected a list",
        ),
    ],
)
def test_finding_cache_export_with_nesting_and_huge_integers(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(content)
    failed(
        sbomgen("cache", "import", export, "--allow-unsigned", "--cache-dir", tmp_path / "cache"), 8, fragment
    )


def test_finding_two_pip_wheels_for_windows_sboms(tmp_path: Path) -> None:
    parts = read_source(CPYTHON_313)
    wheels = {
        "Lib/ensurepip/_bundled/pip-98.0-py3-none-any.whl": make_wheel(version="98.0"),
        "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl": make_wheel(),
    }
    installer = tmp_path / "python-3.13.5-amd64.exe"
    installer.write_bytes(b"MZ")
    with pytest.raises(
        ContentError, match="2 wheels of pip: Lib/ensurepip/_bundled/pip-98.0-py3-none-any.whl and"
    ):
        windows_inventory(installer, replace(parts, wheels=wheels))


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://evil.example/pip.whl"])
def test_finding_index_file_url_that_is_no_download(tmp_path: Path, url: str) -> None:
    document = small_pip_document()
    document["releases"]["99.0"][0]["url"] = url
    run, out = online(tmp_path, json.dumps(document).encode())
    failed(run, 7, "the index's answer for pip: releases.99.0[0].url: not an https URL", out=out)
