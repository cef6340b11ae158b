"""sbomgen tarball on the real CPython releases in ../shared/data."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    C_LIBRARY_PURLS_313,
    CPYTHON_311,
    CPYTHON_313,
    PIP_22_3_1_VENDORED,
    PIP_WHEELS,
    REFERENCE_313,
    sbomgen,
)
from packaging.utils import canonicalize_name

VENV_BIN = Path(sys.executable).parent


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The parts that must agree with the reference, keyed by names rather than IDs."""
    names = {p["SPDXID"]: ("package", canonicalize_name(p["name"])) for p in document["packages"]}
    names.update({f["SPDXID"]: ("file", f["fileName"]) for f in document["files"]})
    names["SPDXRef-DOCUMENT"] = ("document", "")
    relationships = {
        (names[r["spdxElementId"]], r["relationshipType"], names[r["relatedSpdxElement"]])
        for r in document["relationships"]
    }
    return {
        "packages": {(canonicalize_name(p["name"]), p["versionInfo"]) for p in document["packages"]},
        "files": {
            f["fileName"]: {c["algorithm"]: c["checksumValue"] for c in f["checksums"]}
            for f in document["files"]
        },
        "package_files": {r for r in relationships if r[2][0] == "file"},
        "package_packages": {r for r in relationships if r[2][0] != "file"},
    }


@pytest.fixture(scope="session")
def sbom_313(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    out = tmp_path_factory.mktemp("313") / "Python-3.13.5.tar.xz.spdx.json"
    run = sbomgen("tarball", CPYTHON_313, "-o", out)
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="session")
def without_pip(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    """The 3.13.5 release as a redistributor repacks it: the bundled pip wheel removed."""
    path = tmp_path_factory.mktemp("nopip") / "Python-3.13.5.tgz"
    with tarfile.open(CPYTHON_313, "r|xz") as source, tarfile.open(path, "w:gz", compresslevel=1) as target:
        for member in source:
            if "/Lib/ensurepip/_bundled/" in member.name and member.name.endswith(".whl"):
                continue
            target.addfile(member, source.extractfile(member) if member.isreg() else None)
    return path


def test_313_matches_release_tooling(sbom_313: Path) -> None:
    ours, reference = normalised(load(sbom_313)), normalised(load(REFERENCE_313))
    assert len(ours["packages"]) == 27
    assert ours["packages"] == reference["packages"]
    assert len(ours["files"]) == 4808
    assert ours["files"] == reference["files"]
    assert ours["package_files"] == reference["package_files"]
    assert ours["package_packages"] == reference["package_packages"]


def test_313_package_fields(sbom_313: Path) -> None:
    packages = {p["name"]: p for p in load(sbom_313)["packages"]}
    reference = {p["name"]: p for p in load(REFERENCE_313)["packages"]}
    cpython = packages["CPython"]
    # Release tooling asserts PSF-2.0; sbomgen concludes only what a license file says
    # exactly: CPython's LICENSE is the PSF/BeOpen/CNRI/CWI stack, the SPDX License List's
    # Python-2.0.1, and 0BSD for the documentation's code (test_licenses.py).
    assert cpython["licenseConcluded"] == "0BSD AND Python-2.0.1"
    for key in (
        "SPDXID",
        "versionInfo",
        "supplier",
        "originator",
        "packageFileName",
        "downloadLocation",
        "checksums",
        "packageVerificationCode",
        "primaryPackagePurpose",
    ):
        assert cpython[key] == reference["CPython"][key], key
    # Every component has a PURL (scan/purls.py): the release tooling gives CPython and the
    # C libraries CPEs only; theirs stay, a purl reference is added.
    added_purls = {
        "CPython": "pkg:generic/python@3.13.5?checksum=sha256:"
        "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"
        "&download_url=https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz",
        **C_LIBRARY_PURLS_313,
    }

    def without_added_purl(name: str, refs: list[dict[str, str]]) -> list[dict[str, str]]:
        purls = [
            r for r in refs if r["referenceType"] == "purl" and r["referenceLocator"] == added_purls[name]
        ]
        assert len(purls) == 1, (name, refs)
        return [r for r in refs if r not in purls]

    assert without_added_purl("CPython", cpython["externalRefs"]) == reference["CPython"]["externalRefs"]
    found = {
        "expat": ("MIT", True),
        "hacl-star": ("Apache-2.0 AND MIT", True),  # MIT texts, and krml's short Apache-2.0 references
        "libb2": ("CC0-1.0", False),  # Creative Commons' notice; "Written in 2012 by" is no copyright
        "mpdecimal": ("BSD-2-Clause", True),
    }
    for name in ("expat", "hacl-star", "libb2", "macholib", "mpdecimal"):
        ours = {k: v for k, v in packages[name].items()}
        if name in added_purls:
            ours["externalRefs"] = without_added_purl(name, ours["externalRefs"])
        # Concluded from Modules/expat/COPYING and from the leading comments of the others'
        # source files, where the release tooling says nothing (test_licenses has the values).
        if name in found:
            assert (ours.pop("licenseConcluded"), "copyrightText" in ours) == found[name], name
            ours.pop("copyrightText", None)
            assert ours.pop("licenseComments").startswith("Concluded license: ")
            ours["licenseConcluded"] = "NOASSERTION"
        if name == "macholib":  # looked up on the index: the same location and SHA256, and
            # the sdist's declared license and license files (test_enrich has the values)
            assert ours.pop("licenseDeclared") == "MIT"
            assert ours.pop("licenseComments").startswith(
                "Concluded license: no license file in macholib-1.0"
            )
            annotations = [a["comment"].split(" ", 1)[0] for a in ours.pop("annotations")]
            assert annotations == ["sbomgen:index-release-files", "sbomgen:index-url"]
        assert ours == reference[name], name
    pip = packages["pip"]
    assert pip["checksums"] == reference["pip"]["checksums"]
    assert sorted(pip["externalRefs"], key=str) == sorted(reference["pip"]["externalRefs"], key=str)
    assert pip["packageFileName"] == "pip-25.1.1-py3-none-any.whl"
    assert (
        packages["typing-extensions"]["externalRefs"][0]["referenceLocator"]
        == "pkg:pypi/typing-extensions@4.13.2"
    )


def test_313_validators_pass(sbom_313: Path) -> None:
    validator = subprocess.run([VENV_BIN / "pyspdxtools", "-i", sbom_313], capture_output=True, text=True)
    assert validator.returncode == 0, validator.stdout + validator.stderr
    ntia = subprocess.run([VENV_BIN / "ntia-checker", sbom_313], capture_output=True, text=True)
    assert ntia.returncode == 0, ntia.stdout
    assert "Conformant: True" in ntia.stdout


def test_reruns_are_byte_identical(sbom_313: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.spdx.json"
    assert sbomgen("tarball", CPYTHON_313, "-o", again).returncode == 0
    assert again.read_bytes() == sbom_313.read_bytes()
    created = load(again)["creationInfo"]["created"]
    assert created == "2025-06-11T15:36:57Z"  # the newest member of the tarball, not the clock


def test_source_date_epoch_and_stdout(tmp_path: Path) -> None:
    run = sbomgen("tarball", CPYTHON_311, "-o", "-", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("artifact", [CPYTHON_311, CPYTHON_313], ids=["tgz", "tar.xz"])
def test_every_way_of_reading_gives_the_same_sbom(tmp_path: Path, artifact: Path) -> None:
    """Decompression on a thread or inline, the pass in a forked child or in-process: the
    same bytes out."""
    outputs = {}
    for name, env in {
        "thread": {"SBOMGEN_DECOMPRESSION": "thread"},
        "inline": {"SBOMGEN_DECOMPRESSION": "inline"},
        "in-process": {"SBOMGEN_NO_FORK": "1"},
    }.items():
        out = tmp_path / f"{name}.spdx.json"
        run = sbomgen("tarball", artifact, "-o", out, "--offline", env=env)
        assert run.returncode == 0, run.stderr
        outputs[name] = out.read_bytes()
    assert outputs["thread"] == outputs["inline"] == outputs["in-process"]


def test_311_without_sbom_data(tmp_path: Path) -> None:
    run = sbomgen("tarball", CPYTHON_311, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "carries no SBOM data of its own" in run.stderr
    document = load(tmp_path / "Python-3.11.2.tgz.spdx.json")
    packages = {(p["name"], p["versionInfo"]) for p in document["packages"]}
    assert packages == {
        ("CPython", "3.11.2"),
        ("pip", "22.3.1"),
        ("setuptools", "65.5.0"),
        *PIP_22_3_1_VENDORED,
    }
    assert len(document["packages"]) == 26
    ids = {(p["name"], p["versionInfo"]): p["SPDXID"] for p in document["packages"]}
    # The bundled setuptools keeps the plain ID; pip's vendored one gets the hash suffix.
    assert ids[("setuptools", "65.5.0")] == "SPDXRef-PACKAGE-setuptools"
    assert ids[("setuptools", "44.0.0")] == "SPDXRef-PACKAGE-setuptools-9ee3a079"
    depends = {
        (r["spdxElementId"], r["relatedSpdxElement"])
        for r in document["relationships"]
        if r["relationshipType"] == "DEPENDS_ON"
    }
    assert ("SPDXRef-PACKAGE-cpython", "SPDXRef-PACKAGE-setuptools") in depends
    assert ("SPDXRef-PACKAGE-pip", "SPDXRef-PACKAGE-setuptools-9ee3a079") in depends
    assert len(depends) == 2 + 23
    assert len(document["files"]) == 4450
    validator = subprocess.run([VENV_BIN / "pyspdxtools", "-i", tmp_path / "Python-3.11.2.tgz.spdx.json"])
    assert validator.returncode == 0


def test_missing_pip_wheel_is_not_an_error(without_pip: Path, sbom_313: Path, tmp_path: Path) -> None:
    out = tmp_path / "nopip.spdx.json"
    run = sbomgen("tarball", without_pip, "-o", out)
    assert run.returncode == 0, run.stderr
    notices = [line for line in run.stderr.splitlines() if "no pip wheel" in line]
    assert len(notices) == 1
    document = load(out)
    assert {p["name"] for p in document["packages"]} == {
        "CPython",
        "expat",
        "hacl-star",
        "libb2",
        "macholib",
        "mpdecimal",
    }
    full = {f["fileName"] for f in load(sbom_313)["files"]}
    assert full - {f["fileName"] for f in document["files"]} == {
        "Lib/ensurepip/_bundled/pip-25.1.1-py3-none-any.whl"
    }
    validator = subprocess.run([VENV_BIN / "pyspdxtools", "-i", out])
    assert validator.returncode == 0


def _with_pip_in_misc_sbom(path: Path, keep_wheel: bool) -> Path:
    """3.13.5 repacked with pip, its wheel and a package pip depends on listed in
    Misc/sbom.spdx.json, as CPython's SBOM generator wrote them in early 2024."""
    import hashlib
    import io

    wheel = "Lib/ensurepip/_bundled/pip-25.1.1-py3-none-any.whl"
    wheel_id = "SPDXRef-FILE-Lib-ensurepip-bundled-pip-25.1.1-py3-none-any.whl"
    sha256 = hashlib.sha256((PIP_WHEELS / wheel.rsplit("/", 1)[1]).read_bytes()).hexdigest()
    listed = {
        "SPDXID": wheel_id,
        "fileName": wheel,
        "checksums": [{"algorithm": "SHA256", "checksumValue": sha256}],
    }
    packages = [
        {
            "SPDXID": f"SPDXRef-PACKAGE-{name}",
            "name": name,
            "versionInfo": version,
            "downloadLocation": f"https://files.pythonhosted.org/{name}-{version}-py3-none-any.whl",
            "licenseConcluded": "NOASSERTION",
        }
        for name, version in (("pip", "25.1.1"), ("urllib3", "1.26.20"))
    ]
    relationships = [
        {
            "spdxElementId": "SPDXRef-PACKAGE-pip",
            "relatedSpdxElement": wheel_id,
            "relationshipType": "CONTAINS",
        },
        {
            "spdxElementId": "SPDXRef-PACKAGE-pip",
            "relatedSpdxElement": "SPDXRef-PACKAGE-urllib3",
            "relationshipType": "DEPENDS_ON",
        },
    ]
    with tarfile.open(CPYTHON_313, "r|xz") as source, tarfile.open(path, "w:gz", compresslevel=1) as target:
        for member in source:
            name = member.name.split("/", 1)[-1]
            if name == wheel and not keep_wheel:
                continue
            reader = source.extractfile(member) if member.isreg() else None
            if name == "Misc/sbom.spdx.json":
                assert reader is not None
                data = json.loads(reader.read())
                data["files"].append(listed)
                data["packages"] += packages
                data["relationships"] += relationships
                content = json.dumps(data).encode()
                member.size, reader = len(content), io.BytesIO(content)
            target.addfile(member, reader)
    return path


@pytest.mark.parametrize("keep_wheel", [True, False], ids=["wheel", "no-wheel"])
def test_pip_listed_in_cpythons_sbom_data_gives_way_to_the_wheel(
    keep_wheel: bool, sbom_313: Path, without_pip: Path, tmp_path: Path
) -> None:
    """As CPython's release tooling does: Misc's pip and what it depends on give way to what
    the bundled wheel says; without the wheel (a redistributor's tree) they are gone, as
    CPython's generator removes them, and the wheel's absence is no mismatch."""
    artifact = _with_pip_in_misc_sbom(tmp_path / "Python-3.13.5.tgz", keep_wheel)
    out = tmp_path / "out.spdx.json"
    run = sbomgen("tarball", artifact, "-o", out)
    assert run.returncode == 0, run.stderr
    if keep_wheel:
        expected = sbom_313
    else:
        expected = tmp_path / "nopip.spdx.json"
        assert sbomgen("tarball", without_pip, "-o", expected).returncode == 0
    assert len(load(out)["packages"]) == len(load(expected)["packages"])  # none twice
    ours, theirs = normalised(load(out)), normalised(load(expected))
    assert ours["packages"] == theirs["packages"]
    assert ours["package_packages"] == theirs["package_packages"]
    assert ours["package_files"] == theirs["package_files"]


def test_sha512_option(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert sbomgen("tarball", CPYTHON_311, "--checksum", "sha512", "-o", out).returncode == 0
    document = load(out)
    assert all(
        {c["algorithm"] for c in f["checksums"]} == {"SHA1", "SHA256", "SHA512"} for f in document["files"]
    )
    cpython = next(p for p in document["packages"] if p["name"] == "CPython")
    assert {c["algorithm"] for c in cpython["checksums"]} == {"SHA256", "SHA512"}
