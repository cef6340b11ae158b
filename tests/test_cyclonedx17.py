"""CycloneDX 1.7 (and 1.6 on request), BSI TR-03183-2's fields, and a PURL for every component,
on the real releases: checked by cyclonedx-python-lib's strict validators and by the
JavaScript @cyclonedx/cyclonedx-library, installed from the npm registry by tests/npm_packages.py."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    C_LIBRARY_PURLS_313,
    CPYTHON_311,
    CPYTHON_313,
    cpython_tree,
    sbom_data,
    sbomgen,
    write_tar,
)
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from npm_packages import JS, installed, node
from packageurl import PackageURL

from sbomgen.model import Checksum
from sbomgen.scan.purls import upstream_purl
from sbomgen.write.cyclonedx import json_validator

FORMATS = "spdx-json,cyclonedx-json,cyclonedx-xml"
C_LIBRARIES = {**C_LIBRARY_PURLS_313, "macholib": "pkg:pypi/macholib@1.0"}


@pytest.fixture(scope="module", params=[CPYTHON_313, CPYTHON_311], ids=["3.13.5", "3.11.2"])
def release(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the release archive, the folder of its SPDX 2.3 and CycloneDX 1.7 documents)."""
    archive: Path = request.param
    folder = tmp_path_factory.mktemp(archive.name)
    run = sbomgen("tarball", archive, "-f", FORMATS, "-o", folder)
    assert run.returncode == 0, run.stderr
    return archive, folder


@pytest.fixture(scope="session")
def js_validator() -> Path:
    """tests/js/cyclonedx installed once; the script to run there."""
    folder = installed("cyclonedx")
    # Beside node_modules, where ES modules resolve; replaced whole, as another worker may run it.
    copy = folder / f"validate.mjs.{os.getpid()}"
    shutil.copyfile(JS / "cyclonedx" / "validate.mjs", copy)
    os.replace(copy, folder / "validate.mjs")
    return folder / "validate.mjs"


def js_validate(script: Path, version: str, *documents: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node(), script, version, *map(str, documents)], capture_output=True, text=True, timeout=300
    )


def test_strict_validators_of_both_libraries_accept_1_7(
    release: tuple[Path, Path], js_validator: Path
) -> None:
    archive, folder = release
    json_doc, xml_doc = folder / f"{archive.name}.cdx.json", folder / f"{archive.name}.cdx.xml"
    assert json.loads(json_doc.read_bytes())["specVersion"] == "1.7"
    # The library's strict schema and format checks, with uniqueItems in linear time (the
    # library's own compares file components pairwise: minutes; test_formats holds them equal).
    assert (
        next(json_validator(SchemaVersion.V1_7).iter_errors(json.loads(json_doc.read_bytes())), None) is None
    )
    assert XmlValidator(SchemaVersion.V1_7).validate_str(xml_doc.read_text()) is None
    run = js_validate(js_validator, "1.7", json_doc)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == [f"{json_doc}: valid"]
    for document in (json_doc, xml_doc):
        checked = sbomgen("validate", document)
        assert checked.returncode == 0, checked.stderr
        assert b"valid CycloneDX 1.7" in checked.stdout


def test_the_js_validator_refuses_what_the_schema_refuses(
    release: tuple[Path, Path], js_validator: Path, tmp_path: Path
) -> None:
    archive, folder = release
    document = json.loads((folder / f"{archive.name}.cdx.json").read_bytes())
    document["metadata"]["component"]["hashes"][0]["content"] = "not hex"
    broken = tmp_path / "broken.cdx.json"
    broken.write_text(json.dumps(document))
    run = js_validate(js_validator, "1.7", broken)
    assert run.returncode == 1
    assert run.stdout.startswith(f"{broken}: invalid ")


def packages_of(bom: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a CycloneDX document but files: the subject's first, nested ones too."""
    found, waiting = [], [bom["metadata"]["component"], *bom["components"]]
    while waiting:
        component = waiting.pop(0)
        if component["type"] != "file":
            found.append(component)
            waiting += component.get("components", [])
    return found


def test_every_component_has_a_purl_in_every_format(release: tuple[Path, Path]) -> None:
    archive, folder = release
    spdx = json.loads((folder / f"{archive.name}.spdx.json").read_bytes())
    spdx_purls = {}
    for package in spdx["packages"]:
        [purl] = [
            r["referenceLocator"] for r in package.get("externalRefs", []) if r["referenceType"] == "purl"
        ]
        spdx_purls[package["name"], package["versionInfo"]] = PackageURL.from_string(purl).to_string()
    bom = json.loads((folder / f"{archive.name}.cdx.json").read_bytes())
    cdx_purls = {
        (c["name"], c["version"]): PackageURL.from_string(c["purl"]).to_string() for c in packages_of(bom)
    }
    assert cdx_purls == spdx_purls
    spdx_purls = {name: purl for (name, _), purl in spdx_purls.items()}
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    version = archive.name.removeprefix("Python-").split(".t")[0]
    assert spdx_purls["CPython"] == (
        f"pkg:generic/python@{version}?checksum=sha256:{sha256}"
        f"&download_url=https://www.python.org/ftp/python/{version}/{archive.name}"
    )
    if archive == CPYTHON_313:
        assert {name: spdx_purls[name] for name in C_LIBRARIES} == C_LIBRARIES


def test_bsi_fields_tools_lifecycle_and_refs(release: tuple[Path, Path]) -> None:
    archive, folder = release
    bom = json.loads((folder / f"{archive.name}.cdx.json").read_bytes())
    metadata = bom["metadata"]
    assert metadata["tools"] == {
        "components": [
            {"bom-ref": "tool:sbomgen", "name": "sbomgen", "type": "application", "version": "0.1.0"}
        ]
    }
    assert metadata["lifecycles"] == [{"phase": "pre-build"}]
    root = metadata["component"]
    assert {"alg": "SHA-512", "content": hashlib.sha512(archive.read_bytes()).hexdigest()} in root["hashes"]
    assert [p for p in root["properties"] if p["name"].startswith("bsi:")] == [
        {"name": "bsi:component:archive", "value": "archive"},
        {"name": "bsi:component:executable", "value": "non-executable"},
        {"name": "bsi:component:filename", "value": archive.name},
        {"name": "bsi:component:structured", "value": "structured"},
    ]
    sha512 = {"alg": "SHA-512", "content": hashlib.sha512(archive.read_bytes()).hexdigest()}
    in_artifact = []
    for component in packages_of(bom):
        assert component["bom-ref"].startswith("component:")
        names = {p["name"]: p["value"] for p in component["properties"]}
        references = component["externalReferences"]
        (deployed,) = [r for r in references if r["type"] == "distribution"]
        assert names["bsi:component:filename"] == deployed["url"].rpartition("/")[2]
        if component is root:  # its SHA-512 is among its own hashes (above)
            assert names["bsi:component:filename"] == archive.name
        elif names["bsi:component:filename"] == archive.name:
            # Distributed in the artifact: its deployable form is the artifact, with its
            # SHA-512; where it came from (its download location) is its source distribution.
            in_artifact.append(component["name"])
            assert sha512 in deployed["hashes"]
            (source,) = [r for r in references if r["type"] == "source-distribution"]
            assert source["url"] != deployed["url"]
        assert "distribution-intake" not in {r["type"] for r in references}
        assert {names[f"bsi:component:{n}"] for n in ("archive", "executable", "structured")} == {
            "archive",
            "non-executable",
            "structured",
        }
    assert sorted(in_artifact) == (sorted(C_LIBRARIES) if archive == CPYTHON_313 else [])
    expat = [c for c in bom["components"] if c["name"] == "expat"]
    if archive == CPYTHON_313:
        assert {"type": "vcs", "url": "https://github.com/libexpat/libexpat"} in expat[0][
            "externalReferences"
        ]


def test_compositions_state_how_complete_each_list_is(release: tuple[Path, Path]) -> None:
    """The subject's assembly is complete (read whole); a bundled C library's files and every
    dependency list are of unknown completeness: as SPDX 3 states them, in JSON and XML alike."""
    import xml.etree.ElementTree as ElementTree

    archive, folder = release
    bom = json.loads((folder / f"{archive.name}.cdx.json").read_bytes())
    bundled = [f"component:cpython-sbom:SPDXRef-PACKAGE-{n}" for n in sorted(C_LIBRARIES)]
    expected = [
        {"aggregate": "complete", "assemblies": ["component:cpython"]},
        *([{"aggregate": "unknown", "assemblies": bundled}] if archive == CPYTHON_313 else []),
        {"aggregate": "unknown", "dependencies": ["component:cpython", "component:wheel:pip"]},
    ]
    assert bom["compositions"] == expected
    namespace = "{http://cyclonedx.org/schema/bom/1.7}"
    root = ElementTree.parse(folder / f"{archive.name}.cdx.xml").getroot()
    from_xml = [
        {
            "aggregate": c.findtext(f"{namespace}aggregate"),
            **{kind.tag.removeprefix(namespace): [i.attrib["ref"] for i in kind] for kind in c[1:]},
        }
        for c in root.iterfind(f"{namespace}compositions/{namespace}composition")
    ]
    assert from_xml == expected
    for name in ("cdx.json", "cdx.xml"):
        run = sbomgen("validate", "--profile", "bsi-2.1", folder / f"{archive.name}.{name}")
        [line] = [
            line for line in run.stdout.decode().splitlines() if "Completeness of the dependencies" in line
        ]
        assert line.split()[-1] == "pass"


def test_cyclonedx_1_6_on_request(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    for version, schema in (("1.6", SchemaVersion.V1_6), ("1.7", SchemaVersion.V1_7)):
        out = tmp_path / f"{version}.cdx.json"
        run = sbomgen("tarball", archive, "-f", "cyclonedx-json", "--cyclonedx-version", version, "-o", out)
        assert run.returncode == 0, run.stderr
        assert json.loads(out.read_bytes())["specVersion"] == version
        assert JsonStrictValidator(schema).validate_str(out.read_text()) is None
    run = sbomgen(
        "tarball", archive, "-f", "cyclonedx-json", "--cyclonedx-version", "1.5", "-o", tmp_path / "x"
    )
    assert run.returncode == 2
    assert "'1.5' is not one of '1.7', '1.6'" in run.stderr


@pytest.mark.parametrize(
    ("location", "purl"),
    [
        ("https://github.com/libexpat/libexpat/releases/download/R_2_7_1/expat-2.7.1.tar.gz",
         "pkg:github/libexpat/libexpat@R_2_7_1"),
        ("https://github.com/BLAKE2/libb2/archive/refs/tags/v0.98.1.tar.gz",
         "pkg:github/blake2/libb2@v0.98.1"),
        ("https://github.com/a/b/archive/0123abc.zip", "pkg:github/a/b@0123abc"),
        ("https://github.com/a/b/blob/main/x.tar.gz",
         "pkg:generic/x@1?checksum=sha256:" + "0" * 64 + "&download_url=https://github.com/a/b/blob/main/x.tar.gz"),
        ("https://example.org/x y.tgz?a=1&b=2",
         "pkg:generic/x@1?checksum=sha256:" + "0" * 64 + "&download_url=https://example.org/x%20y.tgz%3Fa%3D1%26b%3D2"),
        (None, "pkg:generic/x@1"),
    ],
)  # fmt: skip
def test_upstream_purl(location: str | None, purl: str) -> None:
    made = upstream_purl("x", "1", location, (Checksum("SHA256", "0" * 64),))
    assert made == purl
    assert PackageURL.from_string(made).to_string() == purl


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        # Another tool's intake (where it was published to) is no download location.
        (("distribution", "distribution-intake"), "https://example.org/artifact.tar.xz"),
        (("distribution",), "https://example.org/artifact.tar.xz"),
        (("source-distribution",), None),
        (("website",), None),
    ],
)
def test_the_download_location_is_the_distribution(
    types: tuple[str, ...], expected: str | None, tmp_path: Path
) -> None:
    """The distribution reference is the download location for diff and check, as SPDX's
    downloadLocation is (one deployed in the artifact: below)."""
    from sbomgen.documents import cyclonedx
    from sbomgen.errors import ContentError
    from sbomgen.workflows import diff

    urls = {
        "distribution": "https://example.org/artifact.tar.xz",
        "distribution-intake": "https://example.org/upstream.tar.gz",
        "source-distribution": "https://example.org/source.tar.gz",
        "website": "https://example.org/",
    }
    component = {
        "type": "library",
        "name": "expat",
        "version": "2.7.1",
        "bom-ref": "component:expat",
        "externalReferences": [{"type": t, "url": urls[t]} for t in types],
    }
    document = {"bomFormat": "CycloneDX", "specVersion": "1.7", "version": 1, "components": [component]}
    bom = cyclonedx.load(json.dumps(document), "test", ContentError)
    download = bom.components[0].download()
    assert (download.url if download else None) == expected
    path = tmp_path / "bom.cdx.json"
    path.write_text(json.dumps(document))
    assert diff.load(path).components["expat"]["download location"] == expected


def test_a_library_deployed_in_the_artifact_its_download_unknown_has_none(tmp_path: Path) -> None:
    """Its one distribution reference is the artifact's (where it is deployed): diff and check
    read no download location from it, as SPDX 2 gives none (diff said it was the artifact)."""
    source = b"/* expat */\nint x;\n"
    misc = json.loads(sbom_data({"Modules/expat/xmlparse.c": source}))
    misc["packages"][0]["downloadLocation"] = "NOASSERTION"
    tree = {
        **cpython_tree(),
        "Modules/expat/xmlparse.c": source,
        "Misc/sbom.spdx.json": json.dumps(misc).encode(),
    }
    tarball = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    run = sbomgen("tarball", tarball, "-o", f"{tmp_path}/", "-f", "spdx-json,cyclonedx-json", "--offline")
    assert run.returncode == 0, run.stderr
    bom = json.loads((tmp_path / "Python-3.99.0.tgz.cdx.json").read_text())
    (expat,) = [c for c in bom["components"] if c["name"] == "expat"]
    assert [r["type"] for r in expat["externalReferences"]] == ["distribution"]  # the artifact
    compared = sbomgen(
        "diff", tmp_path / "Python-3.99.0.tgz.spdx.json", tmp_path / "Python-3.99.0.tgz.cdx.json"
    )
    assert (compared.returncode, compared.stdout) == (
        0,
        b"Components: no change\nFiles: 0 added, 0 removed, 0 changed\n",
    )
