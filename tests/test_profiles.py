"""validate --profile: the elements of NTIA 2021, CISA 2024 (FSCT3 minimum expected) and BSI
TR-03183-2 v2.1.0 judged on sbomgen's real outputs and CPython's own SBOM, agreeing with
ntia-conformance-checker on SPDX, and one removed field failing exactly its element."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CPYTHON_311, CPYTHON_313, REFERENCE_313, sbomgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbomgen.documents import sbom
from sbomgen.errors import ContentError
from sbomgen.workflows import profiles
from sbomgen.workflows.sbom_view import View, from_cyclonedx, from_spdx2

FORMAT = "Format: CycloneDX >= 1.6 or SPDX >= 3.0.1"
BSI_COMMON = {
    "Creator of the SBOM (e-mail or URL)": 0,
    "Completeness of the dependencies": 0,
}
BSI_PER_COMPONENT = (
    "SHA-512 of the deployable component",
    "Executable property",
    "Archive property",
    "Structured property",
    "Source code URI",
)


def _bsi(components: int) -> dict[str, int]:
    return {**BSI_COMMON, **dict.fromkeys(BSI_PER_COMPONENT, components)}


def _cisa(unlicensed: int, without_copyright: int, typed: bool = False) -> dict[str, int]:
    """Untyped: the document states no SBOM type (SPDX 2 has no field for it)."""
    failing = {"License (concluded)": unlicensed, "Copyright notice": without_copyright}
    return failing if typed else {"SBOM type": 0, **failing}


# The elements each profile fails on each document: element -> how many components miss it
# (0 for an element of the document as a whole). Every other element passes.
EXPECTED: dict[str, dict[str, dict[str, int]]] = {
    "313.spdx.json": {
        "ntia": {},
        # Without copyright: certifi, libb2, macholib, setuptools (their files carry no notice).
        "cisa-2024": _cisa(2, 4),
        "bsi-2.1": {
            FORMAT: 0,
            **_bsi(27),
            # SPDX 2's originator holds an e-mail only: CPython's and the C libraries' URLs do not fit.
            "Component creator (e-mail or URL)": 5,
            "Filename of the component": 25,
            "Distribution licences": 2,
            # macholib's declared license is its sdist's PKG-INFO's (MIT).
            "Original licences": 10,
        },
    },
    "313.cdx.json": {
        "ntia": {},
        "cisa-2024": _cisa(2, 4, typed=True),
        "bsi-2.1": {
            # The completeness of the dependencies is stated in compositions.
            "Creator of the SBOM (e-mail or URL)": 0,
            # Every deployable file read whole: the artifact (also of the libraries whose files
            # it holds), the bundled pip, what pip vendors.
            "Distribution licences": 2,
            "Original licences": 10,
        },
    },
    "311.spdx.json": {
        "ntia": {},
        "cisa-2024": _cisa(4, 2),
        "bsi-2.1": {
            FORMAT: 0,
            **_bsi(26),
            "Component creator (e-mail or URL)": 1,
            "Filename of the component": 23,
            "Distribution licences": 4,
            "Original licences": 11,
        },
    },
    "311.cdx.json": {
        "ntia": {},
        "cisa-2024": _cisa(4, 2, typed=True),
        "bsi-2.1": {
            "Creator of the SBOM (e-mail or URL)": 0,
            "Distribution licences": 4,
            "Original licences": 11,
        },
    },
    "release-tools": {
        "ntia": {},
        "cisa-2024": _cisa(26, 27),
        "bsi-2.1": {
            FORMAT: 0,
            **_bsi(27),
            "Component creator (e-mail or URL)": 26,
            "Filename of the component": 26,
            "Distribution licences": 26,
            "Original licences": 27,
        },
    },
}
# The components with a concluded license in each document.
CONCLUDED = {
    "313": [
        *("CPython", "cachecontrol", "dependency-groups", "distlib", "distro", "expat", "hacl-star"),
        *(
            "idna",
            "libb2",
            "mpdecimal",
            "msgpack",
            "packaging",
            "pip",
            "platformdirs",
            "pygments",
            "pyproject-hooks",
        ),
        *("requests", "resolvelib", "rich", "setuptools", "tomli", "tomli-w", "truststore"),
        *("typing-extensions", "urllib3"),
    ],
    "311": [
        *("CPython", "cachecontrol", "distlib", "distro", "idna", "msgpack", "packaging", "pep517"),
        *("pip", "platformdirs", "pygments", "pyparsing", "requests", "resolvelib", "rich"),
        *("setuptools", "setuptools", "six", "tenacity", "tomli", "typing-extensions", "urllib3"),
    ],
    "release-tools": ["CPython"],
}
EXPECTED["313.spdx3.json"] = {
    "ntia": {},
    "cisa-2024": _cisa(2, 4, typed=True),
    "bsi-2.1": {
        "Creator of the SBOM (e-mail or URL)": 0,
        # A distribution file only where sbomgen read its bytes and made their SHA-512: the C
        # libraries' is the artifact, which holds their files.
        "Distribution licences": 2,
        "Original licences": 10,
    },
}
EXPECTED["311.spdx3.json"] = {
    "ntia": {},
    "cisa-2024": _cisa(4, 2, typed=True),
    "bsi-2.1": {
        "Creator of the SBOM (e-mail or URL)": 0,
        "Distribution licences": 4,
        "Original licences": 11,
    },
}
# The XML reader carries what the profiles read: the same verdicts as the JSON.
EXPECTED["313.cdx.xml"] = EXPECTED["313.cdx.json"]
EXPECTED["311.cdx.xml"] = EXPECTED["311.cdx.json"]
# ntia-conformance-checker's name for each profile.
CHECKER = {"ntia": "ntia", "cisa-2024": "fsct3-min", "bsi-2.1": "bsi"}


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> dict[str, Path]:
    """sbomgen's SPDX 2.3 and CycloneDX outputs of both real tarballs, and CPython's own."""
    found = {"release-tools": REFERENCE_313}
    for label, tarball in (("313", CPYTHON_313), ("311", CPYTHON_311)):
        out = tmp_path_factory.mktemp(label)
        run = sbomgen(
            "tarball",
            "-q",
            tarball,
            "-o",
            f"{out}/",
            "-f",
            "spdx-json,spdx3-json,cyclonedx-json,cyclonedx-xml",
        )
        assert run.returncode == 0, run.stderr
        for suffix in ("spdx.json", "spdx3.json", "cdx.json", "cdx.xml"):
            found[f"{label}.{suffix}"] = out / f"{tarball.name}.{suffix}"
    return found


def failing(path: Path, profile: str) -> dict[str, int]:
    verdicts = profiles.evaluate(profiles.view_of(path), profile)
    return {v.element.name: len(v.missing) for v in verdicts if not v.passed}


@pytest.mark.parametrize("document", sorted(EXPECTED))
def test_exact_verdicts(documents: dict[str, Path], document: str) -> None:
    for profile, expected in EXPECTED[document].items():
        assert failing(documents[document], profile) == expected, profile
    licensed = profiles.view_of(documents[document])
    concluded = sorted(c.name for c in licensed.components if c.concluded)
    assert concluded == CONCLUDED[document.split(".")[0]]


@pytest.mark.parametrize(
    "document", ["313.spdx.json", "311.spdx.json", "release-tools", "313.spdx3.json", "311.spdx3.json"]
)
def test_agrees_with_ntia_conformance_checker(documents: dict[str, Path], document: str) -> None:
    from ntia_conformance_checker.sbom_checker import SbomChecker

    spec = "spdx3" if "spdx3" in document else "spdx2"
    for profile, theirs in CHECKER.items():
        checker = SbomChecker(str(documents[document]), validate=False, compliance=theirs, sbom_spec=spec)
        assert checker.compliant == (not EXPECTED[document][profile]), profile


def test_command_line(documents: dict[str, Path], tmp_path: Path) -> None:
    spdx, cdx = documents["313.spdx.json"], documents["313.cdx.json"]
    run = sbomgen("validate", "--profile", "ntia", spdx, cdx)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.decode().splitlines()
    assert lines[0] == f"{spdx}: ntia (SPDX 2.3): 7 of 7 elements pass"
    assert lines[8] == f"{cdx}: ntia (CycloneDX 1.7): 7 of 7 elements pass"
    assert [line.split()[-1] for line in lines[1:8]] == ["pass"] * 7

    run = sbomgen("validate", "--profile", "cisa-2024", cdx)
    assert run.returncode == 1
    lines = run.stdout.decode().splitlines()
    assert lines[0] == f"{cdx}: cisa-2024 (CycloneDX 1.7): 10 of 12 elements pass"
    license_line = next(line for line in lines if line.lstrip().startswith("License (concluded)"))
    assert license_line.split("FAIL  ")[1] == ("2 of 27 missing: macholib, certifi")

    run = sbomgen("validate", "--profile", "bsi-2.1", "--json", spdx)
    assert run.returncode == 1
    (result,) = json.loads(run.stdout)
    assert (result["kind"], result["profile"], result["conformant"]) == ("SPDX 2.3", "bsi-2.1", False)
    assert result["elements"][0] == {"element": FORMAT, "source": "TR-03183-2 §4", "result": "fail"}
    names = {e["element"]: e for e in result["elements"]}
    assert names["Component name"] == {
        "element": "Component name",
        "source": "TR-03183-2 §5.2.2",
        "result": "pass",
        "components": 27,
        "missing": [],
    }
    creator = "Creator of the SBOM (e-mail or URL)"
    assert names[creator]["result"] == "fail"
    assert "--creator 'Organization: NAME (https://URL)'" in names[creator]["remedy"]
    run = sbomgen("validate", "--profile", "bsi-2.1", spdx)
    line = next(line for line in run.stdout.decode().splitlines() if line.lstrip().startswith(creator))
    assert line.endswith("FAIL  (sbomgen gives it with --creator 'Organization: NAME (https://URL)' "
                         "or 'Person: NAME <E-MAIL>' (or SBOMGEN_CREATOR))")  # fmt: skip

    other = tmp_path / "statement.json"
    other.write_text('{"_type": "https://in-toto.io/Statement/v1"}')
    run = sbomgen("validate", "--profile", "ntia", other)
    assert run.returncode == 4
    assert run.stderr.strip().splitlines() == [
        f"sbomgen: error: {other}: not an SBOM sbomgen reads (SPDX JSON, CycloneDX JSON or CycloneDX XML):"
        ' JSON without "spdxVersion" or "bomFormat": "CycloneDX"'
    ]
    assert sbomgen("validate", "--json", spdx).returncode == 2
    assert sbomgen("validate", "--ntia", "--profile", "ntia", spdx).returncode == 2


# A CycloneDX 1.6 BOM that meets every element of all three profiles: a root and
# COMPONENTS components it depends on, each with everything every profile asks.
COMPONENTS = 3


def _component(name: str) -> dict[str, Any]:
    return {
        "type": "library",
        "bom-ref": f"ref-{name}",
        "name": name,
        "version": "1.0",
        "supplier": {"name": "Supplier"},
        "manufacturer": {"url": ["https://example.org"]},
        "purl": f"pkg:generic/{name}@1.0",
        "cpe": f"cpe:2.3:a:example:{name}:1.0:*:*:*:*:*:*:*",
        "hashes": [{"alg": "SHA-512", "content": "ab" * 64}],
        "licenses": [
            {"expression": "MIT", "acknowledgement": "concluded"},
            {"expression": "MIT", "acknowledgement": "declared"},
        ],
        "copyright": "Copyright (c) Example",
        "externalReferences": [
            {"type": "distribution", "url": f"https://example.org/{name}-1.0.tar.gz"},
            {"type": "source-distribution", "url": f"https://example.org/{name}-1.0-src.tar.gz"},
        ],
        "properties": [
            {"name": "bsi:component:filename", "value": f"{name}-1.0.tar.gz"},
            {"name": "bsi:component:executable", "value": "non-executable"},
            {"name": "bsi:component:archive", "value": "archive"},
            {"name": "bsi:component:structured", "value": "structured"},
        ],
    }


def _bom() -> dict[str, Any]:
    names = [f"c{n}" for n in range(COMPONENTS)]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2025-06-15T15:06:40Z",
            "lifecycles": [{"phase": "build"}],
            "tools": {"components": [{"type": "application", "name": "sbomgen"}]},
            "manufacturer": {"name": "Maker", "url": ["https://example.org"]},
            "component": {**_component("root"), "type": "application"},
        },
        "components": [_component(name) for name in names],
        "dependencies": [{"ref": "ref-root", "dependsOn": [f"ref-{n}" for n in names]}]
        + [{"ref": f"ref-{n}"} for n in names],
        "compositions": [{"aggregate": "complete", "assemblies": ["ref-root"]}],
    }


def _remove(what: str) -> Any:
    """A change that removes one field of a component (a dict of the BOM's shape)."""
    removals: dict[str, Any] = {
        "supplier": lambda c: c.pop("supplier"),
        "version": lambda c: c.pop("version"),
        "identifiers": lambda c: (c.pop("purl"), c.pop("cpe")),
        "hashes": lambda c: c.pop("hashes"),
        "concluded": lambda c: c["licenses"].pop(0),
        "declared": lambda c: c["licenses"].pop(1),
        "copyright": lambda c: c.pop("copyright"),
        "creator": lambda c: c.pop("manufacturer"),
        "deployable": lambda c: c["externalReferences"].pop(0),
        "source": lambda c: c["externalReferences"].pop(1),
    }
    for prop in ("filename", "executable", "archive", "structured"):
        removals[prop] = lambda c, prop=prop: c.__setitem__(
            "properties", [p for p in c["properties"] if p["name"] != f"bsi:component:{prop}"]
        )
    return removals[what]


# The element each removal fails, in each profile (none: the profile does not ask for it).
FAILS = {
    "supplier": {"ntia": "Supplier name", "cisa-2024": "Supplier name"},
    "version": {"ntia": "Version of the component", "cisa-2024": "Version", "bsi-2.1": "Component version"},
    "identifiers": {
        "ntia": "Other unique identifiers",
        "cisa-2024": "Unique identifier",
        "bsi-2.1": "Other unique identifiers",
    },
    "hashes": {"cisa-2024": "Cryptographic hash", "bsi-2.1": "SHA-512 of the deployable component"},
    "concluded": {"cisa-2024": "License (concluded)", "bsi-2.1": "Distribution licences"},
    "declared": {"bsi-2.1": "Original licences"},
    "copyright": {"cisa-2024": "Copyright notice"},
    "creator": {"bsi-2.1": "Component creator (e-mail or URL)"},
    "deployable": {"bsi-2.1": "URI of the deployable form"},
    "source": {"bsi-2.1": "Source code URI"},
    "filename": {"bsi-2.1": "Filename of the component"},
    "executable": {"bsi-2.1": "Executable property"},
    "archive": {"bsi-2.1": "Archive property"},
    "structured": {"bsi-2.1": "Structured property"},
    "dependency": {
        "ntia": "Dependency relationship",
        "cisa-2024": "Relationship",
        "bsi-2.1": "Dependencies on other components",
    },
}


def _view(document: dict[str, Any]) -> View:
    loaded = sbom.load(json.dumps(document).encode(), "test", ContentError)
    return from_spdx2(loaded) if hasattr(loaded, "spdxVersion") else from_cyclonedx(loaded)


def test_the_full_bom_passes_every_profile() -> None:
    for profile in profiles.NAMES:
        assert [v.element.name for v in profiles.evaluate(_view(_bom()), profile) if not v.passed] == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(sorted(FAILS)),
    which=st.integers(min_value=-1, max_value=COMPONENTS - 1),
    profile=st.sampled_from(profiles.NAMES),
)
def test_one_removed_field_fails_exactly_its_element(field: str, which: int, profile: str) -> None:
    """``which`` -1 is the root (metadata.component), which no relationship has to reach."""
    bom = _bom()
    if field == "dependency":
        which = max(which, 0)
        bom["dependencies"][0]["dependsOn"].pop(which)
    else:
        target = bom["metadata"]["component"] if which < 0 else bom["components"][which]
        _remove(field)(target)
    name = "root" if which < 0 else f"c{which}"
    verdicts = profiles.evaluate(_view(bom), profile)
    failed = {v.element.name: v.missing for v in verdicts if not v.passed}
    expected = FAILS[field].get(profile)
    assert failed == ({expected: [name]} if expected else {})


@settings(max_examples=30, deadline=None)
@given(
    field=st.sampled_from(["supplier", "versionInfo", "externalRefs", "dependency"]), which=st.integers(0, 2)
)
def test_one_removed_field_fails_exactly_its_ntia_element_in_spdx(field: str, which: int) -> None:
    packages = [
        {
            "SPDXID": f"SPDXRef-{n}",
            "name": f"p{n}",
            "versionInfo": "1.0",
            "supplier": "Organization: Example",
            "downloadLocation": "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE_MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:pypi/p{n}@1",
                }
            ],
        }
        for n in range(4)
    ]
    document = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "creationInfo": {"created": "2025-06-15T15:06:40Z", "creators": ["Tool: sbomgen"]},
        "packages": packages,
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": "SPDXRef-0",
            }
        ]
        + [
            {
                "spdxElementId": "SPDXRef-0",
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": f"SPDXRef-{n}",
            }
            for n in range(1, 4)
        ],
    }
    assert not [v for v in profiles.evaluate(_view(document), "ntia") if not v.passed]
    changed = copy.deepcopy(document)
    target = which + 1  # a package the root depends on
    if field == "dependency":
        changed["relationships"].pop(target)
    else:
        changed["packages"][target].pop(field)
    element = {
        "supplier": "Supplier name",
        "versionInfo": "Version of the component",
        "externalRefs": "Other unique identifiers",
        "dependency": "Dependency relationship",
    }[field]
    failed = {v.element.name: v.missing for v in profiles.evaluate(_view(changed), "ntia") if not v.passed}
    assert failed == {element: [f"p{target}"]}


def test_xml_carries_what_the_profiles_read() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
     version="2">
  <metadata>
    <timestamp>2025-06-15T15:06:40Z</timestamp>
    <lifecycles><lifecycle><phase>build</phase></lifecycle></lifecycles>
    <tools><components><component type="application"><name>sbomgen</name></component></components></tools>
    <authors><author><name>A</name><email>a@example.org</email></author></authors>
    <manufacturer><name>M</name><url>https://example.org</url></manufacturer>
    <component type="application" bom-ref="root"><name>root</name><copyright>(c) R</copyright>
      <manufacturer><contact><email>m@example.org</email></contact></manufacturer>
      <authors><author><email>b@example.org</email></author></authors>
    </component>
  </metadata>
  <compositions><composition><aggregate>complete</aggregate>
    <assemblies><assembly ref="root"/></assemblies></composition></compositions>
</bom>"""
    view = from_cyclonedx(sbom.load(xml, "test", ContentError))
    assert (view.authors, view.author_contacts) == (
        ("A", "M", "sbomgen"),
        ("a@example.org", "https://example.org"),
    )
    assert (view.sbom_types, view.completeness, view.uri) == (
        ("build",),
        True,
        "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/2",
    )
    (root,) = view.components
    assert (root.copyright, root.creator_contacts) == ("(c) R", ("m@example.org", "b@example.org"))


_SMALL: dict[Path, str] = {}


def _spdx3_packages(path: Path) -> dict[str, Any]:
    """The SPDX 3 document without the files the packages contain (their distribution and
    source files stay): what the profiles read, small enough to read again for every example."""
    if path not in _SMALL:
        document = json.loads(path.read_bytes())
        graph = document["@graph"]
        distributed = {
            t for e in graph if e.get("relationshipType") == "hasDistributionArtifact" for t in e["to"]
        } | {e["from"] for e in graph if e.get("relationshipType") == "generates"}
        dropped = {e["spdxId"] for e in graph if e.get("type") == "software_File"} - distributed
        kept = []
        for element in graph:
            if element.get("spdxId") in dropped:
                continue
            if element.get("type") == "Relationship":
                element["to"] = [t for t in element["to"] if t not in dropped]
                if not element["to"]:
                    continue
            kept.append(element)
        document["@graph"] = kept
        _SMALL[path] = json.dumps(document)
    result: dict[str, Any] = json.loads(_SMALL[path])
    return result


# What removing a field from an SPDX 3 package (JSON-LD) takes away, and the element it fails.
SPDX3_REMOVALS = {
    "version": ("software_packageVersion",),
    "supplier": ("suppliedBy",),
    "identifiers": ("software_packageUrl", "externalIdentifier"),
    "hashes": ("verifiedUsing",),
}
SPDX3_FAILS = {
    "version": FAILS["version"],
    "supplier": FAILS["supplier"],
    "identifiers": FAILS["identifiers"],
    "hashes": {"cisa-2024": "Cryptographic hash"},
    "dependency": FAILS["dependency"],
}


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(sorted(SPDX3_FAILS)),
    pick=st.integers(min_value=0),
    profile=st.sampled_from(profiles.NAMES),
)
def test_one_removed_field_of_an_spdx3_package_fails_exactly_its_element(
    documents: dict[str, Path], tmp_path: Path, field: str, pick: int, profile: str
) -> None:
    """On sbomgen's own SPDX 3 of 3.13.5: the verdicts change in that element alone, and it
    names that package besides those it named before."""
    from collections import Counter

    original = _spdx3_packages(documents["313.spdx3.json"])
    graph = original["@graph"]
    relationships = [
        e
        for e in graph
        if e.get("type") == "Relationship" and e["relationshipType"] in ("dependsOn", "contains")
    ]
    packages = [e for e in graph if e.get("type") == "software_Package"]
    origins = {r["from"] for r in relationships}
    # A leaf other than the root: removing it from its relationships strands no other package.
    candidates = [
        p
        for p in packages
        if field != "dependency"
        or (p["spdxId"] not in origins and any(p["spdxId"] in r["to"] for r in relationships))
    ]
    package = candidates[pick % len(candidates)]
    if field == "dependency":
        for relationship in relationships:
            relationship["to"] = [t for t in relationship["to"] if t != package["spdxId"]]
        graph[:] = [e for e in graph if e.get("type") != "Relationship" or e["to"]]
    else:
        for key in SPDX3_REMOVALS[field]:
            package.pop(key, None)
    changed = tmp_path / "changed.spdx3.json"
    changed.write_text(json.dumps(original))
    before = {
        v.element.name: v for v in profiles.evaluate(profiles.view_of(documents["313.spdx3.json"]), profile)
    }
    after = {v.element.name: v for v in profiles.evaluate(profiles.view_of(changed), profile)}
    element = SPDX3_FAILS[field].get(profile)
    for name, verdict in after.items():
        if name != element:
            assert (verdict.passed, verdict.missing) == (before[name].passed, before[name].missing), name
    if element is not None:
        assert not after[element].passed
        assert Counter(after[element].missing) - Counter(before[element].missing) == Counter(
            [package["name"]]
        )
