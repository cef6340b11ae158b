"""A CycloneDX JSON BOM read a component at a time (``documents.stream``) by ``diff``,
``report`` and ``check``: it accepts only what the gate accepts and reads it as the gate
does, refuses with the gate's own one-line error, and holds no more than the document's
text beside what the reader keeps."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hostile_json import dumps, json_values, mutations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gate_sbom_properties import small_cyclonedx

from sbomgen.documents import cyclonedx, sbom, stream
from sbomgen.documents.parse import parse_json
from sbomgen.errors import ContentError
from sbomgen.workflows import diff, validate
from sbomgen.workflows.check import ListedPackage, _created, _cyclonedx_package, read_packages

SOME = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def bom_of(count: int) -> dict[str, Any]:
    """A BOM of ``count`` components, the subject (after them, as JSON allows) depending on
    each, one nested component and a distribution each, and release files recorded."""
    components = [
        {
            "type": "library",
            "bom-ref": f"c{i}",
            "name": f"component-{i}",
            "version": f"1.{i}",
            "purl": f"pkg:pypi/component-{i}@1.{i}",
            "hashes": [{"alg": "SHA-256", "content": f"{i:064x}"}],
            "licenses": [{"license": {"id": "MIT"}}],
            "externalReferences": [{"type": "distribution", "url": f"https://example.org/c{i}.whl"}],
            "properties": [
                {
                    "name": "sbomgen:index-release-files",
                    "value": json.dumps([{"filename": f"c{i}.whl", "sha256": f"{i:064x}"}]),
                }
            ],
            "components": [
                {"type": "file", "name": f"c{i}/f.py", "hashes": [{"alg": "SHA-1", "content": "0" * 40}]}
            ],
        }
        for i in range(count)
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": components,
        "dependencies": [{"ref": "root", "dependsOn": [f"c{i}" for i in range(count)]}],
        "metadata": {
            "timestamp": "2025-01-01T00:00:00Z",
            "component": {
                "type": "application",
                "bom-ref": "root",
                "name": "root",
                "externalReferences": [{"type": "distribution", "url": "https://example.org/c1.whl"}],
            },
        },
    }


def whole(data: bytes) -> cyclonedx.Bom | None:
    """The gate's reading of the whole document, when it is a CycloneDX BOM."""
    try:
        document = sbom.load(data, "x", ContentError)
    except ContentError:
        return None
    return document if isinstance(document, cyclonedx.Bom) else None


def assert_read_as_whole(data: bytes) -> None:
    taken: list[cyclonedx.Component] = []
    streamed = stream.read_cyclonedx(data, taken.append)
    expected = whole(data)
    if streamed is None:
        # Refused here only what the gate refuses, what diff and check read as SPDX 3 first,
        # and a BOM without components, which is read whole.
        value = json.loads(data) if expected is not None else {}
        assert expected is None or "@context" in value or not isinstance(value.get("components"), list)
        return
    assert expected is not None, "accepted what the gate refuses"
    assert streamed.model_copy(update={"components": taken}) == expected
    assert outcome(lambda: diff.loads(data, "x")) == outcome(lambda: diff.from_cyclonedx(expected, "x"))
    assert outcome(lambda: read_packages(data, "x")) == outcome(lambda: read_whole(expected))


def outcome(read: Callable[[], object]) -> object:
    """What ``read`` gives, or the error it raises (a snapshot may still be refused)."""
    try:
        return read()
    except ContentError as exc:
        return exc.exit_code, str(exc)


def read_whole(bom: cyclonedx.Bom) -> tuple[str | None, list[ListedPackage]]:
    """``check``'s reading of a BOM the gate read whole, as it was before the stream."""
    subject = bom.metadata.component if bom.metadata else None
    timestamp = bom.metadata.timestamp if bom.metadata else None
    packages = [_cyclonedx_package(c, "x", subject) for c in bom.all_components()]
    return _created(timestamp, "x", "metadata.timestamp"), packages


def test_a_bom_is_read_as_whole_with_its_subject_last() -> None:
    data = json.dumps(bom_of(5)).encode()
    assert_read_as_whole(data)
    snapshot = diff.loads(data, "x")
    # c1's distribution is the subject's own: its download is none of its own.
    assert snapshot.components["component-1"]["download location"] is None
    assert snapshot.components["component-2"]["download location"] == "https://example.org/c2.whl"
    assert snapshot.details["root"]["files"] == 0 and snapshot.details["component-3"]["files"] == 1
    created, packages = read_packages(data, "x")
    assert created == "2025-01-01T00:00:00Z"
    assert [p.name for p in packages] == ["root"] + [
        n for i in range(5) for n in (f"component-{i}", f"c{i}/f.py")
    ]
    assert packages[3].location is None and packages[5].location == "https://example.org/c2.whl"
    assert packages[5].sha256 == f"{2:064x}"


@pytest.mark.parametrize(
    "text",
    [
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [], "components": []}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a"},]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a"}]} x',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "name": "b"}]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 5}]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": null}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "version": 1e999}]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "x": NaN}]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "x": '
        + b"1" * 41
        + b"}]}",
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "x": '
        + b"[" * 62
        + b"]" * 62
        + b"}]}",
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"name": "r", '
        b'"bom-ref": "a"}}, "components": [{"name": "a", "bom-ref": "a"}]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "bom-ref": "a", '
        b'"components": [{"name": "b", "bom-ref": "a"}]}]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "9", "components": [{"name": "a"}]}',
        b'\xef\xbb\xbf{"bomFormat": "CycloneDX", "specVersion": "1.6"}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "\xff"}]}',
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a"}',
    ],
)
def test_what_the_gate_refuses_is_refused_in_its_words(text: bytes) -> None:
    """Refused with the gate's error (exit 4, one line), the same whichever reader asks."""
    assert stream.read_cyclonedx(text, lambda component: None) is None
    with pytest.raises(ContentError) as gate:
        sbom.load(text, "given.json", ContentError)
    with pytest.raises(ContentError) as read:
        diff.loads(text, "given.json")
    assert str(read.value) == str(gate.value) and read.value.exit_code == 4


def test_spdx_claiming_cyclonedx_is_left_to_the_spdx_reader() -> None:
    text = b'{"spdxVersion": "SPDX-2.3", "bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}'
    assert stream.read_cyclonedx(text, lambda component: None) is None
    assert_read_as_whole(text)
    assert diff.loads(text, "x") == diff.from_spdx(sbom.load(text, "x", ContentError), "x")  # type: ignore[arg-type]


def test_a_document_just_within_the_depth_is_read() -> None:
    deep = b"[" * 61 + b"]" * 61
    text = (
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "x": ' + deep + b"}]}"
    )
    assert_read_as_whole(text)
    assert stream.read_cyclonedx(text, lambda component: None) is not None


@SOME
@given(st.deferred(lambda: mutations(small_cyclonedx())))
def test_mutated_boms_are_read_as_whole(document: Any) -> None:
    assert_read_as_whole(dumps(document))


@SOME
@given(st.dictionaries(st.sampled_from(["components", "metadata", "dependencies", "@context"]), json_values))
def test_arbitrary_members_are_read_as_whole(members: dict[str, Any]) -> None:
    assert_read_as_whole(dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", **members}))


def test_memory_beyond_what_is_kept_is_about_the_text() -> None:
    """Read whole, the parsed value and the model of every component were held at once:
    more than 10 times the document beyond what the reader keeps. Read a component at a
    time: the text once (diff), and the packages waiting for the subject (check)."""
    data = json.dumps(bom_of(2000)).encode()
    assert validate._cyclonedx_streamed(data) == ("CycloneDX 1.6", [])
    readers = (
        lambda: diff.loads(data, "x"),
        lambda: read_packages(data, "x"),
        lambda: validate._cyclonedx_streamed(data),
    )
    for read in readers:
        tracemalloc.start()
        try:
            kept = read()
            size, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        del kept
        assert peak - size < 5 * len(data), (peak - size) / len(data)


def validated_whole(data: bytes) -> object:
    """``validate``'s verdict on a CycloneDX JSON document read whole."""
    try:
        document = parse_json(data, "x", ContentError)
        return validate._cyclonedx_json(document, "x")
    except ContentError as exc:
        return exc.exit_code, str(exc)


def assert_validated_as_whole(data: bytes) -> None:
    streamed = validate._cyclonedx_streamed(data)
    assert streamed is None or streamed == validated_whole(data)


def test_validate_judges_a_component_at_a_time_what_is_valid() -> None:
    data = dumps(small_cyclonedx())  # sbomgen sorts keys: the components come before the version
    assert data.index(b'"components"') < data.index(b'"specVersion"')
    assert validate._cyclonedx_streamed(data) == validated_whole(data) == ("CycloneDX 1.7", [])


@pytest.mark.parametrize(
    "change",
    [
        lambda bom: bom["components"].append(bom["components"][0]),  # uniqueItems
        lambda bom: bom["components"][0].update(type="program"),
        lambda bom: bom["components"][0].update(unknown=1),
        lambda bom: bom.update(unknown=1),
        lambda bom: bom.update(specVersion="1.5"),  # the components judged by another schema
        lambda bom: bom.update(metadata={"component": {"specVersion": "1.4", "name": "x", "type": "file"}}),
        lambda bom: bom.update(components={}),
    ],
)
def test_validate_reads_whole_what_it_cannot_tell(change: Callable[[dict[str, Any]], None]) -> None:
    """Each problem listed in the schema's order, and a valid BOM it cannot tell of a component at a time."""
    bom = json.loads(json.dumps(small_cyclonedx()))
    change(bom)
    data = dumps({"metadata": bom.pop("metadata"), **bom})
    assert validate._cyclonedx_streamed(data) is None
    assert validated_whole(data)


@SOME
@given(st.deferred(lambda: mutations(small_cyclonedx())))
def test_mutated_boms_are_validated_as_whole(document: Any) -> None:
    assert_validated_as_whole(dumps(document))
