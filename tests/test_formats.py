"""CycloneDX, tag-value, validate, diff and the HTML report, on the real releases."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CPYTHON_311,
    CPYTHON_313,
    PIP_22_3_1_VENDORED,
    PIP_25_1_1_VENDORED,
    REFERENCE_313,
    ROOT,
    chromium,
    cpython_tree,
    sbomgen,
    write_tar,
)

NAME = "Python-3.13.5.tar.xz"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    run = sbomgen(
        "tarball", CPYTHON_313, "--format", "spdx-json,cyclonedx-json,cyclonedx-xml,spdx-tv", "-o", folder
    )
    assert run.returncode == 0, run.stderr
    return folder


@pytest.fixture(scope="module")
def outputs_311(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("311")
    run = sbomgen("tarball", CPYTHON_311, "--format", "spdx-json,cyclonedx-json", "-o", folder)
    assert run.returncode == 0, run.stderr
    return folder


@pytest.fixture(scope="module")
def sbom_311(outputs_311: Path) -> Path:
    return outputs_311 / "Python-3.11.2.tgz.spdx.json"


def report_of(sbom: Path, folder: Path) -> str:
    """The HTML report the CLI writes of ``sbom``."""
    page = folder / f"{sbom.name}.html"
    run = sbomgen("report", sbom, "-o", page)
    assert run.returncode == 0, run.stderr
    return page.read_text()


def test_every_format_is_written_and_valid(outputs: Path) -> None:
    names = sorted(p.name for p in outputs.iterdir())
    assert names == [f"{NAME}.cdx.json", f"{NAME}.cdx.xml", f"{NAME}.spdx", f"{NAME}.spdx.json"]
    run = sbomgen("validate", *(outputs / n for n in names))
    assert run.returncode == 0, run.stdout
    assert run.stdout.decode().splitlines() == [
        f"{outputs / names[0]}: valid CycloneDX 1.7",
        f"{outputs / names[1]}: valid CycloneDX 1.7 XML",
        f"{outputs / names[2]}: valid SPDX 2.3",
        f"{outputs / names[3]}: valid SPDX 2.3",
    ]


def test_tag_value_with_windows_line_ends_is_read_as_spdx_tools_reads(outputs: Path, tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.spdx"
    crlf.write_bytes((outputs / f"{NAME}.spdx").read_bytes().replace(b"\n", b"\r\n"))
    run = sbomgen("validate", crlf)
    assert run.returncode == 0, run.stdout
    assert run.stdout.decode().splitlines() == [f"{crlf}: valid SPDX 2.3"]


def test_tag_value_under_any_name_is_read_as_tag_value(outputs: Path, tmp_path: Path) -> None:
    # spdx-tools knows tag-value only as *.spdx; a valid one named otherwise is not "INVALID".
    text = (outputs / f"{NAME}.spdx").read_bytes()
    for name, content in (("sbom.txt", text), ("sbom.tv", b"# made by hand\n\n" + text)):
        (tmp_path / name).write_bytes(content)
        run = sbomgen("validate", tmp_path / name)
        assert (run.returncode, run.stdout.decode()) == (0, f"{tmp_path / name}: valid SPDX 2.3\n")
    broken = tmp_path / "broken.txt"
    broken.write_bytes(text.replace(b"\nDataLicense: CC0-1.0", b"\nDataLicense: MIT"))
    run = sbomgen("validate", broken)
    assert run.returncode == 1 and "data_license must be" in run.stdout.decode(), run.stdout
    # Missing, spdx-tools' model would assume CC0-1.0: SPDX 2.3 requires the tag.
    broken.write_bytes(text.replace(b"\nDataLicense: CC0-1.0", b""))
    run = sbomgen("validate", broken)
    assert run.returncode == 1, run.stdout
    assert f"{broken}: document: DataLicense is missing (SPDX 2.3 requires one)" in run.stdout.decode()


def test_cyclonedx_holds_what_spdx_holds(outputs: Path) -> None:
    # Both read into one form: the same components, versions, hashes, licenses, sources, files.
    run = sbomgen("diff", outputs / f"{NAME}.spdx.json", outputs / f"{NAME}.cdx.json", "--json")
    assert run.returncode == 0, run.stdout
    assert json.loads(run.stdout) == {
        "components": {"added": [], "removed": [], "changed": []},
        "files": {"added": 0, "removed": 0, "changed": 0},
    }
    bom = json.loads((outputs / f"{NAME}.cdx.json").read_text())
    assert bom["specVersion"] == "1.7"
    assert bom["metadata"]["component"]["name"] == "CPython"
    pip = next(c for c in bom["components"] if c["name"] == "pip")
    assert sorted(c["name"] for c in pip["components"]) == PIP_25_1_1_VENDORED
    expat = next(c for c in bom["components"] if c["name"] == "expat")
    assert len([c for c in expat["components"] if c["type"] == "file"]) == 21
    depends = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert len(depends[pip["bom-ref"]]) == 20
    # No other license may sit beside a concluded expression (cyclonedx-python-lib, CycloneDX
    # 1.6): the declared one is kept in the evidence, acknowledged as declared.
    typing = next(c for c in pip["components"] if c["name"] == "typing-extensions")
    assert (typing["licenses"], typing["evidence"]) == (
        [{"acknowledgement": "concluded", "expression": "0BSD AND Python-2.0.1"}],
        {"licenses": [{"acknowledgement": "declared", "expression": "PSF-2.0"}]},
    )


def test_cyclonedx_unique_items_checked_as_the_library_checks_them(outputs: Path) -> None:
    """sbomgen's linear uniqueItems check and cyclonedx-python-lib's own strict validator
    agree: the written document passes both; with a component repeated, both refuse it."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from sbomgen.write.cyclonedx import json_validator

    bom = json.loads((outputs / f"{NAME}.cdx.json").read_text())
    library = JsonStrictValidator(SchemaVersion.V1_7)
    # Few enough components for the library's pairwise check.
    bom["components"] = [c for c in bom["components"] if c["name"] in ("expat", "pip")]
    expat = bom["components"][0]
    expat["components"] = expat["components"][:3]
    assert library.validate_str(json.dumps(bom)) is None
    assert next(json_validator().iter_errors(bom), None) is None
    expat["components"].append(dict(expat["components"][1]))
    assert "non-unique elements" in str(library.validate_str(json.dumps(bom)))
    assert "non-unique elements" in next(json_validator().iter_errors(bom)).message


def test_diff_between_releases(sbom_311: Path, outputs: Path) -> None:
    run = sbomgen("diff", sbom_311, outputs / f"{NAME}.spdx.json", "--json")
    assert run.returncode == 1
    result = json.loads(run.stdout)["components"]
    assert [(c["component"], c["version"]) for c in result["added"]] == [
        ("expat", "2.6.3"),
        ("hacl-star", "bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0"),
        ("libb2", "0.98.1"),
        ("macholib", "1.0"),
        ("mpdecimal", "2.5.1"),
        ("pip/dependency-groups", "1.3.1"),
        ("pip/pyproject-hooks", "1.2.0"),
        ("pip/tomli-w", "1.2.0"),
        ("pip/truststore", "0.10.1"),
    ]
    assert [(c["component"], c["version"]) for c in result["removed"]] == [
        ("pip/chardet", "5.0.0"),
        ("pip/colorama", "0.4.5"),
        ("pip/pep517", "0.13.0"),
        ("pip/pyparsing", "3.0.9"),
        ("pip/six", "1.16.0"),
        ("pip/tenacity", "8.1.0"),
        ("pip/webencodings", "0.5.1"),
        ("setuptools", "65.5.0"),
    ]
    changed: dict[str, list[str]] = {}
    for change in result["changed"]:
        changed.setdefault(change["component"], []).append(change["field"])
    moved = ["version", "checksums", "download location"]
    relicensed = ["version", "checksums", "license", "download location"]  # the core metadata says more
    assert changed == {
        "cpython": moved,
        "pip": moved,
        **{
            f"pip/{name}": moved
            for name in (
                "cachecontrol",
                "certifi",
                "distlib",
                "distro",
                "idna",
                "msgpack",
                "platformdirs",
                "resolvelib",
                "rich",
                "setuptools",
                "tomli",
                "urllib3",
            )
        },
        # typing-extensions: 4.13.2's LICENSE adds 0BSD for the documentation's code to 4.4.0's stack.
        **{f"pip/{name}": relicensed for name in ("packaging", "pygments", "requests", "typing-extensions")},
    }
    versions = {c["component"]: (c["old"], c["new"]) for c in result["changed"] if c["field"] == "version"}
    assert versions["pip"] == ("22.3.1", "25.1.1")
    assert versions["pip/setuptools"] == ("44.0.0", "70.3.0")
    markdown = sbomgen("diff", sbom_311, outputs / f"{NAME}.spdx.json", "--markdown")
    assert markdown.returncode == 1
    assert "| pip | version | 22.3.1 | 25.1.1 |" in markdown.stdout.decode()


def test_diff_against_release_tooling(outputs: Path) -> None:
    run = sbomgen("diff", REFERENCE_313, outputs / f"{NAME}.spdx.json", "--json", "--files")
    assert run.returncode == 1
    result = json.loads(run.stdout)
    assert result["components"]["added"] == [] and result["components"]["removed"] == []
    changes = [(c["component"], c["field"], c["old"], c["new"]) for c in result["components"]["changed"]]
    # Licenses: (declared, concluded). The release tooling concludes PSF-2.0 for CPython from
    # nothing; sbomgen concludes only from an exact license text or standard header (CPython's
    # LICENSE is the list's Python-2.0.1 stack and 0BSD; a vendored package's, where pip's wheel
    # carries none, from its recorded distribution file) and declares what each release's own
    # core metadata says.
    declared = {
        "certifi": "MPL-2.0", "dependency-groups": "MIT", "distlib": "PSF-2.0", "platformdirs": "MIT",
        "pyproject-hooks": "MIT", "requests": "Apache-2.0", "resolvelib": "ISC", "rich": "MIT",
        "setuptools": "MIT", "tomli-w": "MIT", "truststore": "MIT",
        "typing-extensions": "PSF-2.0", "urllib3": "MIT", "pygments": "BSD-2-Clause",
    }  # fmt: skip
    concluded = {
        "dependency-groups": "MIT", "idna": "BSD-3-Clause", "platformdirs": "MIT", "pygments": "BSD-2-Clause",
        "pyproject-hooks": "MIT", "requests": "Apache-2.0", "resolvelib": "ISC", "rich": "MIT",
        "setuptools": "MIT", "tomli-w": "MIT", "truststore": "MIT", "urllib3": "MIT",
        "distlib": "Python-2.0.1", "distro": "Apache-2.0", "msgpack": "Apache-2.0",
        "packaging": "Apache-2.0 OR BSD-2-Clause", "typing-extensions": "0BSD AND Python-2.0.1",
    }  # fmt: skip
    licenses = {
        ("cpython", "license", (None, "PSF-2.0"), (None, "0BSD AND Python-2.0.1")),
        ("expat", "license", (None, None), (None, "MIT")),
        ("mpdecimal", "license", (None, None), (None, "BSD-2-Clause")),
        ("hacl-star", "license", (None, None), (None, "Apache-2.0 AND MIT")),
        ("libb2", "license", (None, None), (None, "CC0-1.0")),
        ("pip/cachecontrol", "license", (None, None), (None, "Apache-2.0")),
        ("pip", "license", (None, None), ("MIT", "MIT")),
        ("pip/tomli", "license", (None, None), ("MIT", "MIT")),
        # macholib's sdist's PKG-INFO declares MIT; it carries no license file.
        ("macholib", "license", (None, None), ("MIT", None)),
        *(
            (f"pip/{name}", "license", (None, None), (declared.get(name), concluded.get(name)))
            for name in declared | concluded
        ),
    }
    assert {(c, f, tuple(o), tuple(n)) for c, f, o, n in changes if f == "license"} == licenses
    # The release tooling took platform wheels of msgpack and tomli; sbomgen the sdist and
    # the pure wheel the index lists for the bundled version.
    assert sorted((c, f) for c, f, _, _ in changes if f != "license") == [
        ("pip/msgpack", "checksums"),
        ("pip/msgpack", "download location"),
        ("pip/tomli", "checksums"),
        ("pip/tomli", "download location"),
    ]
    assert result["files"] == {
        "added": 0,
        "removed": 0,
        "changed": 0,
        "added_paths": [],
        "removed_paths": [],
        "changed_paths": [],
    }
    same = sbomgen("diff", REFERENCE_313, REFERENCE_313)
    assert same.returncode == 0
    assert b"Components: no change" in same.stdout


def small_sbom(tmp_path: Path) -> dict[str, Any]:
    path = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    run = sbomgen("tarball", path, "-o", "-")
    assert run.returncode == 0
    return json.loads(run.stdout)


def validate_one(tmp_path: Path, name: str, document: Any) -> list[str]:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    run = sbomgen("validate", path)
    assert run.returncode == 1, run.stdout
    lines = run.stdout.decode().splitlines()
    assert lines[0].startswith(f"{path}: INVALID")
    return [line.removeprefix(f"  {path}: ") for line in lines[1:]]


def test_validate_locates_problems(tmp_path: Path) -> None:
    document = small_sbom(tmp_path)
    missing_id = json.loads(json.dumps(document))
    del missing_id["packages"][0]["SPDXID"]
    assert any("SPDXID" in p or "spdx_id" in p for p in validate_one(tmp_path, "a.spdx.json", missing_id))

    dangling = json.loads(json.dumps(document))
    dangling["relationships"].append(
        {
            "spdxElementId": "SPDXRef-PACKAGE-cpython",
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": "SPDXRef-PACKAGE-gone",
        }
    )
    problems = validate_one(tmp_path, "b.spdx.json", dangling)
    assert problems == [
        "relationship SPDXRef-PACKAGE-cpython DEPENDS_ON SPDXRef-PACKAGE-gone: "
        'did not find the referenced spdx_id "SPDXRef-PACKAGE-gone" in the SPDX document'
    ]

    short = json.loads(json.dumps(document))
    file_id = short["files"][0]["SPDXID"]
    short["files"][0]["checksums"][0]["checksumValue"] = "abc123"
    problems = validate_one(tmp_path, "c.spdx.json", short)
    assert len(problems) == 1 and problems[0].startswith(
        f"checksum {file_id}: value of ChecksumAlgorithm.SHA1 must consist of 40"
    )

    bom_run = sbomgen("tarball", tmp_path / "Python-3.99.0.tgz", "-f", "cyclonedx-json", "-o", "-")
    bom = json.loads(bom_run.stdout)
    bom["components"][0]["type"] = "gadget"
    problems = validate_one(tmp_path, "d.cdx.json", bom)
    assert problems[0].startswith("$.components[0].type: 'gadget' is not one of")


def test_validate_ntia(tmp_path: Path) -> None:
    document = small_sbom(tmp_path)
    for package in document["packages"]:
        package.pop("supplier", None)
    path = tmp_path / "n.spdx.json"
    path.write_text(json.dumps(document))
    assert sbomgen("validate", path).returncode == 0
    run = sbomgen("validate", "--ntia", path)
    assert run.returncode == 1
    assert "NTIA minimum elements: components without a supplier" in run.stdout.decode()


def test_several_formats_need_a_folder(tmp_path: Path) -> None:
    path = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    run = sbomgen("tarball", path, "-f", "spdx-json,cyclonedx-json", "-o", "-")
    assert run.returncode == 2 and "only one output can go to stdout" in run.stderr
    run = sbomgen("tarball", path, "-f", "spdx-json,swid")
    assert run.returncode == 2 and "unknown swid" in run.stderr


def test_report_renders_in_chromium(outputs: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = tmp_path / "key.pem"
    key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    sbom = outputs / f"{NAME}.spdx.json"
    run = sbomgen(
        "provenance",
        CPYTHON_313,
        "--sbom",
        sbom,
        "--builder-id",
        "https://ci.example.org/release",
        "--sign",
        f"key:{key}",
        "-d",
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    report = tmp_path / "report.html"
    run = sbomgen("report", sbom, "--provenance", tmp_path / f"{NAME}.intoto.json", "-o", report)
    assert run.returncode == 0, run.stderr
    html = report.read_text()
    assert "<script" not in html and "http://" not in html.split("<body>")[0]  # no external assets
    assert "yes: a subject has the artifact&#39;s SHA256" in html
    assert "yes: among the byproducts, with this file&#39;s SHA256" in html

    from selenium.webdriver.common.by import By

    driver = chromium(tmp_path / "chromium-profile")
    try:
        driver.get(report.as_uri())
        assert driver.title == "SBOM of CPython 3.13.5"
        rows = driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
        assert len(rows) == 27
        assert driver.find_element(By.ID, "c-pip-urllib3").text.split()[:2] == ["urllib3", "1.26.20"]
        # A commit id, digests, purls and download labels each take one line as laid out.
        lines = (
            "const r = document.createRange(); r.selectNodeContents(arguments[0]);"
            "return new Set(Array.from(r.getClientRects(), rect => Math.round(rect.top))).size"
        )
        commit = driver.find_element(By.CSS_SELECTOR, "#c-hacl-star td.version")
        commit_id = "bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0"
        assert (commit.text, driver.execute_script(lines, commit)) == (commit_id, 1)
        tokens = [commit, *driver.find_elements(By.CSS_SELECTOR, "dd.hash, td.purl code, a.download")]
        assert len(tokens) == 1 + 1 + 27 + 27  # the commit, the SHA256, every package's purl, every download
        assert [(t.text, driver.execute_script(lines, t)) for t in tokens] == [(t.text, 1) for t in tokens]
        hacl = driver.find_element(By.CSS_SELECTOR, "#c-hacl-star a.download")
        assert hacl.get_attribute("href") == hacl.get_attribute("title")
        assert hacl.get_attribute("href").endswith(f"/{commit_id}.zip")
        errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
        assert errors == []
        screenshots = ROOT / ".test-artifacts"
        screenshots.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(screenshots / "report.png"))
    finally:
        driver.quit()


@pytest.mark.parametrize("suffix", ["spdx.json", "cdx.json"])
def test_report_nests_what_pip_vendors_under_pip(outputs_311: Path, tmp_path: Path, suffix: str) -> None:
    """3.11.2 bundles two wheels, pip and setuptools: the packages pip vendors (setuptools
    44.0.0 among them) are shown under pip, as the SBOM's dependencies say, none under the
    bundled setuptools 65.5.0."""
    html = report_of(outputs_311 / f"Python-3.11.2.tgz.{suffix}", tmp_path)
    under: dict[str, list[str]] = {}
    for depth, row_id in re.findall(r'<tr class="depth-(\d)" id="c-([^"]+)">', html):
        if depth == "1":
            under[row_id] = []
        elif depth == "2":
            under[list(under)[-1]].append(row_id)
    assert under == {"pip": sorted(f"pip-{name}" for name, _ in PIP_22_3_1_VENDORED), "setuptools": []}
    assert re.findall(r"<strong>(.*?)</strong> vendors (\d+) package", html) == [("pip", "23")]


def test_report_is_titled_by_the_described_package_in_every_format(outputs: Path, tmp_path: Path) -> None:
    """SPDX, CycloneDX JSON and XML of one tarball, and the release tooling's SPDX of it,
    give one title: the described package's name and version as each SBOM states them."""
    sboms = [outputs / f"{NAME}.{suffix}" for suffix in ("spdx.json", "cdx.json", "cdx.xml")]
    for sbom in [*sboms, REFERENCE_313]:
        html = report_of(sbom, tmp_path)
        assert re.findall(r"<title>(.*)</title>|<h1>(.*)</h1>", html) == [
            ("SBOM of CPython 3.13.5", ""),
            ("", "CPython 3.13.5"),
        ], sbom.name


@pytest.mark.parametrize("suffix", ["spdx.json", "cdx.json"])
def test_report_files_are_what_the_sbom_lists(outputs: Path, tmp_path: Path, suffix: str) -> None:
    """Each component's file count is the files the SBOM lists for it; pip, a bundled wheel
    whose files the SBOM does not list, and what it vendors show a dash, not 0."""
    html = report_of(outputs / f"{NAME}.{suffix}", tmp_path)
    cells = re.findall(r'<tr class="depth-\d" id="c-([^"]+)">.*?<td class="num">(.*?)</td>', html, re.DOTALL)
    files = {row: re.sub(r"<[^>]*>", "", cell) for row, cell in cells}
    listed = {"cpython": "4697", "expat": "21", "hacl-star": "20", "libb2": "14", "macholib": "4"}
    listed["mpdecimal"] = "52"
    assert files == {**listed, "pip": "—", **{f"pip-{name}": "—" for name in PIP_25_1_1_VENDORED}}


def test_diff_as_text_gives_every_value_whole(sbom_311: Path, outputs: Path) -> None:
    """The plain text for a pipe: one change a line, URLs and digests whole, as grep finds them."""
    from sbomgen.workflows.diff import as_text, compare, load

    new = outputs / f"{NAME}.spdx.json"
    difference = compare(load(sbom_311), load(new))
    text = as_text(difference, list_files=True)
    lines = text.splitlines()

    def pip(sbom: Path) -> dict[str, Any]:
        return next(p for p in json.loads(sbom.read_text())["packages"] if p["name"] == "pip")

    old_url, new_url = pip(sbom_311)["downloadLocation"], pip(new)["downloadLocation"]
    assert new_url.startswith("https://files.pythonhosted.org/packages/") and len(new_url) > 100
    assert f"~ pip download location: {old_url} -> {new_url}" in lines
    old_sha, new_sha = (f"SHA256:{pip(s)['checksums'][0]['checksumValue']}" for s in (sbom_311, new))
    assert f"~ pip checksums: {old_sha} -> {new_sha}" in lines
    assert "~ pip version: 22.3.1 -> 25.1.1" in lines
    assert "~ pip/setuptools version: 44.0.0 -> 70.3.0" in lines
    assert "+ hacl-star bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0" in lines
    assert "- setuptools 65.5.0" in lines
    assert "…" not in text
    # Every change the JSON output has is one line, in its order: components, then files.
    changes = [line for line in lines if line[:2] in ("+ ", "- ", "~ ")]
    assert len(changes) == len(difference.added) + len(difference.removed) + len(difference.changed)
    counts = [len(difference.files_added), len(difference.files_removed), len(difference.files_changed)]
    assert lines[len(changes)] == "Files: {} added, {} removed, {} changed".format(*counts)
    assert lines[len(changes) + 1 :] == [
        *(f"  + {path}" for path in difference.files_added),
        *(f"  - {path}" for path in difference.files_removed),
        *(f"  ~ {path}" for path in difference.files_changed),
    ]
    assert sum(counts) > 100
    same = compare(load(new), load(new))
    assert as_text(same, list_files=True) == "Components: no change\nFiles: 0 added, 0 removed, 0 changed\n"


def test_evidence_is_read_as_the_declared_license_only_where_it_is_the_one() -> None:
    """A declared license in a component's evidence (where sbomgen puts it beside a concluded
    expression) counts only where the component's licenses declare none and the evidence
    declares exactly one: another tool's evidence neither overrides a declared license nor,
    listing several, stands for one of them."""
    from sbomgen.documents.cyclonedx import load
    from sbomgen.errors import ContentError
    from sbomgen.workflows.diff import from_cyclonedx

    def declared(licenses: list[dict[str, Any]], evidence: list[dict[str, Any]]) -> Any:
        component = {"type": "library", "name": "x", "version": "1", "bom-ref": "x", "licenses": licenses}
        if evidence:
            component["evidence"] = {"licenses": evidence}
        bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [component]}
        snapshot = from_cyclonedx(load(json.dumps(bom), "x.cdx.json", ContentError), "x.cdx.json")
        return next(iter(snapshot.components.values()))["license"]

    concluded = [{"expression": "MIT AND BSD-3-Clause", "acknowledgement": "concluded"}]
    gpl = {"license": {"id": "GPL-3.0-only"}, "acknowledgement": "declared"}
    assert declared(concluded, [{"expression": "PSF-2.0", "acknowledgement": "declared"}]) == (
        "PSF-2.0",
        "MIT AND BSD-3-Clause",
    )
    mit = [{"license": {"id": "MIT", "acknowledgement": "declared"}}]
    assert declared(mit, [gpl]) == ("MIT", None)
    assert declared(concluded, [gpl, {"license": {"id": "MIT"}, "acknowledgement": "declared"}]) == (
        None,
        "MIT AND BSD-3-Clause",
    )
    assert declared(concluded, [{"license": {"id": "GPL-3.0-only"}}]) == (None, "MIT AND BSD-3-Clause")
