"""Wheels and sdists: RECORD checks, vendored packages, PEP 770 SBOMs, open releases."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import CPYTHON_313, DATA, PIP_WHEELS, cpython_tree, make_wheel, sbomgen, write_tar
from index_server import FIXTURES, IndexServer, recorded_documents

from sbomgen.enrich import EnrichOptions
from sbomgen.enrich.index import IndexSettings, configured_index_url
from sbomgen.enrich.lookup import enrich
from sbomgen.scan import scan
from sbomgen.scan.distribution import DistributionScanner
from sbomgen.scan.license_text import METHOD
from sbomgen.workflows.embed import wheel_with_sbom
from sbomgen.write import cyclonedx

SIGSTORE_SDIST = DATA / "sigstore" / "sigstore-3.6.1.tar.gz"


def packages(path: Path) -> dict[str, str]:
    return {p["name"]: p.get("versionInfo", "") for p in json.loads(path.read_text())["packages"]}


@pytest.mark.parametrize(("version", "vendored"), [("24.2", 18), ("25.1.1", 20)])
def test_real_pip_wheels(version: str, vendored: int, tmp_path: Path) -> None:
    wheel = PIP_WHEELS / f"pip-{version}-py3-none-any.whl"
    out = tmp_path / "pip.spdx.json"
    run = sbomgen("wheel", wheel, "-o", out)
    assert run.returncode == 0, run.stderr
    assert sbomgen("validate", out).returncode == 0
    found = packages(out)
    assert found.pop("pip") == version
    assert len(found) == vendored and found["urllib3"].startswith("1.26.")
    document = json.loads(out.read_text())
    with zipfile.ZipFile(wheel) as archive:
        assert len(document["files"]) == len([i for i in archive.infolist() if not i.is_dir()])
    pip = next(p for p in document["packages"] if p["name"] == "pip")
    assert pip["checksums"] == [
        {"algorithm": "SHA256", "checksumValue": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    ]
    assert pip["licenseDeclared"] == "MIT"
    # Concluded from the wheel's own license file (exact match), as for a recorded one.
    licenses = "licenses/" if version == "25.1.1" else ""
    assert (pip["licenseConcluded"], pip["copyrightText"], pip["licenseComments"]) == (
        "MIT",
        "Copyright (c) 2008-present The pip developers (see AUTHORS.txt file)",
        f"Concluded license: {METHOD}. pip-{version}.dist-info/{licenses}LICENSE.txt in {wheel.name}: MIT.",
    )
    # What the wheel vendors, its distributor supplies (as the PSF does for a CPython release).
    assert {p["supplier"] for p in document["packages"]} == {"Organization: The pip developers"}
    run = sbomgen("validate", "--profile", "ntia", out)
    assert run.returncode == 0, run.stdout


def test_license_files_a_wheel_ships_for_what_it_vendors(tmp_path: Path) -> None:
    # pip 25.2 on ships each vendored package's license files in its .dist-info (PEP 639):
    # they say the vendored package's license, not pip's.
    from base64 import urlsafe_b64encode

    source = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
    with zipfile.ZipFile(FIXTURES / "files" / "idna-3.10-py3-none-any.whl") as idna:
        bsd = idna.read("idna-3.10.dist-info/LICENSE.md")
    licenses = "pip-25.1.1.dist-info/licenses/src/pip/_vendor/"
    added = {
        f"{licenses}idna/LICENSE.md": bsd,
        f"{licenses}certifi/LICENSE": b"Not a license text.\n",
        # No vendored package is called so: the path alone takes no license from pip's.
        f"{licenses}ghost/LICENSE.md": bsd,
    }
    wheel = tmp_path / source.name
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                for name, content in added.items():
                    digest = urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
                    data += f"{name},sha256={digest},{len(content)}\n".encode()
            copy.writestr(info, data)
        for name, content in added.items():
            copy.writestr(name, content)
    out = tmp_path / "pip.spdx.json"
    run = sbomgen("wheel", wheel, "--offline", "--cache-dir", tmp_path / "cache", "-o", out)
    assert run.returncode == 0, run.stderr
    found = {p["name"]: p for p in json.loads(out.read_text())["packages"]}
    assert found["pip"]["licenseConcluded"] == "MIT AND BSD-3-Clause"
    assert "_vendor/idna" not in found["pip"]["licenseComments"]
    assert f"{licenses}ghost/LICENSE.md in {wheel.name}: BSD-3-Clause" in found["pip"]["licenseComments"]
    assert (found["idna"]["licenseConcluded"], found["idna"]["copyrightText"]) == (
        "BSD-3-Clause",
        "Copyright (c) 2013-2024, Kim Davies and contributors",
    )
    assert f"{licenses}idna/LICENSE.md in {wheel.name}: BSD-3-Clause" in found["idna"]["licenseComments"]
    assert found["certifi"]["licenseConcluded"] == "NOASSERTION"
    assert f"{licenses}certifi/LICENSE in {wheel.name}" in found["certifi"]["licenseComments"]
    # A vendored package that ships no license file says nothing from the wheel.
    assert "licenseComments" not in found["urllib3"]


def test_real_sdist(tmp_path: Path) -> None:
    out = tmp_path / "sigstore.spdx.json"
    run = sbomgen("sdist", SIGSTORE_SDIST, "-o", out)
    assert run.returncode == 0, run.stderr
    assert sbomgen("validate", out).returncode == 0
    document = json.loads(out.read_text())
    assert [(p["name"], p["versionInfo"]) for p in document["packages"]] == [("sigstore", "3.6.1")]
    # Its top-level LICENSE is the Apache-2.0 text with its appendix (text after the end of
    # the terms is extra, by the SPDX matching guidelines); it states no copyright.
    (sigstore,) = document["packages"]
    assert (sigstore["licenseConcluded"], sigstore.get("copyrightText"), sigstore["licenseComments"]) == (
        "Apache-2.0",
        None,
        f"Concluded license: {METHOD}. LICENSE in {SIGSTORE_SDIST.name}: Apache-2.0.",
    )
    names = {f["fileName"] for f in document["files"]}
    assert {"PKG-INFO", "pyproject.toml", "sigstore/sign.py"} <= names


@pytest.mark.parametrize(
    ("artifact", "name", "version"),
    [(PIP_WHEELS / "pip-25.1.1-py3-none-any.whl", "pip", "25.1.1"), (SIGSTORE_SDIST, "sigstore", "3.6.1")],
)
def test_documents_are_named_after_the_distribution(
    artifact: Path, name: str, version: str, tmp_path: Path
) -> None:
    is_wheel = artifact.suffix == ".whl"
    out = tmp_path / "sbom.spdx.json"
    run = sbomgen("wheel" if is_wheel else "sdist", artifact, "-o", out, "--offline")
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text())["name"] == artifact.name

    # CycloneDX (not on these commands yet): the writer on the same inventory.
    inventory = scan(artifact, scanners=[DistributionScanner(wheel=is_wheel)], top_folder=not is_wheel)
    bom = json.loads(cyclonedx.render(inventory))
    subject = bom["metadata"]["component"]
    assert (subject["name"], subject["version"], subject["bom-ref"]) == (name, version, f"component:{name}")
    refs = [c["bom-ref"] for c in bom.get("components", []) if c["type"] == "library"]
    assert len(refs) == (20 if is_wheel else 0)  # what pip vendors: top-level, beside its files
    assert not [ref for ref in refs if "cpython" in ref]


def test_the_cpython_tarball_keeps_its_document_name(tmp_path: Path) -> None:
    tarball = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    run = sbomgen("tarball", tarball, "-o", tmp_path, "-f", "spdx-json,cyclonedx-json", "--offline")
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / f"{tarball.name}.spdx.json").read_text())["name"] == "CPython SBOM"
    subject = json.loads((tmp_path / f"{tarball.name}.cdx.json").read_text())["metadata"]["component"]
    assert (subject["name"], subject["bom-ref"]) == ("CPython", "component:cpython")


def test_record_mismatch_names_the_file(tmp_path: Path) -> None:
    source = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
    damaged = tmp_path / source.name
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "pip/_internal/cli/main.py":
                data = data[:200] + bytes([data[200] ^ 1]) + data[201:]
            copy.writestr(info, data)
    out = tmp_path / "out.json"
    run = sbomgen("wheel", damaged, "-o", out)
    assert run.returncode == 4
    assert "pip/_internal/cli/main.py does not match its RECORD hash" in run.stderr
    assert not out.exists()


def test_a_record_size_that_is_not_the_files_is_refused(tmp_path: Path) -> None:
    source = DATA / "sigstore" / "rfc8785-0.1.2-py3-none-any.whl"
    lying = tmp_path / source.name
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(lying, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                rows = data.decode().splitlines()
                path, digest, size = next(r for r in rows if r.startswith("rfc8785/_impl.py,")).split(",")
                data = data.replace(
                    f"{path},{digest},{size}\n".encode(), f"{path},{digest},{int(size) + 1}\n".encode()
                )
            copy.writestr(info, data)
    out = tmp_path / "out.json"
    run = sbomgen("wheel", lying, "--offline", "-o", out)
    assert run.returncode == 4, run.stderr
    assert run.stderr.splitlines() == [
        f"sbomgen: error: {lying.name}: rfc8785/_impl.py is {size} bytes, RECORD says {int(size) + 1}"
    ]
    assert not out.exists()


def test_finding_a_distribution_that_names_another_project(tmp_path: Path) -> None:
    """Which project a wheel is must not depend on the archive's order, nor contradict its
    file name: two .dist-info folders, or a file name naming another project or version than
    the metadata, are refused (exit 4, one line) as installers refuse them."""
    source = DATA / "sigstore" / "rfc8785-0.1.2-py3-none-any.whl"
    two = tmp_path / "two" / source.name
    two.parent.mkdir()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(two, "w") as copy:
        for info in original.infolist():
            copy.writestr(info, original.read(info))
        copy.writestr("other-2.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: other\nVersion: 2.0\n")
    renamed = tmp_path / "rfc8785-0.1.3-py3-none-any.whl"
    renamed.write_bytes(source.read_bytes())
    sdist = write_tar(tmp_path / "demo-1.0.tar.gz", {"PKG-INFO": b"Name: other\nVersion: 1.0\n"}, "demo-1.0")
    for artifact, message in (
        (two, "2 .dist-info folders (other-2.0.dist-info, rfc8785-0.1.2.dist-info); a wheel has one"),
        (renamed, "the file name says rfc8785 0.1.3, its METADATA rfc8785 0.1.2"),
        (sdist, "the file name says demo 1.0, its PKG-INFO other 1.0"),
    ):
        out = tmp_path / "out.json"
        run = sbomgen("wheel" if artifact.suffix == ".whl" else "sdist", artifact, "--offline", "-o", out)
        assert run.returncode == 4, run.stderr
        assert run.stderr.splitlines() == [f"sbomgen: error: {artifact.name}: {message}"]
        assert not out.exists()
    # Names and versions compare as the standards normalise them.
    alike = write_tar(
        tmp_path / "Demo_Pkg-1.0.0.tar.gz", {"PKG-INFO": b"Name: demo.pkg\nVersion: 1.0\n"}, "Demo_Pkg-1.0.0"
    )
    run = sbomgen("sdist", alike, "--offline", "-qq", "-o", tmp_path / "alike.json")
    assert run.returncode == 0, run.stderr


def test_embedded_sbom_round_trip(tmp_path: Path) -> None:
    source = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        run = sbomgen("wheel", source, "--embed", "-o", folder)
        assert run.returncode == 0, run.stderr
    embedded = first / source.name
    assert embedded.read_bytes() == (second / source.name).read_bytes()  # byte-reproducible
    with zipfile.ZipFile(embedded) as archive:
        sbom = json.loads(archive.read("pip-25.1.1.dist-info/sboms/sbomgen.spdx.json"))
        record = archive.read("pip-25.1.1.dist-info/RECORD").decode()
    assert "pip-25.1.1.dist-info/sboms/sbomgen.spdx.json,sha256=" in record
    assert len(sbom["packages"]) == 21

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    # The embedded wheel installs with the pip it contains (run from the wheel itself).
    install = subprocess.run(
        [python, f"{embedded}/pip", "install", "--no-index", "--no-deps", "--no-cache-dir", str(embedded)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "pip-25.1.1.dist-info/sboms/sbomgen.spdx.json").is_file()
    version = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("pip 25.1.1")

    out = tmp_path / "back.json"
    run = sbomgen("wheel", embedded, "-o", out, "--offline")
    assert run.returncode == 0, run.stderr
    assert (
        "read the SBOM the distribution carries: pip-25.1.1.dist-info/sboms/sbomgen.spdx.json" in run.stderr
    )
    assert len(json.loads(out.read_text())["packages"]) == 21  # merged, nothing duplicated


def test_embedded_wheel_reads_back_against_the_index(tmp_path: Path) -> None:
    """The wheel an SBOM was embedded in is the subject, not a bundled wheel: its bytes differ
    from the published file's, and its SBOM says so rather than failing (exit 7)."""
    source = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
    run = sbomgen("wheel", source, "--embed", "-o", tmp_path / "embedded")
    assert run.returncode == 0, run.stderr
    embedded = tmp_path / "embedded" / source.name

    def pip(wheel: Path, out: Path) -> tuple[dict[str, Any], str]:
        run = sbomgen("wheel", wheel, "-o", out)  # online: the session's loopback index
        assert run.returncode == 0, run.stderr
        document = json.loads(out.read_text())
        assert len(document["packages"]) == 21  # the carried SBOM merged, nothing duplicated
        return next(p for p in document["packages"] if p["name"] == "pip"), run.stderr

    published = hashlib.sha256(source.read_bytes()).hexdigest()
    original, _ = pip(source, tmp_path / "original.json")
    assert original["checksums"] == [{"algorithm": "SHA256", "checksumValue": published}]
    assert original["downloadLocation"].endswith("/pip-25.1.1-py3-none-any.whl")

    own = hashlib.sha256(embedded.read_bytes()).hexdigest()
    back, notices = pip(embedded, tmp_path / "back.json")
    assert back["checksums"] == [{"algorithm": "SHA256", "checksumValue": own}]
    assert back["downloadLocation"] == "NOASSERTION"  # not where the index's file is
    assert (
        f"{source.name} is not the file the index publishes under that name "
        f"(its SHA256 is {own}, the index's {published})"
    ) in notices


def test_the_embedded_sbom_claims_no_published_file(tmp_path: Path) -> None:
    """Inside the new wheel, the SBOM claims neither the published file's checksum nor its
    location: the new wheel is neither (what ``wheel --embed`` writes, from the library)."""
    source = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
    inventory = scan(source, scanners=[DistributionScanner(wheel=True)], top_folder=False)
    options = EnrichOptions(index=IndexSettings(url=configured_index_url()), cache_dir=tmp_path / "cache")
    inventory, _ = enrich(inventory, options)
    assert inventory.component(inventory.root).download_location  # the published file's
    new = tmp_path / source.name
    new.write_bytes(wheel_with_sbom(source, inventory))
    with zipfile.ZipFile(new) as archive:
        sbom = json.loads(archive.read("pip-25.1.1.dist-info/sboms/sbomgen.spdx.json"))
    assert sbom["name"] == source.name
    pip = next(p for p in sbom["packages"] if p["name"] == "pip")
    assert "checksums" not in pip and pip["downloadLocation"] == "NOASSERTION"
    assert len(sbom["packages"]) == 21


def test_pep770_sbom_components_are_merged(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    carried = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"type": "library", "name": "requests", "version": "2.0.0", "purl": "pkg:pypi/requests@2.0.0"},
            {"type": "library", "name": "zlib", "version": "1.3.1", "purl": "pkg:generic/zlib@1.3.1"},
        ],
    }
    files = {
        "demo/__init__.py": b"",
        "demo/_vendor/vendor.txt": b"requests==2.0.0\n",
        "demo-1.0.dist-info/METADATA": (
            b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-Expression: MIT\n"
        ),
        "demo-1.0.dist-info/sboms/auditwheel.cdx.json": json.dumps(carried).encode(),
    }
    import base64

    record = (
        "".join(
            f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
            for n, d in files.items()
        )
        + "demo-1.0.dist-info/RECORD,,\n"
    )
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("demo-1.0.dist-info/RECORD", record)
    out = tmp_path / "demo.json"
    run = sbomgen("wheel", wheel, "-o", out)
    assert run.returncode == 0, run.stderr
    assert packages(out) == {"demo": "1.0", "requests": "2.0.0", "zlib": "1.3.1"}
    unlisted = tmp_path / "unlisted" / wheel.name
    unlisted.parent.mkdir()
    with zipfile.ZipFile(wheel) as original, zipfile.ZipFile(unlisted, "w") as copy:
        for info in original.infolist():
            copy.writestr(info, original.read(info))
        copy.writestr("demo/extra.py", b"print('not in RECORD')\n")
    run = sbomgen("wheel", unlisted, "-o", tmp_path / "x.json")
    assert run.returncode == 4 and "not listed in RECORD: demo/extra.py" in run.stderr


# --- open releases ------------------------------------------------------------------------


def test_check_reports_files_added_and_removed(tmp_path: Path) -> None:
    wheel_bytes = make_wheel(vendor_txt="requests==2.32.3\nidna==3.10\ncertifi==2025.1.31\n")
    tree = cpython_tree()
    tree["Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"] = wheel_bytes
    tarball = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    recorded = recorded_documents()
    pip = {
        "info": {"name": "pip", "version": "99.0"},
        "releases": {
            "99.0": [
                {
                    "filename": "pip-99.0-py3-none-any.whl",
                    "url": "https://files.example.org/pip-99.0-py3-none-any.whl",
                    "digests": {"sha256": hashlib.sha256(wheel_bytes).hexdigest()},
                    "packagetype": "bdist_wheel",
                }
            ]
        },
    }
    documents = {"pip": json.dumps(pip).encode(), **{n: recorded[n] for n in ("requests", "idna", "certifi")}}
    out = tmp_path / "sbom.json"
    with IndexServer(documents) as server:
        run = sbomgen(
            "tarball", tarball, "-o", out, "--index-url", server.url, "--cache-dir", tmp_path / "cache"
        )
        assert run.returncode == 0, run.stderr
        unchanged = sbomgen("check", out, "--index-url", server.url, "--cache-dir", tmp_path / "cache")
        assert unchanged.returncode == 0, unchanged.stdout
        assert b"4 releases: unchanged since the SBOM was made" in unchanged.stdout

        requests: dict[str, Any] = json.loads(documents["requests"])
        requests["releases"]["2.32.3"].append(
            {
                "filename": "requests-2.32.3-cp313-cp313-manylinux_2_17_x86_64.whl",
                "url": "https://files.example.org/requests-2.32.3-cp313-cp313-manylinux_2_17_x86_64.whl",
                "digests": {"sha256": "ab" * 32},
                "packagetype": "bdist_wheel",
            }
        )
        server.documents["requests"] = json.dumps(requests).encode()
        idna: dict[str, Any] = json.loads(documents["idna"])
        idna["releases"]["3.10"] = [
            f for f in idna["releases"]["3.10"] if not f["filename"].endswith(".tar.gz")
        ]
        server.documents["idna"] = json.dumps(idna).encode()

        changed = sbomgen(
            "check", out, "--index-url", server.url, "--cache-dir", tmp_path / "cache", "--json"
        )
    assert changed.returncode == 1
    assert [
        {k: r[k] for k in ("name", "version", "added", "removed", "changed")}
        for r in json.loads(changed.stdout)["changed"]
    ] == [
        {"name": "idna", "version": "3.10", "added": [], "removed": ["idna-3.10.tar.gz"], "changed": []},
        {
            "name": "requests",
            "version": "2.32.3",
            "added": [
                {
                    "filename": "requests-2.32.3-cp313-cp313-manylinux_2_17_x86_64.whl",
                    "tags": ["cp313-cp313-manylinux_2_17_x86_64"],
                }
            ],
            "removed": [],
            "changed": [],
        },
    ]
    # Offline, the cache answers, and it holds what the index said when the SBOM was made.
    offline = sbomgen("check", out, "--offline", "--index-url", server.url, "--cache-dir", tmp_path / "cache")
    assert offline.returncode == 0, offline.stdout
    assert b"unchanged since the SBOM was made" in offline.stdout


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml"])
def test_check_reads_cyclonedx(fmt: str, tmp_path: Path) -> None:
    """sbomgen's own CycloneDX SBOM of 3.13.5 records the release files of pip and what it
    vendors, as its SPDX does; check reads them back (the session's loopback index)."""
    out = tmp_path / "sbom"
    cache = tmp_path / "cache"
    run = sbomgen("tarball", CPYTHON_313, "-f", fmt, "-o", out, "--cache-dir", cache)
    assert run.returncode == 0, run.stderr
    not_pypi = (
        b"not checked: CPython (pkg:generic/python@3.13.5): not a PyPI package\n"
        b"not checked: expat (pkg:github/libexpat/libexpat@R_2_6_3): not a PyPI package\n"
        b"not checked: hacl-star (pkg:github/hacl-star/hacl-star@bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0):"
        b" not a PyPI package\n"
        b"not checked: libb2 (pkg:github/blake2/libb2@v0.98.1): not a PyPI package\n"
        b"not checked: mpdecimal (pkg:generic/mpdecimal@2.5.1): not a PyPI package\n"
    )
    unchanged = sbomgen("check", out, "--cache-dir", cache)
    assert unchanged.returncode == 0, unchanged.stderr
    assert unchanged.stdout == not_pypi + b"22 releases: unchanged since the SBOM was made\n"
    # Offline, the cache answers for all of them: macholib (Misc/sbom.spdx.json's pkg:pypi
    # package) is looked up and cached when the SBOM is made, like pip and what it vendors.
    offline = sbomgen("check", out, "--cache-dir", cache, "--offline")
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == not_pypi + b"22 releases: unchanged since the SBOM was made\n"
