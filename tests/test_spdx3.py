"""SPDX 3.0.1 JSON-LD (-f spdx3-json) on the real CPython releases: spdx3-validate's schema
and SHACL checks, ntia-checker's three profiles, validate, diff against SPDX 2.3, reruns."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CPYTHON_311, CPYTHON_313, SIGSTORE_SDIST, sbomgen
from hypothesis import given, settings
from hypothesis import strategies as st
from spdx3_shacl import spdx3_problems

from sbomgen.documents.text import control_character
from sbomgen.errors import ContentError
from sbomgen.workflows import diff
from sbomgen.workflows.check import read_packages

VENV_BIN = Path(sys.executable).parent
# Who made the SBOM, from the environment (one a line), as CI would set it once.
CREATORS = {
    "SBOMGEN_CREATOR": "Organization: Python Release Managers (https://www.python.org/downloads/)\n"
    "Person: Kim Doe <kim@example.org>"
}


@pytest.fixture(scope="module", params=[CPYTHON_313, CPYTHON_311], ids=["3.13.5", "3.11.2"])
def outputs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, real_data: Path
) -> Path:
    folder = tmp_path_factory.mktemp(request.param.name)
    run = sbomgen("tarball", request.param, "-o", f"{folder}/", "-f", "spdx-json,spdx3-json", env=CREATORS)
    assert run.returncode == 0, run.stderr
    return folder / f"{request.param.name}.spdx3.json"


def sampled(document: dict[str, Any], keep: int = 3) -> dict[str, Any]:
    """The document with all but ``keep`` of the files of each component left out (SHACL
    takes minutes over thousands of files, which are all of one shape), every other
    element whole."""
    graph = document["@graph"]
    kept: set[str] = set()
    for element in graph:
        if element["type"] == "Relationship" and element["relationshipType"] == "contains":
            element["to"] = element["to"][:keep]
            kept.update(element["to"])
    files = {e["spdxId"] for e in graph if e["type"] == "software_File" and "#file/" in e["spdxId"]}
    document["@graph"] = [e for e in graph if e.get("spdxId") not in files - kept]
    return document


def test_spdx3_validate_on_an_sdist(tmp_path: Path, real_data: Path) -> None:
    """spdx3-validate's schema and SHACL checks, on a small SBOM: over a tarball's thousands
    of files they take many minutes (SHACL with the model's inference)."""
    out = tmp_path / "sigstore.spdx3.json"
    assert sbomgen("sdist", SIGSTORE_SDIST, "-o", out, "-f", "spdx3-json").returncode == 0
    assert spdx3_problems(out.read_bytes()) == []


def verdicts(path: Path, profile: str) -> dict[str, str]:
    """Each row of the checker's table, "Conformant", and (its -v list) "missing NAME": the
    components that miss NAME."""
    run = subprocess.run(
        [VENV_BIN / "ntia-checker", "-s", "spdx3", "-c", profile, "-v", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = run.stdout.splitlines()
    rows = [line.rsplit("|", 1) for line in lines if line.count("|") == 1]
    conformant = next(line for line in lines if line.startswith("Conformant:"))
    missing = [re.fullmatch(r"(\w+) \(\d+\): (.+)", line) for line in lines]
    return {
        "Conformant": conformant.split(":")[1].strip(),
        **{k.strip(): v.strip() for k, v in rows},
        **{f"missing {m[1]}": m[2] for m in missing if m},
    }


# The components ntia-checker finds missing an element, by release (none else miss one).
# Concluded licenses: only exact matches of whole license texts, standard headers, a license
# steward's notice or a short reference naming one license (certifi's MPL-2.0 header sits
# inside a description; macholib's files carry no notice). Copyright: certifi's
# LICENSE, setuptools 70.3.0's and macholib's sdist carry no notice; libb2's headers are
# a CC0 dedication ("Written in 2012 by Samuel Neves"), no copyright notice; chardet's
# LICENSE is the LGPL text, whose FSF notice is the license document's, not chardet's.
UNLICENSED_313 = "certifi, macholib"
UNLICENSED_311 = "certifi, chardet, colorama, webencodings"
MISSING = {
    "3.13.5": {
        "fsct3-min": {
            "missing concluded_license": UNLICENSED_313,
            "missing copyright_text": "certifi, libb2, macholib, setuptools",
        },
        # The C libraries and macholib, whose files the tarball holds, are distributed in it.
        "bsi": {"missing distribution_licenses": UNLICENSED_313},
    },
    "3.11.2": {
        "fsct3-min": {
            "missing concluded_license": UNLICENSED_311,
            "missing copyright_text": "certifi, chardet",
        },
        "bsi": {"missing distribution_licenses": UNLICENSED_311},
    },
}


def test_ntia_checker_profiles(outputs: Path) -> None:
    assert verdicts(outputs, "ntia")["Conformant"] == "True"
    fsct = verdicts(outputs, "fsct3-min")
    # Licenses and copyrights found in the license files come from the inventory (not yet there).
    waiting = {"All component concluded license provided?", "All component copyright notice provided?"}
    assert {k for k, v in fsct.items() if v == "False"} - waiting <= {"Conformant"}
    assert fsct["SBOM generation context (SBOM type) provided?"] == "True"
    bsi = verdicts(outputs, "bsi")
    for element in (
        "Creator of the SBOM",
        "Timestamp",
        "Dependency Completeness",
        "Component Names",
        "Component Versions",
        "Component Creators",
        "Structured Properties",
        "Deployable Component Hashes",
        "Source Code URIs (Warning)",
        "Deployable Form URIs (Warning)",
        "Other Unique Identifiers (Warning)",
    ):
        assert bsi[element] == "True", element
    # A distribution file is linked only where sbomgen hashed its bytes (SHA-512): the
    # artifact (also of the bundled libraries whose files it holds), the bundled wheels and
    # the recorded files of what pip vendors.
    assert bsi["Distribution Filenames"] == "True"
    release = "3.13.5" if "3.13.5" in outputs.name else "3.11.2"
    for profile, found in (("fsct3-min", fsct), ("bsi", bsi)):
        assert {k: v for k, v in found.items() if k.startswith("missing ")} == MISSING[release][profile]


def test_validate_diff_and_rerun(outputs: Path, tmp_path: Path) -> None:
    run = sbomgen("validate", outputs)
    assert run.returncode == 0 and run.stdout.decode().strip() == f"{outputs}: valid SPDX 3.0.1", run.stdout
    spdx2 = outputs.with_name(outputs.name.replace(".spdx3.json", ".spdx.json"))
    assert sbomgen("diff", spdx2, outputs).stdout.decode().splitlines() == [
        "Components: no change",
        "Files: 0 added, 0 removed, 0 changed",
    ]
    again = tmp_path / outputs.name
    artifact = CPYTHON_313 if "3.13.5" in outputs.name else CPYTHON_311
    assert sbomgen("tarball", artifact, "-o", again, "-f", "spdx3-json", env=CREATORS).returncode == 0
    assert again.read_bytes() == outputs.read_bytes()


def test_validate_rejects_a_broken_document(outputs: Path, tmp_path: Path) -> None:
    document = json.loads(outputs.read_bytes())
    package = next(e for e in document["@graph"] if e["type"] == "software_Package")
    del package["creationInfo"]
    broken = tmp_path / "broken.spdx3.json"
    broken.write_text(json.dumps(document))
    run = sbomgen("validate", broken)
    assert run.returncode == 1
    assert run.stdout.decode().splitlines() == [
        f"{broken}: INVALID SPDX 3.0.1 (1 problem(s))",
        f"  {broken}: Property 'creationInfo' in software_Package is required (currently None)",
    ]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_ELEMENT = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["software_Package", "software_File", "Relationship", "SpdxDocument", "Hash", "Annotation"]
        )
    },
    optional={
        "spdxId": st.sampled_from(["x:a", "x:b", "_:c", "", "nope"]),
        "name": _JSON,
        "to": _JSON,
        "from": _JSON,
        "verifiedUsing": _JSON,
        "rootElement": _JSON,
        "creationInfo": _JSON,
        "subject": st.sampled_from(["x:a", "x:b"]) | _JSON,
        "statement": st.sampled_from(["sbomgen:index-release-files [", "sbomgen:index-release-files []"])
        | _JSON,
        "software_packageUrl": st.sampled_from(["pkg:pypi/idna@3.10", "pkg:", "pkg:pypi/"]) | _JSON,
        "software_downloadLocation": st.sampled_from(["http://[x/a.whl", "https://h/idna-3.10.tar.gz"])
        | _JSON,
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ELEMENT, max_size=5))
def test_diff_and_check_read_hostile_spdx3_as_content_errors(graph: list[dict[str, Any]]) -> None:
    data = json.dumps(
        {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph}
    ).encode()
    for read in (diff.loads, read_packages):
        try:
            read(data, "x.spdx3.json")
        except ContentError as exc:
            assert "\n" not in str(exc)


def test_a_hostile_value_in_an_error_is_escaped(tmp_path: Path) -> None:
    """The bindings quote the value they refuse; the one-line error carries it escaped, not
    as terminal control sequences (a window title, a cleared screen)."""
    path = tmp_path / "hostile.spdx3.json"
    creation = {
        "type": "CreationInfo",
        "@id": "_:c",
        "specVersion": "3.0.1",
        "created": "\x1b]0;t\x07\x1b[2J",
    }
    path.write_text(
        json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [creation]})
    )
    run = sbomgen("diff", path, path)
    assert (run.returncode, run.stderr) == (
        4,
        f"sbomgen: error: {path}: not a valid SPDX 3.0.1 document: "
        "'\\u001b]0;t\\u0007\\u001b[2J' is not a correctly formatted datetime\n",
    )


def test_check_reads_spdx3(outputs: Path, tmp_path: Path) -> None:
    """`check` reads the SPDX 3 document as it reads the SPDX 2 one: the same report; a
    recorded release file whose SHA256 the annotation no longer matches is changed."""
    spdx2 = outputs.with_name(outputs.name.replace(".spdx3.json", ".spdx.json"))
    runs = [sbomgen("check", path, "--json", "--cache-dir", tmp_path / "cache") for path in (spdx2, outputs)]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    assert runs[0].stdout == runs[1].stdout
    assert json.loads(runs[1].stdout)["releases"] >= 20
    document = json.loads(outputs.read_bytes())
    note = next(
        e for e in document["@graph"] if e["type"] == "Annotation" and "pip-" in e.get("statement", "")
    )
    recorded = json.loads(note["statement"].split(" ", 1)[1])
    wheel = next(f for f in recorded if f["filename"].endswith(".whl"))
    wheel["sha256"] = "0" * 64
    note["statement"] = "sbomgen:index-release-files " + json.dumps(recorded)
    forged = tmp_path / "forged.spdx3.json"
    forged.write_text(json.dumps(document))
    run = sbomgen("check", forged, "--json", "--cache-dir", tmp_path / "cache")
    assert run.returncode == 1, run.stderr
    changed = [(r["name"], r["changed"]) for r in json.loads(run.stdout)["changed"]]
    assert changed == [("pip", [wheel["filename"]])]


PSF = ("Organization", "Python Software Foundation", None, "https://www.python.org")
PYPA = ("Organization", "Python Packaging Authority", "distutils-sig@python.org")
# (kind, name, e-mail, URL) of a few originators: the PSF; a C library's from its download
# location; the PyPA's from the bundled wheels' own METADATA; the rest from core metadata.
ORIGINATORS = {
    "Python-3.13.5.tar.xz": {
        "CPython 3.13.5": PSF,
        "expat 2.6.3": (
            "Organization",
            "Expat development team",
            None,
            "https://github.com/libexpat/libexpat",
        ),
        "mpdecimal 2.5.1": ("Organization", "bytereef.org", None, "https://www.bytereef.org/"),
        "macholib 1.0": ("Person", "Ronald Oussoren", "ronaldoussoren@mac.com", None),
        "pip 25.1.1": (*PYPA, "https://pip.pypa.io/"),
        "idna 3.10": ("Person", "Kim Davies", "kim+pypi@gumleaf.org", "https://github.com/kjd/idna"),
        "rich 14.0.0": (
            "Person",
            "Will McGugan",
            "willmcgugan@gmail.com",
            "https://github.com/Textualize/rich",
        ),
    },
    "Python-3.11.2.tgz": {
        "CPython 3.11.2": PSF,
        "pip 22.3.1": (*PYPA, "https://pip.pypa.io/"),
        # The bundled wheel, not the setuptools 44.0.0 pip vendors (its core metadata: a Person).
        "setuptools 65.5.0": (*PYPA, "https://github.com/pypa/setuptools"),
        "setuptools 44.0.0": (
            "Person",
            "Python Packaging Authority",
            "distutils-sig@python.org",
            "https://github.com/pypa/setuptools",
        ),
        "idna 3.4": ("Person", "Kim Davies", "kim@cynosure.com.au", "https://github.com/kjd/idna"),
    },
}


# The packages distributed in the artifact itself: CPython, and the bundled libraries whose
# files the artifact holds (Misc/sbom.spdx.json's), linked to the artifact's one file element.
IN_ARTIFACT = {
    "Python-3.13.5.tar.xz": [
        *("CPython 3.13.5", "expat 2.6.3", "hacl-star bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0"),
        *("libb2 0.98.1", "macholib 1.0", "mpdecimal 2.5.1"),
    ],
    "Python-3.11.2.tgz": ["CPython 3.11.2"],
}


def test_distribution_files(outputs: Path) -> None:
    """Every package has exactly one distribution file: the artifact's (one element, with the
    artifact's SHA-512) for what the artifact holds the files of, else the wheel or sdist of
    that very release whose bytes sbomgen read."""
    import hashlib

    from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
    from packaging.version import Version

    release = outputs.name.removesuffix(".spdx3.json")
    graph = json.loads(outputs.read_bytes())["@graph"]
    by_id = {e.get("spdxId"): e for e in graph}
    packages = {
        e["spdxId"]: f"{e['name']} {e['software_packageVersion']}"
        for e in graph
        if e["type"] == "software_Package"
    }
    links = [
        (packages[r["from"]], r["to"])
        for r in graph
        if r["type"] == "Relationship" and r["relationshipType"] == "hasDistributionArtifact"
    ]
    assert sorted(name for name, _ in links) == sorted(packages.values())  # each package once
    assert all(len(to) == 1 for _, to in links)
    (artifact,) = [e for e in graph if e["type"] == "software_File" and e["name"] == release]
    sha512 = hashlib.sha512((CPYTHON_313 if "3.13" in release else CPYTHON_311).read_bytes()).hexdigest()
    assert {"type": "Hash", "algorithm": "sha512", "hashValue": sha512} in artifact["verifiedUsing"]
    assert sorted(name for name, (to,) in links if to == artifact["spdxId"]) == IN_ARTIFACT[release]
    for name, (to,) in links:
        if to != artifact["spdxId"]:
            file = by_id[to]["name"]
            project, version = name.split(" ")
            parsed = parse_wheel_filename(file)[:2] if file.endswith(".whl") else parse_sdist_filename(file)
            assert parsed == (canonicalize_name(project), Version(version)), (name, file)
            assert any(h["algorithm"] == "sha512" for h in by_id[to]["verifiedUsing"])
    if "3.13" in release:  # macholib's sdist, read whole, is its source file, SHA-512 and all
        (source,) = [e for e in graph if e.get("name") == "macholib-1.0.tar.gz"]
        assert [h["algorithm"] for h in source["verifiedUsing"]] == ["sha256", "sha512"]


def test_originators_hashes_and_index(outputs: Path) -> None:
    import hashlib
    import tarfile

    release = outputs.name.removesuffix(".spdx3.json")
    graph = json.loads(outputs.read_bytes())["@graph"]
    by_id = {e.get("spdxId"): e for e in graph}
    packages = {
        f"{e['name']} {e['software_packageVersion']}": e for e in graph if e["type"] == "software_Package"
    }

    def contact(agent: dict[str, Any], kind: str) -> str | None:
        found = [
            i["identifier"]
            for i in agent.get("externalIdentifier", [])
            if i["externalIdentifierType"] == kind
        ]
        return found[0] if found else None

    for name, expected in ORIGINATORS[release].items():
        (agent,) = [by_id[a] for a in packages[name]["originatedBy"]]
        assert (
            agent["type"],
            agent["name"],
            contact(agent, "email"),
            contact(agent, "urlScheme"),
        ) == expected

    # The bundled pip wheel's distribution file carries the SHA-512 of its very bytes.
    with tarfile.open(CPYTHON_313 if "3.13" in release else CPYTHON_311) as archive:
        wheel = next(m for m in archive if "/_bundled/pip-" in m.name)
        handle = archive.extractfile(wheel)
        assert handle is not None
        sha512 = hashlib.sha512(handle.read()).hexdigest()
    linked = {
        by_id[r["from"]]["name"]: by_id[r["to"][0]]
        for r in graph
        if r["type"] == "Relationship" and r["relationshipType"] == "hasDistributionArtifact"
    }
    assert {"algorithm": "sha512", "hashValue": sha512, "type": "Hash"} in linked["pip"]["verifiedUsing"]
    assert linked["pip"]["name"] == wheel.name.rsplit("/", 1)[1]
    # Which index answered, for each package looked up there (issue #19).
    answered = {
        f"{by_id[a['subject']]['name']} {by_id[a['subject']]['software_packageVersion']}": a[
            "statement"
        ].split(" ", 1)[1]
        for a in graph
        if a["type"] == "Annotation" and a["statement"].startswith("sbomgen:index-url ")
    }
    assert set(answered) == {
        n for n, p in packages.items() if p.get("software_packageUrl", "").startswith("pkg:pypi/")
    }
    assert set(answered.values()) == {os.environ["PIP_INDEX_URL"]}


def _spdx3_with(package: dict[str, Any]) -> bytes:
    """A small valid SPDX 3.0.1 document of one software_Package with ``package``'s properties."""
    base = "https://example.org/doc"
    graph = [
        {"type": "CreationInfo", "@id": "_:c", "specVersion": "3.0.1", "created": "2025-01-01T00:00:00Z",
         "createdBy": [f"{base}#agent"]},
        {"type": "Organization", "spdxId": f"{base}#agent", "name": "o", "creationInfo": "_:c"},
        {"type": "SpdxDocument", "spdxId": base, "creationInfo": "_:c", "rootElement": [f"{base}#p"]},
        {"type": "software_Package", "spdxId": f"{base}#p", "creationInfo": "_:c", **package},
    ]  # fmt: skip
    return json.dumps(
        {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph}
    ).encode()


_HOSTILE_TEXT = st.lists(
    st.sampled_from(["a", ".", "/", "\x1b", "\n", "\u2028", "\u202e", "<text>", "é"]), max_size=8
).map("".join)


@settings(max_examples=80, deadline=None)
@given(_HOSTILE_TEXT, _HOSTILE_TEXT, _HOSTILE_TEXT, st.text(st.sampled_from("0aZ\n"), max_size=66))
def test_check_reads_an_spdx3_package_through_the_gate(
    name: str, version: str, file: str, sha256: str
) -> None:
    """What `check` reports of an SPDX 3 package (its name, the file its download location
    names, its SHA256) passes the gate SPDX 2's would: one line, no escapes, a hex SHA256."""
    package = {
        "name": f"idna{name}",
        "software_packageVersion": f"3.10{version}",
        "software_packageUrl": "pkg:pypi/idna@3.10",
        "software_downloadLocation": f"https://files.example.org/{file}.whl",
        "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": sha256}],
    }
    try:
        _, packages = read_packages(_spdx3_with(package), "x.spdx3.json")
    except ContentError as exc:
        assert "\n" not in str(exc)
        return
    (found,) = packages
    for value in (found.name, found.version, found.location):
        assert control_character(value or "") is None and "<text>" not in (value or "")
    assert found.sha256 is not None and len(found.sha256) == 64 and int(found.sha256, 16) >= 0


def test_check_refuses_an_escape_in_an_spdx3_download_location(tmp_path: Path) -> None:
    """Not a report whose 'removed:' line clears the terminal: exit 4, one line."""
    path = tmp_path / "hostile.spdx3.json"
    path.write_bytes(
        _spdx3_with(
            {
                "name": "idna",
                "software_packageUrl": "pkg:pypi/idna@3.10",
                "software_downloadLocation": "https://files.example.org/idna-3.10\x1b[2J.whl",
                "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": "a" * 64}],
            }
        )
    )
    run = sbomgen("check", path, "--cache-dir", tmp_path / "cache")
    assert run.returncode == 4, (run.returncode, run.stdout, run.stderr)
    assert run.stderr == (
        f"sbomgen: error: {path}: package 'https://example.org/doc#p': location: "
        "holds the control character U+001B\n"
    )
    assert run.stdout == b""


def _packages_document(packages: list[tuple[str, str]]) -> dict[str, Any]:
    """A valid SPDX 3 document of packages given as (IRI, version)."""
    creation = {
        "type": "CreationInfo",
        "@id": "_:c",
        "specVersion": "3.0.1",
        "created": "2025-01-01T00:00:00Z",
    }
    creation["createdBy"] = ["urn:x:agent"]
    agent = {"type": "SoftwareAgent", "spdxId": "urn:x:agent", "creationInfo": "_:c", "name": "t"}
    elements = [
        {"type": "software_Package", "spdxId": iri, "creationInfo": "_:c", "name": f"p{number}"}
        | {"software_packageVersion": version}
        for number, (iri, version) in enumerate(packages)
    ]
    document = {"type": "SpdxDocument", "spdxId": "urn:x:doc", "creationInfo": "_:c"}
    document |= {"rootElement": [packages[0][0]], "element": [iri for iri, _ in packages]}
    return {
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": [creation, agent, document, *elements],
    }


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["urn:x:a", "urn:x:b", "urn:x:c"]), st.sampled_from(["1.0", "2.0"])),
        min_size=1,
        max_size=4,
    )
)
def test_an_iri_defined_twice_is_refused(packages: list[tuple[str, str]]) -> None:
    """The bindings decode the first object of an IRI and skip the others unread: diff saw one
    version of a package the document gives two, and validate called it valid."""
    data = json.dumps(_packages_document(packages)).encode()
    iris = [iri for iri, _ in packages]
    twice = sorted({iri for iri in iris if iris.count(iri) > 1})
    if not twice:
        found = diff.loads(data, "x.spdx3.json").components
        assert {name: c["version"] for name, c in found.items()} == {
            f"p{number}": version for number, (_, version) in enumerate(packages)
        }
        return
    with pytest.raises(ContentError) as refused:
        diff.loads(data, "x.spdx3.json")
    assert str(refused.value) == (
        "x.spdx3.json: not a valid SPDX 3.0.1 document: "
        f"{len(twice)} IRI(s) defined by more than one object: {twice[0]}"
    )
