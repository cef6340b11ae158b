"""Property test: a cache export whose checksums are right but whose release data is
hostile is imported only when an index could have sent it (exit 8 otherwise), through the
in-process path ``cache import`` takes."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from typing import Any

import jsonschema
import pytest
from hostile_json import mutations, printable, tricky_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbomgen.enrich.cache import parse_export
from sbomgen.errors import CacheError
from sbomgen.model.licenses import spdx_expression

MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
SEED: dict[str, Any] = {
    "files": [
        {"filename": "requests-2.0.0-py3-none-any.whl", "url": "https://files.example/r.whl",
         "sha256": "b" * 64, "packagetype": "bdist_wheel"},
    ],
    "license": "Apache-2.0",
}  # fmt: skip
urls = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["https://", "http://", "ftp://", "javascript:", "", "//", "https:"]),
        st.sampled_from(["files.example", "", "a@b", "[::1]", "x:99999"]),
        tricky_text | printable,
    ),
)
release_data = st.one_of(
    mutations(SEED),
    mutations(SEED["files"][0]).map(lambda file: {**SEED, "files": [file]}),
    st.builds(lambda url: {**SEED, "files": [{**SEED["files"][0], "url": url}]}, urls),
    st.builds(lambda text: {**SEED, "license": text}, tricky_text | printable),
)


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def export(data: Any) -> bytes:
    """An export of one entry whose checksums are right: the check reaches the data."""
    entry = {"index_url": "https://pypi.org/pypi", "name": "requests", "version": "2.0.0", "subject": "",
             "fetched_at": "2024-01-01T00:00:00Z", "data": data}  # fmt: skip
    entry["sha256"] = sha256(canonical(data))
    body = {"format": "sbomgen-index-cache", "version": 1, "entries": [entry]}
    return canonical({**body, "sha256": sha256(canonical([entry]))}).encode("utf-8", "surrogatepass")


def check(data: Any) -> None:
    try:
        entries = parse_export(export(data), "export.json")
    except CacheError as exc:
        assert exc.exit_code == 8
        return
    checker = jsonschema.FormatChecker()
    for entry in entries:
        for file in entry.data.files:
            parts = urllib.parse.urlsplit(file.url)
            assert parts.scheme in ("http", "https") and parts.netloc, file.url
            assert checker.conforms(file.url, "iri-reference"), file.url
        license_ = entry.data.license
        assert license_ is None or spdx_expression(license_) == license_, license_


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(release_data)
def test_cache_export_release_data(data: Any) -> None:
    check(data)


@pytest.mark.slow
@MANY
@given(release_data)
def test_cache_export_release_data_many(data: Any) -> None:
    check(data)


# Misc/sbom.spdx.json packages: what the gate accepts, the writers take and SPDX reads back.

actors = st.builds(
    "".join,
    st.tuples(st.sampled_from(["Person: ", "Organization: ", "Tool: ", ""]), tricky_text | printable,
              st.sampled_from(["", " (a@b.org)", " (x)", " ()", "(", ")"])),
)  # fmt: skip
locations = st.builds(
    "".join, st.tuples(st.sampled_from(["https://example.com/", "git+https://x.org/", ""]), printable)
)
versions = st.one_of(tricky_text, printable, st.integers(1000, 1100).map(lambda n: "1" * n))


def check_package(package: dict[str, Any]) -> None:
    from spdx_tools.spdx.parser.actor_parser import ActorParser
    from spdx_tools.spdx.validation.uri_validators import validate_download_location

    from sbomgen.documents.spdx2 import actor_parts
    from sbomgen.errors import ContentError
    from sbomgen.scan.cpython_sbom import load_document

    document = {"SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "SPDX-2.3", "packages": [package]}
    try:
        loaded = load_document("Misc/sbom.spdx.json", json.dumps(document).encode("utf-8", "surrogatepass"))
    except ContentError as exc:
        assert exc.exit_code == 4
        return
    checker = jsonschema.FormatChecker()
    accepted = loaded.packages[0]
    for actor in (accepted.supplier, accepted.originator):
        parts = actor_parts(actor) if actor else None
        if parts is not None:
            assert ActorParser.parse_actor(actor).name == parts[1], actor
            assert parts[2] is None or checker.conforms(parts[2], "idn-email"), actor
    location = accepted.downloadLocation
    if location and location not in ("NONE", "NOASSERTION"):
        assert checker.conforms(location, "iri-reference") and not validate_download_location(location), (
            location
        )
    assert len(accepted.versionInfo or "") <= 1024


packages = st.fixed_dictionaries(
    {"SPDXID": st.just("SPDXRef-PACKAGE-x"), "name": st.just("x")},
    optional={
        "supplier": actors,
        "originator": actors,
        "downloadLocation": locations,
        "versionInfo": versions,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(packages)
def test_misc_sbom_package_values(package: dict[str, Any]) -> None:
    check_package(package)


@pytest.mark.slow
@MANY
@given(packages)
def test_misc_sbom_package_values_many(package: dict[str, Any]) -> None:
    check_package(package)
