"""Input the writers would refuse is refused at the gate with the input's own exit code
(never exit 5), what sbomgen writes it can read back, a cache says nothing an index could
not, nothing is merged silently, and stderr keeps one line per notice."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from conftest import cpython_tree, make_wheel, refused, sbom_data, sbomgen, write_tar

WHEEL = "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"


def misc_package(**changes: Any) -> bytes:
    document = json.loads(sbom_data({"Python/ceval.c": cpython_tree()["Python/ceval.c"]}))
    document["packages"][0].update(changes)
    return json.dumps(document).encode()


def tarball(tmp_path: Path, misc_sbom: bytes | None = None) -> Path:
    tree = cpython_tree()
    if misc_sbom is not None:
        tree["Misc/sbom.spdx.json"] = misc_sbom
    return write_tar(tmp_path / "artifact.tgz", tree)


def wheel_with(files: dict[str, bytes], metadata: str = "Name: pip\nVersion: 99.0\n") -> bytes:
    """A wheel with a METADATA, the given files and a RECORD that matches them."""
    files = {
        "pip/__init__.py": b"",
        "pip-99.0.dist-info/METADATA": f"Metadata-Version: 2.1\n{metadata}".encode(),
        **files,
    }
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for name, data in files.items()
    ]
    files["pip-99.0.dist-info/RECORD"] = ("\n".join([*record, "pip-99.0.dist-info/RECORD,,"]) + "\n").encode()
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# Finding 6: exit 5 from input ----------------------------------------------------------------


def test_finding_supplier_email_not_an_address(tmp_path: Path) -> None:
    artifact = tarball(tmp_path, misc_sbom=misc_package(supplier="Person: Foo (notanemail)"))
    refused(
        tmp_path, 4, "tarball", artifact, "--offline", "-f", "cyclonedx-json", "-o", "{out}",
        fragments=("Misc/sbom.spdx.json: packages[0].supplier: an actor whose email is not an address",),
    )  # fmt: skip


@pytest.mark.parametrize(
    "location",
    ["https://example.com/a|b", "https://example.com/a^b", "https://example.com/a`b", "https://example.com/a\\b",
     "https://example.com/a\U0001f600", "https://example.com/a\ue000"],
)  # fmt: skip
def test_finding_download_location_not_an_iri_reference(tmp_path: Path, location: str) -> None:
    artifact = tarball(tmp_path, misc_sbom=misc_package(downloadLocation=location))
    refused(
        tmp_path, 4, "tarball", artifact, "--offline", "-f", "cyclonedx-json", "-o", "{out}",
        fragments=("Misc/sbom.spdx.json: packages[0].downloadLocation: not a download location",),
    )  # fmt: skip


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml"])
def test_finding_version_info_over_1024_characters(tmp_path: Path, fmt: str) -> None:
    artifact = tarball(tmp_path, misc_sbom=misc_package(versionInfo="1" * 1025))
    refused(
        tmp_path, 4, "tarball", artifact, "--offline", "-f", fmt, "-o", "{out}",
        fragments=("packages[0].versionInfo: a version of 1,025 characters (at most 1,024)",),
    )  # fmt: skip


@pytest.mark.parametrize("digits", [1100, 5000])
def test_finding_py_version_too_long(tmp_path: Path, digits: int) -> None:
    # The top folder is not Python-X.Y.Z, so PY_VERSION alone names the version.
    artifact = write_tar(tmp_path / "cpython-main.tgz", cpython_tree("3." + "1" * digits), top="cpython-main")
    refused(
        tmp_path, 4, "tarball", artifact, "--offline", "-f", "cyclonedx-json", "-o", "{out}",
        fragments=("Include/patchlevel.h: PY_VERSION is not a quoted version: ",),
    )  # fmt: skip


@pytest.mark.parametrize(("version", "cpe_version"), [("1!99.0", "1\\!99.0"), ("99.0+abc", "99.0\\+abc")])
def test_finding_pip_version_escaped_in_cpe(tmp_path: Path, version: str, cpe_version: str) -> None:
    wheel = make_wheel(version=version)
    tree = {k: v for k, v in cpython_tree().items() if k != WHEEL}
    tree[WHEEL.replace("99.0", version)] = wheel  # a wheel's file name gives its version
    artifact = write_tar(tmp_path / "artifact.tgz", tree)
    out = tmp_path / "out"
    run = sbomgen(
        "tarball",
        artifact,
        "--offline",
        "-f",
        "spdx-json,spdx-tv,cyclonedx-json,cyclonedx-xml",
        "-o",
        f"{out}/",
    )
    assert run.returncode == 0, run.stderr
    document = json.loads((out / "artifact.tgz.spdx.json").read_bytes())
    cpes = {r["referenceLocator"] for p in document["packages"] for r in p.get("externalRefs", [])}
    assert f"cpe:2.3:a:pypa:pip:{cpe_version}:*:*:*:*:*:*:*" in cpes


def test_finding_two_vendor_txt_pin_one_package(tmp_path: Path) -> None:
    wheel = wheel_with(
        {"pip/_vendor/vendor.txt": b"requests==2.0.0\n", "a/_vendor/vendor.txt": b"requests==2.0.0\n"}
    )
    artifact = write_tar(tmp_path / "artifact.tgz", {**cpython_tree(), WHEEL: wheel})
    refused(
        tmp_path, 4, "tarball", artifact, "--offline", "-f", "spdx-json", "-o", "{out}",
        fragments=(f"{WHEEL}: requests is pinned by both a/_vendor/vendor.txt and pip/_vendor/vendor.txt",),
    )  # fmt: skip


@pytest.mark.parametrize(("epoch", "timestamp"), [("-62135596800", "0001-01-01T00:00:00+00:00"),
                                                  ("253402300799", "9999-12-31T23:59:59+00:00")])  # fmt: skip
def test_finding_source_date_epoch_bounds_with_cyclonedx(tmp_path: Path, epoch: str, timestamp: str) -> None:
    out = tmp_path / "out"
    run = sbomgen(
        "tarball", tarball(tmp_path), "--offline", "-f", "cyclonedx-json,cyclonedx-xml", "-o", f"{out}/",
        env={"SOURCE_DATE_EPOCH": epoch},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads((out / "artifact.tgz.cdx.json").read_bytes())["metadata"]["timestamp"] == timestamp
    assert f"<timestamp>{timestamp}</timestamp>" in (out / "artifact.tgz.cdx.xml").read_text()


# Finding 8: SPDX that sbomgen cannot read back ------------------------------------------------


@pytest.mark.parametrize("author", ["(x)", "Foo (notanemail)"])
def test_finding_wheel_author_not_a_supplier_name(tmp_path: Path, author: str) -> None:
    wheel = tmp_path / "pip-99.0-py3-none-any.whl"
    wheel.write_bytes(wheel_with({}, metadata=f"Name: pip\nVersion: 99.0\nAuthor: {author}\n"))
    refused(
        tmp_path, 4, "wheel", wheel, "-o", "{out}",
        fragments=(f"METADATA: Author {author!r} is not a supplier name",),
    )  # fmt: skip


# Finding 9: cache exports ---------------------------------------------------------------------


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def cache_export(url: str = "https://files.example/r.whl", license_: str | None = None) -> bytes:
    data = {"files": [{"filename": "requests-2.0.0-py3-none-any.whl", "url": url, "sha256": "b" * 64,
                       "packagetype": "bdist_wheel"}], "license": license_}  # fmt: skip
    entry = {"index_url": "https://pypi.org/pypi", "name": "requests", "version": "2.0.0", "subject": "",
             "fetched_at": "2024-01-01T00:00:00Z", "data": data,
             "sha256": hashlib.sha256(canonical(data).encode()).hexdigest()}  # fmt: skip
    body = {"format": "sbomgen-index-cache", "version": 1, "entries": [entry]}
    return canonical({**body, "sha256": hashlib.sha256(canonical([entry]).encode()).hexdigest()}).encode()


def test_finding_cache_export_is_imported_when_an_index_could_have_sent_it(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(cache_export(license_="MIT"))
    run = sbomgen("cache", "import", export, "--allow-unsigned", "--cache-dir", tmp_path / "cache")
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize(
    ("url", "license_", "fragment"),
    [("javascript:alert(1)", None, "entries[0].data.files[0].url: not an https URL: 'javascript:alert(1)'"),
     ("r.whl", None, "entries[0].data.files[0].url: not an https URL: 'r.whl'"),
     ("https://files.example/a|b.whl", None,
      "entries[0].data.files[0].url: not a URL a CycloneDX document can hold"),
     ("https://files.example/r.whl", "Not A License",
      "entries[0].data.license: not an SPDX expression of known licenses: 'Not A License'")],
)  # fmt: skip
def test_finding_cache_export_says_what_no_index_could(
    tmp_path: Path, url: str, license_: str | None, fragment: str
) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(cache_export(url, license_))
    cache = tmp_path / "cache"
    refused(
        tmp_path,
        8,
        "cache",
        "import",
        export,
        "--allow-unsigned",
        "--cache-dir",
        cache,
        fragments=(f"export.json: {fragment}",),
    )
    # Nothing of the export reached the cache.
    assert sbomgen("cache", "export", tmp_path / "after.json", "--cache-dir", cache).returncode == 0
    assert json.loads((tmp_path / "after.json").read_bytes())["entries"] == []


# Finding 10: silent merges --------------------------------------------------------------------


def test_finding_bom_cdx_lists_one_package_with_two_licenses(tmp_path: Path) -> None:
    components = [
        {"type": "library", "name": name, "version": "2.0.0", "licenses": [{"expression": expression}]}
        for name, expression in (("requests", "MIT"), ("Requests", "GPL-3.0-only"))
    ]
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}
    wheel = wheel_with(
        {"pip/_vendor/vendor.txt": b"requests==2.0.0\n", "pip/_vendor/bom.cdx.json": json.dumps(bom).encode()}
    )
    artifact = write_tar(tmp_path / "artifact.tgz", {**cpython_tree(), WHEEL: wheel})
    refused(
        tmp_path, 4, "tarball", artifact, "--offline", "-f", "spdx-json", "-o", "{out}",
        fragments=("pip/_vendor/bom.cdx.json: Requests 2.0.0 is listed twice, as MIT and as GPL-3.0-only",),
    )  # fmt: skip


# Finding 11b and 11c --------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_finding_json_number_overflowing_to_infinity(tmp_path: Path, number: str) -> None:
    content = misc_package().replace(
        b'"SPDXID": "SPDXRef-DOCUMENT"', f'"x": {number}, "SPDXID": "SPDXRef-DOCUMENT"'.encode()
    )
    artifact = tarball(tmp_path, misc_sbom=content)
    refused(
        tmp_path, 4, "tarball", artifact, "--offline", "-o", "{out}",
        fragments=(f"Misc/sbom.spdx.json: the number {number} is too large for a float",),
    )  # fmt: skip


def test_finding_cyclonedx_library_warning_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    artifact = write_tar(
        tmp_path / "artifact.tgz", {"Include/patchlevel.h": b'#define PY_VERSION "3.99.0"\n'}
    )
    run = sbomgen("tarball", artifact, "--offline", "-f", "cyclonedx-json", "-o", out)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    assert all(line.startswith("sbomgen: ") for line in lines), run.stderr
    assert lines[-1] == f"sbomgen: wrote {out}: 1 packages, 1 files"


def test_finding_index_file_url_a_cyclonedx_document_cannot_hold() -> None:
    from sbomgen.documents.index import read_project
    from sbomgen.enrich.index import IndexResponseError
    from sbomgen.enrich.lookup import release_data
    from sbomgen.errors import EnrichmentError

    file = {"filename": "r.whl", "url": "https://files.example/a|b.whl", "digests": {"sha256": "b" * 64}}
    answer = {"releases": {"2.0.0": [file]}}
    project = read_project(json.dumps(answer).encode(), "requests", "https://pypi.org/pypi/requests/json",
                           1 << 20, EnrichmentError)  # fmt: skip
    with pytest.raises(IndexResponseError, match=r"files\[0\]\.url: not a URL a CycloneDX document can hold"):
        release_data(project, "2.0.0")
