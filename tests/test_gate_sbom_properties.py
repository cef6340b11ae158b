"""Property tests: SBOM readers behind tarball, diff, report, regenerate and check raise
nothing but sbomgen's own error with exit 4, whatever JSON they are given.

Inputs are structure-aware: arbitrary JSON values (deep nesting, huge integers, NaN, wrong
types) alone and in SPDX/CycloneDX skeletons, and type mutations of real documents
(release-tools' SBOM of CPython 3.13.5; the CycloneDX sbomgen makes of a small tree). Each
reader is called in-process, as the command calls it. 10,000 examples each (``slow``).
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REFERENCE_313, cpython_tree, sbom_data, write_tar
from hostile_json import dumps, json_values, mutations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbomgen.errors import ContentError, SbomgenError
from sbomgen.scan.cpython_sbom import SBOM_PATH, listed_components, listed_files, load_document
from sbomgen.scan.distribution import _sbom_packages
from sbomgen.scan.wheels import _bom_licenses
from sbomgen.workflows import diff
from sbomgen.workflows.check import recorded_in
from sbomgen.workflows.regenerate import load_upstream

pytestmark = pytest.mark.slow
MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))


SPDX_KEYS = [
    "packages", "files", "relationships", "annotations", "name", "documentNamespace", "creationInfo",
    "SPDXID", "documentDescribes", "checksums", "externalRefs", "versionInfo",
]  # fmt: skip
CDX_KEYS = [
    "components",
    "metadata",
    "dependencies",
    "name",
    "version",
    "hashes",
    "licenses",
    "purl",
    "bom-ref",
]
skeletons = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(SPDX_KEYS), json_values, max_size=4).map(
        lambda d: {"spdxVersion": "SPDX-2.3", **d}
    ),
    st.dictionaries(st.sampled_from(CDX_KEYS), json_values, max_size=4).map(
        lambda d: {"bomFormat": "CycloneDX", "specVersion": "1.6", **d}
    ),
)


KEPT_PACKAGES = {"CPython", "pip", "urllib3", "setuptools", "expat", "mpdecimal", "hacl-star"}


@functools.cache
def release_tools_sbom() -> dict[str, Any]:
    """release-tools' SBOM of CPython 3.13.5, cut to a size that validates in a millisecond:
    7 of its 27 packages (the root, pip and two it vendors, three C libraries), 6 of its
    4,808 files, the relationships among them; and one package carrying sbomgen's
    release-files annotation, for ``check``."""
    document: dict[str, Any] = json.loads(REFERENCE_313.read_bytes())
    document["packages"] = [p for p in document["packages"] if p["name"] in KEPT_PACKAGES]
    document["files"] = document["files"][:6]
    kept = {f["SPDXID"] for f in document["files"]} | {p["SPDXID"] for p in document["packages"]}
    kept.add("SPDXRef-DOCUMENT")
    document["relationships"] = [
        r for r in document["relationships"] if r["spdxElementId"] in kept and r["relatedSpdxElement"] in kept
    ]
    files = [{"filename": "pip-25.1.1-py3-none-any.whl", "sha256": "0" * 64}]
    pip = next(p for p in document["packages"] if p["name"] == "pip")
    pip["annotations"] = [
        {
            "annotator": "Tool: sbomgen",
            "annotationDate": "2025-06-11T00:00:00Z",
            "annotationType": "OTHER",
            "comment": "sbomgen:index-release-files " + json.dumps(files),
        }
    ]
    return document


@functools.cache
def small_cyclonedx() -> dict[str, Any]:
    """The CycloneDX sbomgen makes of a small CPython-shaped tree (with Misc SBOM data)."""
    from sbomgen.scan import scan
    from sbomgen.write.cyclonedx import render

    tree = cpython_tree()
    tree["Misc/sbom.spdx.json"] = sbom_data({"Python/ceval.c": tree["Python/ceval.c"]})
    with tempfile.TemporaryDirectory() as folder:
        inventory = scan(write_tar(Path(folder) / "Python-3.99.0.tgz", tree))
    bom: dict[str, Any] = json.loads(render(inventory))
    return bom


def only_input_errors(read: Callable[[bytes], object], data: bytes) -> None:
    try:
        read(data)
    except SbomgenError as exc:
        assert exc.exit_code == 4, exc
        assert "\n" not in str(exc) and "\r" not in str(exc), exc


def misc_scanner(data: bytes) -> None:
    document = load_document(SBOM_PATH, data)
    listed = listed_files(document, SBOM_PATH)
    listed_components(document, listed, SBOM_PATH, {name for name, _ in listed.values()})


def regenerate_loader(data: bytes) -> None:
    diff.from_spdx(load_upstream(data, "upstream.spdx.json"), "upstream.spdx.json")


def diff_loader(data: bytes) -> None:
    snapshot = diff.loads(data, "given.json")
    diff.compare(snapshot, snapshot)


SPDX_READERS: list[Callable[[bytes], object]] = [
    misc_scanner,
    diff_loader,
    regenerate_loader,
    lambda data: recorded_in(data, "given.spdx.json"),
]
CYCLONEDX_READERS: list[Callable[[bytes], object]] = [
    diff_loader,
    lambda data: _bom_licenses(data, "pip-99.0-py3-none-any.whl:pip/_vendor/bom.cdx.json"),
    lambda data: _sbom_packages("demo-1.0.dist-info/sboms/x.cdx.json", data),
]


def test_the_seeds_are_read_whole() -> None:
    """Unchanged, both real documents pass every reader (the mutations start from valid)."""
    spdx = dumps(release_tools_sbom())
    for read in SPDX_READERS:
        if read is misc_scanner:  # CPython's own data lists what CPython bundles, not CPython
            with pytest.raises(ContentError, match=r"is named 'CPython', as CPython itself"):
                read(spdx)
            bundled = release_tools_sbom()
            bundled["packages"] = [p for p in bundled["packages"] if p["name"] != "CPython"]
            read(dumps(bundled))
            continue
        read(spdx)
    assert recorded_in(spdx, "x") == [("pip", "25.1.1", {"pip-25.1.1-py3-none-any.whl": "0" * 64})]
    assert set(diff.loads(spdx, "x").components) == {"cpython", "pip", "pip/urllib3", "pip/setuptools"} | {
        "expat",
        "mpdecimal",
        "hacl-star",
    }
    cdx = dumps(small_cyclonedx())
    for read in CYCLONEDX_READERS:
        read(cdx)


@MANY
@given(skeletons)
def test_arbitrary_json_to_every_sbom_reader(document: Any) -> None:
    data = dumps(document)
    for read in {*SPDX_READERS, *CYCLONEDX_READERS}:
        only_input_errors(read, data)


@MANY
@given(st.deferred(lambda: mutations(release_tools_sbom())))
def test_mutated_release_tools_sbom(document: Any) -> None:
    data = dumps(document)
    for read in SPDX_READERS:
        only_input_errors(read, data)


@MANY
@given(st.deferred(lambda: mutations(small_cyclonedx())))
def test_mutated_cyclonedx(document: Any) -> None:
    data = dumps(document)
    for read in CYCLONEDX_READERS:
        only_input_errors(read, data)


@functools.cache
def real_misc_sbom() -> dict[str, Any]:
    """CPython 3.13.5's own Misc/sbom.spdx.json, its 111 files cut to 10."""
    import tarfile

    from conftest import CPYTHON_313

    with tarfile.open(CPYTHON_313) as archive:
        member = archive.extractfile("Python-3.13.5/Misc/sbom.spdx.json")
        assert member is not None
        document: dict[str, Any] = json.load(member)
    document["files"] = document["files"][:10]
    kept = {f["SPDXID"] for f in document["files"]}
    document["relationships"] = [r for r in document["relationships"] if r["relatedSpdxElement"] in kept]
    return document


def write_all(data: bytes) -> None:
    """What tarball does with Misc/sbom.spdx.json: its packages as components, then every
    output format, each validated as the command validates it."""
    import datetime

    from sbomgen.model import Artifact, Component, Dependency, Inventory
    from sbomgen.write import cyclonedx
    from sbomgen.write.spdx import SpdxWriter

    document = load_document(SBOM_PATH, data)
    components = listed_components(document, listed_files(document, SBOM_PATH), SBOM_PATH, ())
    root = Component("cpython", "CPython", "3.99.0")
    inventory = Inventory(
        artifact=Artifact("Python-3.99.0.tgz", 1, ()),
        root="cpython",
        components=(root, *components),
        files=(),
        dependencies=tuple(Dependency("cpython", c.key) for c in components),
        created=datetime.datetime(2025, 1, 1),
    )
    SpdxWriter().render(inventory)
    tag_value = SpdxWriter().render_tag_value(inventory).decode()
    assert tag_value.count("\nPackageName: ") == len(components) + 1  # no line was injected
    cyclonedx.render(inventory)


@settings(max_examples=1_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.deferred(lambda: mutations(real_misc_sbom(), most=2, within="packages")))
def test_no_exit_5_from_misc_sbom_through_every_writer(document: Any) -> None:
    """By construction: whatever Misc/sbom.spdx.json the gate accepts, the SPDX (JSON and
    tag-value) and CycloneDX writers' validators accept what is made of it. 1,000 examples:
    each renders and validates three documents."""
    only_input_errors(write_all, dumps(document))
