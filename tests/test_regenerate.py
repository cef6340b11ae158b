"""Redistributors: the SBOM of a modified tree, derived from upstream, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CPYTHON_313,
    PIP_25_1_1_VENDORED,
    REFERENCE_313,
    cpython_tree,
    online_sbom,
    refused,
    sbom_data,
    sbomgen,
    write_tar,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sbomgen.errors import ContentError
from sbomgen.model import Component
from sbomgen.workflows.regenerate import _with_upstream_facts


@pytest.fixture(scope="module")
def debundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3.13.5 unpacked, with the bundled pip wheel and Modules/expat/ deleted."""
    base = tmp_path_factory.mktemp("debundled")
    with tarfile.open(CPYTHON_313) as archive:
        archive.extractall(base, filter="data")
    tree = base / "Python-3.13.5"
    for wheel in (tree / "Lib/ensurepip/_bundled").glob("*.whl"):
        wheel.unlink()
    shutil.rmtree(tree / "Modules/expat")
    return tree


def test_debundled_tree(debundled: Path, tmp_path: Path) -> None:
    out = tmp_path / "debundled.spdx.json"
    run = sbomgen(
        "regenerate",
        REFERENCE_313,
        "--tree",
        debundled,
        "-o",
        out,
        env={"PIP_INDEX_URL": "http://127.0.0.1:9"},
    )
    assert run.returncode == 0, run.stderr
    assert "could not be reached" not in run.stderr  # nothing was looked up
    # Nothing said the system provides expat: that its files are gone is worth a warning.
    assert "warning: 21 file(s) listed in CPython's SBOM data do not match" in run.stderr
    assert sbomgen("validate", out).returncode == 0
    document = json.loads(out.read_text())
    names = {p["name"] for p in document["packages"]}
    assert names == {"CPython", "hacl-star", "libb2", "macholib", "mpdecimal"}
    assert not [
        f
        for f in document["files"]
        if f["fileName"].startswith(("Modules/expat/", "Lib/ensurepip/_bundled/"))
    ]
    reference = json.loads(REFERENCE_313.read_text())
    assert document["externalDocumentRefs"][0]["spdxDocument"] == reference["documentNamespace"]
    import hashlib

    assert document["externalDocumentRefs"][0]["checksum"] == {
        "algorithm": "SHA1",
        "checksumValue": hashlib.sha1(REFERENCE_313.read_bytes()).hexdigest(),
    }

    run = sbomgen("diff", REFERENCE_313, out, "--json", "--files")
    assert run.returncode == 1
    result = json.loads(run.stdout)
    vendored = PIP_25_1_1_VENDORED
    assert [c["component"] for c in result["components"]["removed"]] == ["expat", "pip"] + [
        f"pip/{n}" for n in vendored
    ]
    assert result["components"]["added"] == []
    # The C libraries' sources carry their notices (hacl-star: MIT texts and Apache-2.0 short
    # references; libb2: CC0's notice; mpdecimal: the BSD-2-Clause text); the release tooling
    # concludes nothing
    assert result["components"]["changed"] == [
        {"component": name, "field": "license", "old": [None, None], "new": [None, expression]}
        for name, expression in (
            ("hacl-star", "Apache-2.0 AND MIT"),
            ("libb2", "CC0-1.0"),
            ("mpdecimal", "BSD-2-Clause"),
        )
    ]
    removed_files = result["files"]["removed_paths"]
    expat_files = [f["fileName"] for f in reference["files"] if f["fileName"].startswith("Modules/expat/")]
    assert removed_files == sorted(expat_files + ["Lib/ensurepip/_bundled/pip-25.1.1-py3-none-any.whl"])
    assert result["files"]["added"] == 0 and result["files"]["changed"] == 0
    statements = [a["comment"] for a in document["annotations"]]
    assert len(statements) == 2 + 20 + len(removed_files)
    assert "Removed package expat 2.6.3: its files are not in the tree." in statements
    assert "Removed file Lib/ensurepip/_bundled/pip-25.1.1-py3-none-any.whl." in statements


def test_system_expat_has_a_supplier_and_its_files_are_expected_gone(debundled: Path, tmp_path: Path) -> None:
    """Debian's case: Modules/expat/ deleted, built against the system's expat 2.7.1."""
    out = tmp_path / "system-expat.spdx.json"
    run = sbomgen(
        "regenerate", REFERENCE_313, "--tree", debundled, "--system-package", "expat=2.7.1", "-o", out
    )
    assert run.returncode == 0, run.stderr
    assert "warning" not in run.stderr  # the 21 expat files upstream lists are gone by design
    document = json.loads(out.read_text())
    expat = next(p for p in document["packages"] if p["name"] == "expat")
    assert expat["versionInfo"] == "2.7.1"
    # The same software at another version: upstream's originator, who also supplies it.
    assert expat["originator"] == expat["supplier"] == "Organization: Expat development team"
    ntia = subprocess.run([Path(sys.executable).parent / "ntia-checker", out], capture_output=True, text=True)
    assert ntia.returncode == 0, ntia.stdout
    assert "Conformant: True" in ntia.stdout


def test_system_package_purl_and_supplier_in_every_format(debundled: Path, tmp_path: Path) -> None:
    """The redistributor names the system package: its PURL and supplier reach SPDX and
    CycloneDX, and the SBOM stays NTIA-conformant."""
    given = "expat=2.7.1,purl=pkg:deb/debian/libexpat1@2.7.1?arch=amd64,supplier=Debian"
    run = sbomgen(
        "regenerate",
        REFERENCE_313,
        "--tree",
        debundled,
        "--system-package",
        given,
        "-f",
        "spdx-json,cyclonedx-json",
        "-o",
        f"{tmp_path}/",
    )
    assert run.returncode == 0, run.stderr
    spdx_out = next(tmp_path.glob("*.spdx.json"))
    document = json.loads(spdx_out.read_text())
    expat = next(p for p in document["packages"] if p["name"] == "expat")
    assert expat["supplier"] == "Organization: Debian"
    assert expat["originator"] == "Organization: Expat development team"
    assert [r["referenceLocator"] for r in expat["externalRefs"] if r["referenceType"] == "purl"] == [
        "pkg:deb/debian/libexpat1@2.7.1?arch=amd64"
    ]
    bom = json.loads(next(tmp_path.glob("*.cdx.json")).read_text())
    component = next(c for c in bom["components"] if c["name"] == "expat")
    assert component["purl"] == "pkg:deb/debian/libexpat1@2.7.1?arch=amd64"
    assert component["supplier"]["name"] == "Debian"
    ntia = subprocess.run(
        [Path(sys.executable).parent / "ntia-checker", spdx_out], capture_output=True, text=True
    )
    assert "Conformant: True" in ntia.stdout, ntia.stdout


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("expat=2.7.1,purl=debian/libexpat1", "not a package URL"),
        ("expat=2.7.1,supplier=Debian (a@b)", "holds no parentheses"),
        ("expat=2.7.1,colour=blue", "NAME=VERSION[,purl=PURL][,supplier=SUPPLIER]"),
        ("expat=2.7.1,supplier=Debian,supplier=Ubuntu", "NAME=VERSION[,purl=PURL][,supplier=SUPPLIER]"),
        ("expat=2.7.1,supplier=", "NAME=VERSION[,purl=PURL][,supplier=SUPPLIER]"),
        ("expat=2.7.1\x1b[31m", "control character"),
        # The SPDX actor form is held to the same one-line rule as a plain name.
        ("expat=2.7.1,supplier=Organization: Debian\x1b[31m", "control character U+001B"),
        ("expat=2.7.1,supplier=Person: Jane\u202eenaJ (jane@example.org)", "control character U+202E"),
        ("expat=2.7.1,supplier=Organization: Debian <text>", "text block's edge"),
        # CycloneDX holds a version of at most 1,024 characters: a longer one was exit 5.
        ("expat=" + "1" * 1025, "a version of at most 1,024 characters"),
    ],
)
def test_system_package_values_are_checked(
    debundled: Path, tmp_path: Path, given: str, fragment: str
) -> None:
    run = sbomgen(
        "regenerate", REFERENCE_313, "--tree", debundled, "--system-package", given, "-o", tmp_path / "o"
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], run.stderr
    assert not (tmp_path / "o").exists()


def test_system_package_must_be_bundled_upstream(debundled: Path, tmp_path: Path) -> None:
    line = refused(
        tmp_path,
        2,
        "regenerate",
        REFERENCE_313,
        "--tree",
        debundled,
        "--system-package",
        "zlib=1.3",
        "-o",
        "{out}",
        fragments=("--system-package zlib=1.3", "expat, hacl-star, libb2, macholib, mpdecimal, pip"),
    )
    assert "names a library bundled in UPSTREAM" in line


def test_a_system_package_named_twice_is_refused(debundled: Path, tmp_path: Path) -> None:
    """The second would silently replace the first, its PURL and supplier with it."""
    line = refused(
        tmp_path, 2, "regenerate", REFERENCE_313, "--tree", debundled,
        "--system-package", "expat=2.7.1,supplier=Debian", "--system-package", "Expat=2.6.0", "-o", "{out}",
        fragments=(),
    )  # fmt: skip
    assert line == (
        "sbomgen: error: --system-package 'Expat=2.6.0': expat is named twice; name each system package once"
    )


def test_system_packages_patched_and_added_files(tmp_path: Path) -> None:
    header = b"#define XML_MAJOR_VERSION 2\n"
    tree = cpython_tree()
    tree["Modules/expat/expat.h"] = header
    tree["Misc/sbom.spdx.json"] = sbom_data({"Modules/expat/expat.h": header})
    upstream_tar = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    upstream = tmp_path / "upstream.spdx.json"
    assert sbomgen("tarball", upstream_tar, "-o", upstream).returncode == 0

    del tree["Modules/expat/expat.h"]
    tree["Python/ceval.c"] = b"int main(void) { return 1; }\n"  # patched
    tree["Misc/distro-patches.txt"] = b"debundled expat\n"  # added
    (tmp_path / "modified").mkdir()
    modified = write_tar(tmp_path / "modified" / "Python-3.99.0.tgz", tree)
    out = tmp_path / "derived.json"
    run = sbomgen("regenerate", upstream, "--tarball", modified, "--system-package", "expat=2.7.1", "-o", out)
    assert run.returncode == 0, run.stderr
    document = json.loads(out.read_text())
    expat = next(p for p in document["packages"] if p["name"] == "expat")
    assert expat["versionInfo"] == "2.7.1" and expat["primaryPackagePurpose"] == "LIBRARY"
    assert "Provided by the system" in expat["comment"]
    statements = sorted(a["comment"] for a in document["annotations"])
    import hashlib

    old = hashlib.sha256(b"int main(void) { return 0; }\n").hexdigest()
    new = hashlib.sha256(b"int main(void) { return 1; }\n").hexdigest()
    added = hashlib.sha256(b"debundled expat\n").hexdigest()
    assert statements == sorted(
        [
            "Bundled expat 2.7.1 replaced by the system's expat 2.7.1.",
            "Removed file Modules/expat/expat.h.",
            f"Added file Misc/distro-patches.txt (SHA256 {added}).",
            f"Changed file Python/ceval.c: SHA256 was {old}, is {new}.",
        ]
    )
    assert sbomgen("validate", out).returncode == 0


def test_regenerate_needs_one_source(tmp_path: Path) -> None:
    run = sbomgen("regenerate", REFERENCE_313)
    assert run.returncode == 2 and "exactly one of --tree and --tarball" in run.stderr
    run = sbomgen("regenerate", REFERENCE_313, "--tree", tmp_path, "--system-package", "expat")
    assert run.returncode == 2 and "NAME=VERSION" in run.stderr


def test_an_unmodified_tree_keeps_every_fact_upstream_found(tmp_path: Path) -> None:
    """Offline, what upstream learnt from the index and the distribution files (licenses with
    how they were concluded, copyrights, originators, the index's files and URL) stays; an
    unsigned-export mark is never dropped by a rewrite."""
    upstream = json.loads(online_sbom(tmp_path)["out"].read_text())
    idna = next(p for p in upstream["packages"] if p["name"] == "idna")
    unsigned = {
        **idna["annotations"][0],
        "comment": "sbomgen:index-metadata-unsigned from an export, SHA256 " + "a" * 64,
    }
    idna["annotations"].append(unsigned)
    marked = tmp_path / "upstream.spdx.json"
    marked.write_text(json.dumps(upstream))
    out = tmp_path / "regenerated.spdx.json"
    run = sbomgen(
        "regenerate", marked, "--tarball", CPYTHON_313, "-o", out, env={"PIP_INDEX_URL": "http://127.0.0.1:9"}
    )
    assert run.returncode == 0, run.stderr
    derived = {p["name"]: p for p in json.loads(out.read_text())["packages"]}
    for package in upstream["packages"]:
        ignored = {"SPDXID", "annotations"} if package["name"] == "idna" else {"SPDXID"}
        mine = {k: v for k, v in derived[package["name"]].items() if k not in ignored}
        assert mine == {k: v for k, v in package.items() if k not in ignored}, package["name"]
    assert derived["idna"]["copyrightText"] == "Copyright (c) 2013-2024, Kim Davies and contributors"
    assert derived["idna"]["originator"] == "Person: Kim Davies (kim+pypi@gumleaf.org)"
    comments = [a["comment"] for a in derived["idna"]["annotations"]]
    assert [c for c in comments if "unsigned" not in c] == [a["comment"] for a in idna["annotations"][:-1]]
    assert [c.split(" ", 1)[0] for c in comments if c.endswith("SHA256 " + "a" * 64)] == [
        "sbomgen:index-metadata-unsigned"
    ]
    run = sbomgen("check", out, "--offline", "--cache-dir", tmp_path / "cache", "--json")
    assert run.returncode == 0, run.stderr  # the recorded release files are there to compare against


FILES = 'sbomgen:index-release-files [{"filename": "idna-3.10.tar.gz", "sha256": "' + "a" * 64 + '"}]'
annotation_texts = st.one_of(
    st.sampled_from([FILES, "sbomgen:index-url https://pypi.org/simple", "x SHA256 " + "b" * 64, "[", "[]"]),
    st.text(max_size=40),
)
upstream_comments = st.lists(
    st.tuples(
        st.sampled_from(
            ["sbomgen:index-release-files", "sbomgen:index-url", "sbomgen:index-metadata-unsigned", "other"]
        ),
        annotation_texts,
    ).map(" ".join),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(upstream_comments)
def test_upstream_index_annotations_are_facts_or_one_line_refusals(comments: list[str]) -> None:
    """Whatever upstream's annotations say: well-formed facts of the package, or exit 4 in
    one line naming the upstream file and the package; an unsigned mark is never dropped."""
    idna = Component("pip/idna", "idna", "3.10")
    known: dict[str, Any] = {
        "version": "3.10",
        "license": (None, None),
        "checksums": frozenset(),
        "download location": None,
    }
    try:
        made = _with_upstream_facts(idna, known, {"annotations": comments}, "up.spdx.json")
    except ContentError as exc:
        assert str(exc).startswith("up.spdx.json: idna 3.10: its annotation sbomgen:index-release-files: ")
        assert "\n" not in str(exc)
        return
    assert all(len(sha256) == 64 for _, sha256 in made.index_files)
    assert made.index_url is None or made.index_url.startswith(("https://", "http://"))
    marked = any(c.startswith("sbomgen:index-metadata-unsigned ") for c in comments)
    assert (made.index_unsigned_export is not None) == marked


def _distributed_as(folder: Path) -> tuple[dict[str, str], dict[str, str | None]]:
    """Each package's distribution file in the SPDX 3 document in ``folder``, and each
    component's ``bsi:component:filename`` in its CycloneDX document."""
    graph = json.loads(next(folder.glob("*.spdx3.json")).read_text())["@graph"]
    by_id = {e.get("spdxId"): e for e in graph}
    spdx3 = {
        by_id[r["from"]]["name"]: by_id[r["to"][0]]["name"]
        for r in graph
        if r["type"] == "Relationship" and r["relationshipType"] == "hasDistributionArtifact"
    }
    bom = json.loads(next(folder.glob("*.cdx.json")).read_text())
    cdx = {
        c["name"]: next(
            (p["value"] for p in c.get("properties", []) if p["name"] == "bsi:component:filename"), None
        )
        for c in [bom["metadata"]["component"], *bom["components"]]
        if c["type"] != "file"
    }
    return spdx3, cdx


def test_a_system_package_is_not_distributed_in_the_artifact(tmp_path: Path) -> None:
    """The bundled expat, whose files the tarball holds, is distributed in it; the system's
    expat that replaces it in a redistributor's tarball is not: nothing links it there."""
    header = b"#define XML_MAJOR_VERSION 2\n"
    tree = cpython_tree()
    tree["Modules/expat/expat.h"] = header
    tree["Misc/sbom.spdx.json"] = sbom_data({"Modules/expat/expat.h": header})
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    artifact = write_tar(upstream / "Python-3.99.0.tgz", tree)
    formats = "spdx-json,spdx3-json,cyclonedx-json"
    assert sbomgen("tarball", artifact, "-f", formats, "-o", f"{upstream}/").returncode == 0
    bundled = {"CPython": artifact.name, "expat": artifact.name, "pip": "pip-99.0-py3-none-any.whl"}
    assert _distributed_as(upstream) == (bundled, bundled)

    del tree["Modules/expat/expat.h"]
    derived = tmp_path / "derived"
    derived.mkdir()
    modified = write_tar(derived / "Python-3.99.0.tgz", tree)
    system = "expat=2.7.1,purl=pkg:deb/debian/libexpat1@2.7.1,supplier=Debian"
    run = sbomgen(
        "regenerate",
        upstream / f"{artifact.name}.spdx.json",
        "--tarball",
        modified,
        "--system-package",
        system,
        "-f",
        formats,
        "-o",
        f"{derived}/",
    )
    assert run.returncode == 0, run.stderr
    spdx3, cdx = _distributed_as(derived)
    assert spdx3 == {"CPython": artifact.name, "pip": "pip-99.0-py3-none-any.whl"}
    assert cdx["expat"] != artifact.name and cdx["CPython"] == artifact.name
