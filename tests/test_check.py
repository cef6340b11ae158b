"""``check`` on any SBOM: files uploaded to its PyPI releases after it was made, files yanked
since, against the loopback index serving the recorded PEP 691 pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CPYTHON_313, REFERENCE_313, sbomgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_server import IndexServer

from sbomgen.enrich import EnrichOptions
from sbomgen.enrich.index import IndexSettings
from sbomgen.errors import SbomgenError
from sbomgen.workflows.check import CheckResult, check

# Every file of the release tooling SBOM's PyPI releases (3.13.5) the recorded pages say was
# uploaded after 2025-01-01T00:00:00Z: (project, version) -> [(file, upload-time)].
AFTER_2025 = {
    ("cachecontrol", "0.14.2"): [
        ("cachecontrol-0.14.2-py3-none-any.whl", "2025-01-07T15:48:21.034747Z"),
        ("cachecontrol-0.14.2.tar.gz", "2025-01-07T15:48:23.709702Z"),
    ],
    ("certifi", "2025.1.31"): [
        ("certifi-2025.1.31-py3-none-any.whl", "2025-01-31T02:16:45.015614Z"),
        ("certifi-2025.1.31.tar.gz", "2025-01-31T02:16:47.166379Z"),
    ],
    ("dependency-groups", "1.3.1"): [
        ("dependency_groups-1.3.1-py3-none-any.whl", "2025-05-02T00:34:27.085036Z"),
        ("dependency_groups-1.3.1.tar.gz", "2025-05-02T00:34:29.452155Z"),
    ],
    ("packaging", "25.0"): [
        ("packaging-25.0-py3-none-any.whl", "2025-04-19T11:48:57.875608Z"),
        ("packaging-25.0.tar.gz", "2025-04-19T11:48:59.673349Z"),
    ],
    ("pip", "25.1.1"): [
        ("pip-25.1.1-py3-none-any.whl", "2025-05-02T15:13:59.102661Z"),
        ("pip-25.1.1.tar.gz", "2025-05-02T15:14:02.057834Z"),
    ],
    ("platformdirs", "4.3.7"): [
        ("platformdirs-4.3.7-py3-none-any.whl", "2025-03-19T20:36:09.038372Z"),
        ("platformdirs-4.3.7.tar.gz", "2025-03-19T20:36:10.989342Z"),
    ],
    ("pygments", "2.19.1"): [
        ("pygments-2.19.1-py3-none-any.whl", "2025-01-06T17:26:25.553040Z"),
        ("pygments-2.19.1.tar.gz", "2025-01-06T17:26:30.443049Z"),
    ],
    ("rich", "14.0.0"): [
        ("rich-14.0.0-py3-none-any.whl", "2025-03-30T14:15:12.283034Z"),
        ("rich-14.0.0.tar.gz", "2025-03-30T14:15:14.230268Z"),
    ],
    ("tomli-w", "1.2.0"): [
        ("tomli_w-1.2.0-py3-none-any.whl", "2025-01-15T12:07:22.074224Z"),
        ("tomli_w-1.2.0.tar.gz", "2025-01-15T12:07:24.262974Z"),
    ],
    ("truststore", "0.10.1"): [
        ("truststore-0.10.1-py3-none-any.whl", "2025-02-07T18:57:36.348502Z"),
        ("truststore-0.10.1.tar.gz", "2025-02-07T18:57:38.201733Z"),
    ],
    ("typing-extensions", "4.13.2"): [
        ("typing_extensions-4.13.2-py3-none-any.whl", "2025-04-10T14:19:03.967482Z"),
        ("typing_extensions-4.13.2.tar.gz", "2025-04-10T14:19:05.416400Z"),
    ],
}


def _reference() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(REFERENCE_313.read_bytes())
    return document


def _uploaded_after(stdout: bytes) -> dict[tuple[str, str], list[tuple[str, str]]]:
    report = json.loads(stdout)
    return {
        (r["name"], r["version"]): [(f["filename"], f["upload_time"]) for f in r["uploaded_after"]]
        for r in report["changed"]
    }


def test_release_tools_sbom(tmp_path: Path) -> None:
    """The release tooling's SBOM of 3.13.5 was made at 2026-11-21T04:39:45Z, after every file
    of its 22 PyPI releases was uploaded (the newest: pip's sdist, 2025-05-02): nothing to report."""
    run = sbomgen("check", REFERENCE_313, "--json", "--cache-dir", tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "created": "2026-11-21T04:39:45Z",
        "releases": 22,
        "skipped": [],
        "changed": [],
    }
    text = sbomgen("check", REFERENCE_313, "--cache-dir", tmp_path)
    assert (text.returncode, text.stdout) == (0, b"22 releases: unchanged since the SBOM was made\n")


def test_release_tools_sbom_made_earlier(tmp_path: Path) -> None:
    """The same SBOM with an earlier creation time: exactly the files uploaded after it."""
    document = _reference()
    document["creationInfo"]["created"] = "2025-01-01T00:00:00Z"
    sbom = tmp_path / "sbom.spdx.json"
    sbom.write_text(json.dumps(document))
    run = sbomgen("check", sbom, "--json", "--cache-dir", tmp_path / "cache")
    assert run.returncode == 1, run.stderr
    assert _uploaded_after(run.stdout) == AFTER_2025
    text = sbomgen("check", sbom, "--cache-dir", tmp_path / "cache")
    assert text.returncode == 1
    assert (
        b"pip 25.1.1:\n  uploaded after the SBOM was made (2025-01-01T00:00:00Z): "
        b"pip-25.1.1-py3-none-any.whl (2025-05-02T15:13:59.102661Z)\n" in text.stdout
    )


@pytest.mark.parametrize("mirror", [False, True], ids=["pep691", "pep503"])
def test_yanked(mirror: bool, tmp_path: Path) -> None:
    """An index that yanked two files since (one with a reason): both reported, exit 1."""
    yanked = {"pip-25.1.1-py3-none-any.whl": "broken metadata", "idna-3.10.tar.gz": ""}
    with IndexServer(yanked=yanked, mirror=mirror) as server:
        run = sbomgen("check", REFERENCE_313, "--json", "--index-url", server.url, "--cache-dir", tmp_path)
    assert run.returncode == 1, run.stderr
    changed = json.loads(run.stdout)["changed"]
    found = {(r["name"], r["version"]): r["yanked"] for r in changed if r["yanked"]}
    assert found == {
        ("idna", "3.10"): [{"filename": "idna-3.10.tar.gz", "reason": None}],
        ("pip", "25.1.1"): [{"filename": "pip-25.1.1-py3-none-any.whl", "reason": "broken metadata"}],
    }
    # A static PEP 503 mirror gives no upload times: every file is undecidable, and said so.
    for release in changed:
        assert bool(release["upload_time_unknown"]) == mirror
    assert len(changed) == (22 if mirror else 2)


def _cyclonedx(document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The PyPI packages and creation time of an SPDX document as a CycloneDX BOM, JSON and XML."""
    purls = [
        (p["name"], p["versionInfo"], r["referenceLocator"])
        for p in document["packages"]
        for r in p.get("externalRefs", [])
        if r["referenceType"] == "purl"
    ]
    created = document["creationInfo"]["created"]
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"timestamp": created},
        "components": [
            {"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl}
            for name, version, purl in purls
        ],
    }
    components = "".join(
        f'<component type="library" bom-ref="{purl}"><name>{name}</name><version>{version}</version>'
        f"<purl>{purl}</purl></component>"
        for name, version, purl in purls
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">'
        f"<metadata><timestamp>{created}</timestamp></metadata><components>{components}</components></bom>"
    )
    return bom, xml


def test_cyclonedx_gives_the_same_findings(tmp_path: Path) -> None:
    document = _reference()
    document["creationInfo"]["created"] = "2025-01-01T00:00:00Z"
    bom, xml = _cyclonedx(document)
    spdx = tmp_path / "sbom.spdx.json"
    spdx.write_text(json.dumps(document))
    (tmp_path / "bom.cdx.json").write_text(json.dumps(bom))
    (tmp_path / "bom.cdx.xml").write_text(xml)
    answers = [
        sbomgen("check", path, "--json", "--cache-dir", tmp_path / "cache")
        for path in (spdx, tmp_path / "bom.cdx.json", tmp_path / "bom.cdx.xml")
    ]
    assert [a.returncode for a in answers] == [1, 1, 1], [a.stderr for a in answers]
    assert answers[0].stdout == answers[1].stdout == answers[2].stdout
    assert _uploaded_after(answers[0].stdout) == AFTER_2025


def test_other_purl_types_are_said() -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"timestamp": "2026-01-01T00:00:00+01:00"},
        "components": [
            {"type": "library", "name": "expat", "purl": "pkg:github/libexpat/libexpat@R_2_7_1"},
            {"type": "library", "name": "idna", "purl": "pkg:pypi/idna@3.10"},
            {"type": "library", "name": "idna", "bom-ref": "x", "purl": "pkg:pypi/idna"},
        ],
    }
    result = _check(json.dumps(bom).encode())
    assert isinstance(result, CheckResult)
    assert [(r.name, r.version, r.empty) for r in result.releases] == [("idna", "3.10", True)]
    assert result.skipped == [
        "expat (pkg:github/libexpat/libexpat@R_2_7_1): not a PyPI package",
        "idna (pkg:pypi/idna): no version",
    ]


_TMP = Path(__import__("tempfile").mkdtemp(prefix="sbomgen-check-"))


def _check(data: bytes) -> CheckResult:
    import os

    path = _TMP / "given.cdx.json"
    path.write_bytes(data)
    settings_ = IndexSettings(url=os.environ["PIP_INDEX_URL"], attempts=1)
    return check(path, EnrichOptions(index=settings_, cache_dir=_TMP / "cache"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    created=st.one_of(
        st.text(max_size=40),
        st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(
            lambda d: d.isoformat().replace("+00:00", "Z")
        ),
        st.from_regex(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,12})?(Z|[+-]\d\d:\d\d)?", fullmatch=True),
    ),
    purl=st.one_of(
        st.text(max_size=40),
        st.builds("pkg:pypi/{}@{}".format, st.text(max_size=15), st.text(max_size=10)),
        st.sampled_from(["pkg:pypi/idna@3.10", "pkg:pypi/pip@25.1.1", "pkg:pypi/idna@99"]),
    ),
    url=st.one_of(
        st.text(max_size=40),
        st.builds("https://{}/{}".format, st.text(max_size=10), st.text(max_size=20)),
        st.sampled_from(["http://[x/idna-3.10-py3-none-any.whl", "https://h/%ff%00", "a://"]),
    ),
)
def test_hostile_created_purls_and_locations(created: str, purl: str, url: str) -> None:
    """A one-line refusal or a report, never a crash."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"timestamp": created},
        "components": [
            {
                "type": "library",
                "name": "x",
                "purl": purl,
                "externalReferences": [
                    {"type": "distribution", "url": url, "hashes": [{"alg": "SHA-256", "content": "a" * 64}]}
                ],
            }
        ],
    }
    try:
        result = _check(json.dumps(bom).encode())
    except SbomgenError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    for release in result.releases:
        # what the given download location names is not on the index, or not with that SHA256
        taken = release.removed or release.changed
        assert release.missing or release.undated or release.uploaded_after or taken or release.empty


def test_no_creation_time() -> None:
    """A BOM without metadata.timestamp: yanked and recorded files are still checked, and
    the report says what could not be."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [{"type": "library", "name": "idna", "purl": "pkg:pypi/idna@3.10"}],
    }
    result = _check(json.dumps(bom).encode())
    assert result.created is None
    assert [(r.name, r.version, r.empty) for r in result.releases] == [("idna", "3.10", True)]
    assert result.skipped == ["files uploaded after the SBOM was made: it gives no creation time"]


def test_the_file_another_tool_took(tmp_path: Path) -> None:
    """The release tooling records the one file it took per package (download location and
    SHA256): a file the index now gives other bytes for is changed, one it no longer has is
    removed, in SPDX and CycloneDX alike."""
    document = _reference()
    by_name = {p["name"]: p for p in document["packages"]}
    by_name["pip"]["checksums"][0]["checksumValue"] = "0" * 64
    by_name["idna"]["downloadLocation"] = by_name["idna"]["downloadLocation"].replace("3.10", "3.10.post1")
    sbom = tmp_path / "sbom.spdx.json"
    sbom.write_text(json.dumps(document))
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.7",
        "metadata": {"timestamp": document["creationInfo"]["created"]},
        "components": [
            {
                "type": "library",
                "name": p["name"],
                "version": p["versionInfo"],
                "purl": next(
                    r["referenceLocator"] for r in p["externalRefs"] if r["referenceType"] == "purl"
                ),
                "externalReferences": [
                    {
                        "type": "distribution",
                        "url": p["downloadLocation"],
                        "hashes": [{"alg": "SHA-256", "content": p["checksums"][0]["checksumValue"]}],
                    }
                ],
            }
            for p in (by_name["pip"], by_name["idna"])
        ],
    }
    cdx = tmp_path / "bom.cdx.json"
    cdx.write_text(json.dumps(bom))
    for path in (sbom, cdx):
        run = sbomgen("check", path, "--json", "--cache-dir", tmp_path / "cache")
        assert run.returncode == 1, run.stderr
        changed = {
            (r["name"], r["version"]): (r["removed"], r["changed"]) for r in json.loads(run.stdout)["changed"]
        }
        assert changed == {
            ("idna", "3.10"): (["idna-3.10.post1-py3-none-any.whl"], []),
            ("pip", "25.1.1"): ([], ["pip-25.1.1-py3-none-any.whl"]),
        }


def test_yank_reasons_offline(tmp_path: Path) -> None:
    """The cache keeps what the index said of a yanked file, reason included: `check
    --offline` reports what the index did."""
    yanked = {"pip-25.1.1-py3-none-any.whl": "broken metadata", "idna-3.10.tar.gz": ""}
    cache = ["--cache-dir", str(tmp_path / "cache")]
    with IndexServer(yanked=yanked) as server:
        made = sbomgen(
            "tarball", CPYTHON_313, "-o", tmp_path / "x.spdx.json", "--index-url", server.url, *cache
        )
    assert made.returncode == 0, made.stderr
    run = sbomgen("check", REFERENCE_313, "--json", "--offline", *cache)
    assert run.returncode == 1, run.stderr
    found = {(r["name"], r["version"]): r["yanked"] for r in json.loads(run.stdout)["changed"] if r["yanked"]}
    assert found == {
        ("idna", "3.10"): [{"filename": "idna-3.10.tar.gz", "reason": None}],
        ("pip", "25.1.1"): [{"filename": "pip-25.1.1-py3-none-any.whl", "reason": "broken metadata"}],
    }
