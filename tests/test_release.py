"""Whole releases: every artifact's SBOM and provenance, the manifest, and Windows artifacts."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from conftest import CPYTHON_311, CPYTHON_313, sbomgen
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("key")
    private = ec.generate_private_key(ec.SECP256R1())
    (folder / "release.pem").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (folder / "release.pub").write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return folder / "release.pem", folder / "release.pub"


def windows_artifacts(folder: Path) -> tuple[Path, Path]:
    embed = folder / "python-3.13.5-embed-amd64.zip"
    with zipfile.ZipFile(embed, "w") as archive:
        archive.writestr("python.exe", b"MZ" + bytes(200))
        archive.writestr("python313.dll", b"MZ" + bytes(4000))
        archive.writestr("python313._pth", "python313.zip\n.\n")
    installer = folder / "python-3.13.5-amd64.exe"
    installer.write_bytes(b"MZ" + bytes(8000))
    return installer, embed


def test_release_folder(tmp_path: Path, key: tuple[Path, Path]) -> None:
    folder = tmp_path / "3.13.5"
    folder.mkdir()
    for source in (CPYTHON_313, CPYTHON_311):
        (folder / source.name).symlink_to(source)
    run = sbomgen(
        "release", folder, "--builder-id", "https://ci.example.org/release", "--sign", f"key:{key[0]}"
    )
    assert run.returncode == 0, run.stderr
    # Two versions are no one release: no release attestation, and a warning says why.
    assert "no release attestation: its artifacts' names give no one CPython version" in run.stderr
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [
            "Python-3.11.2.tgz",
            "Python-3.11.2.tgz.intoto.json",
            "Python-3.11.2.tgz.spdx.intoto.json",
            "Python-3.11.2.tgz.spdx.json",
            "Python-3.13.5.tar.xz",
            "Python-3.13.5.tar.xz.intoto.json",
            "Python-3.13.5.tar.xz.spdx.intoto.json",
            "Python-3.13.5.tar.xz.spdx.json",
            "release-manifest.json",
        ]
    )
    assert (
        sbomgen(
            "validate", folder / "Python-3.13.5.tar.xz.spdx.json", folder / "Python-3.11.2.tgz.spdx.json"
        ).returncode
        == 0
    )
    verified = sbomgen(
        "verify", CPYTHON_313, "--bundle", folder / "Python-3.13.5.tar.xz.intoto.json", "--key", key[1]
    )
    assert verified.returncode == 0, verified.stderr
    manifest = json.loads((folder / "release-manifest.json").read_text())
    assert [f["name"] for f in manifest["files"]] == [n for n in names if n != "release-manifest.json"]

    check = sbomgen("release", folder, "--check", folder / "release-manifest.json")
    assert check.returncode == 0, check.stdout

    (folder / "python-3.13.5-amd64-extra.msi").write_bytes(b"quietly added after publication")
    sbom = folder / "Python-3.11.2.tgz.spdx.json"
    content = bytearray(sbom.read_bytes())
    content[100] ^= 1
    sbom.write_bytes(bytes(content))
    check = sbomgen("release", folder, "--check", folder / "release-manifest.json")
    assert check.returncode == 1
    assert check.stdout.decode().splitlines() == [
        "added: python-3.13.5-amd64-extra.msi",
        "changed: Python-3.11.2.tgz.spdx.json",
    ]


def test_windows_artifacts(tmp_path: Path) -> None:
    folder = tmp_path / "windows"
    folder.mkdir()
    installer, embed = windows_artifacts(folder)
    run = sbomgen(
        "release", folder, "--source", CPYTHON_313, "--builder-id", "https://ci.example.org/w", "-j", "2"
    )
    assert run.returncode == 0, run.stderr
    for artifact in (installer, embed):
        assert sbomgen("validate", folder / f"{artifact.name}.spdx.json").returncode == 0
    exe = json.loads((folder / f"{installer.name}.spdx.json").read_text())
    zip_ = json.loads((folder / f"{embed.name}.spdx.json").read_text())
    exe_ids = {p["SPDXID"] for p in exe["packages"]}
    zip_ids = {p["SPDXID"] for p in zip_["packages"]}
    externals = {
        "SPDXRef-PACKAGE-bzip2-1.0.8",
        "SPDXRef-PACKAGE-libffi-3.4.4",
        "SPDXRef-PACKAGE-mpdecimal-4.0.0",
        "SPDXRef-PACKAGE-openssl-3.0.16",
        "SPDXRef-PACKAGE-sqlite-3.49.1.0",
        "SPDXRef-PACKAGE-tcl-core-8.6.15.0",
        "SPDXRef-PACKAGE-tk-8.6.15.0",
        "SPDXRef-PACKAGE-xz-5.2.5",
        "SPDXRef-PACKAGE-zlib-1.3.1",
    }
    source = {
        "SPDXRef-PACKAGE-expat-2.6.3",
        "SPDXRef-PACKAGE-hacl-star-bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0",
        "SPDXRef-PACKAGE-libb2-0.98.1",
        "SPDXRef-PACKAGE-macholib-1.0",
        "SPDXRef-PACKAGE-mpdecimal-2.5.1",
    }
    assert zip_ids == externals | source | {"SPDXRef-PACKAGE-cpython"}
    assert "SPDXRef-PACKAGE-pip" in exe_ids and len(exe_ids) == len(zip_ids) + 21
    assert {p["primaryPackagePurpose"] for p in exe["packages"]} == {"LIBRARY"}
    assert sorted(f["fileName"] for f in zip_["files"]) == ["python.exe", "python313._pth", "python313.dll"]
    assert exe.get("files", []) == []
    cpython = next(p for p in exe["packages"] if p["name"] == "CPython")
    assert cpython["downloadLocation"] == f"https://www.python.org/ftp/python/3.13.5/{installer.name}"


def test_release_of_nothing(tmp_path: Path) -> None:
    run = sbomgen("release", tmp_path, "--builder-id", "https://ci.example.org/x")
    assert run.returncode == 2 and "no release artifacts" in run.stderr


def test_windows_needs_a_source(tmp_path: Path) -> None:
    windows_artifacts(tmp_path)
    run = sbomgen("release", tmp_path, "--builder-id", "https://ci.example.org/x")
    assert run.returncode == 2 and "--source" in run.stderr
    assert sorted(os.listdir(tmp_path)) == ["python-3.13.5-amd64.exe", "python-3.13.5-embed-amd64.zip"]
