"""Property tests of the packaging gate: METADATA, RECORD, vendor.txt, index answers, cache
rows and cache exports, fed through the in-process readers the commands use. Real documents
mutated (lines changed, fields replaced by values of other types, huge fields, deep nesting,
long numbers) and arbitrary ones: nothing but the reader's own input error escapes.

10,000 examples each (the ``slow`` marker).
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import PIP_WHEELS, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from sbomgen.documents.cache import canonical, digest, read_export, read_row
from sbomgen.documents.fields import control_character
from sbomgen.documents.index import read_project
from sbomgen.documents.metadata import read_metadata
from sbomgen.documents.record import read_record
from sbomgen.documents.vendor import read_vendor_txt
from sbomgen.enrich.index import IndexResponseError
from sbomgen.enrich.lookup import release_data
from sbomgen.errors import CacheError, ContentError, EnrichmentError, SbomgenError

pytestmark = pytest.mark.slow
MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
INPUT_EXIT_CODES = {3, 4, 7, 8}

PIP = PIP_WHEELS / "pip-25.1.1-py3-none-any.whl"
with zipfile.ZipFile(PIP) as _archive:
    REAL_METADATA = _archive.read("pip-25.1.1.dist-info/METADATA").split(b"\n\n", 1)[0].split(b"\n")
    REAL_RECORD = _archive.read("pip-25.1.1.dist-info/RECORD").split(b"\n")[:40]
REAL_VENDOR = [
    line
    for wheel in sorted(PIP_WHEELS.glob("pip-*.whl"))
    for line in zipfile.ZipFile(wheel).read("pip/_vendor/vendor.txt").split(b"\n")
]


def _trimmed(name: str) -> bytes:
    """A recorded answer with its newest releases and short info: the shape, at a tenth the size."""
    document = json.loads(gzip.decompress((ROOT / "fixtures" / "index" / f"{name}.json.gz").read_bytes()))
    document["info"] = {k: v for k, v in document["info"].items() if k != "description"}
    document["releases"] = dict(list(document["releases"].items())[-3:])
    document["releases"].setdefault(document["info"]["version"], [])
    return json.dumps(document).encode()


BASE = "https://pypi.org/pypi/x/json"
INDEX = {name: _trimmed(name) for name in ("pyproject-hooks", "webencodings", "tomli-w")}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["0" * 64, "Z" * 64, "sha256=", "a\nb", "\x1b[2J", "../../etc", "2.*", ""])
)
# Values of the wrong kind for any field, cheap to draw; arbitrary JSON values beside them.
WRONG = [None, True, 0, -1, 5, 1.5, "", "x", "0" * 64, "Z" * 64, "a\nb", "\u202e", [], {}, [5], {"a": None}]
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def only_input_errors(error: SbomgenError) -> None:
    assert error.exit_code in INPUT_EXIT_CODES, error
    assert "\n" not in str(error), str(error)


def mutated_lines(lines: list[bytes]) -> st.SearchStrategy[bytes]:
    """Real lines, some replaced, changed or repeated, sometimes huge; or arbitrary bytes."""
    line = st.one_of(
        st.sampled_from(lines),
        st.sampled_from(lines).flatmap(
            lambda real: st.tuples(st.integers(0, max(len(real), 1)), st.binary(max_size=8)).map(
                lambda change: real[: change[0]] + change[1] + real[change[0] :]
            )
        ),
        st.sampled_from(lines).map(lambda real: real + b"x" * (70 << 10)),
        st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=40),
    )
    return st.one_of(st.lists(line, max_size=25).map(b"\n".join), st.binary(max_size=400))


def wheel_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@MANY
@given(mutated_lines(REAL_METADATA))
def test_metadata(content: bytes) -> None:
    """Through the reader both scans use (bundled wheels, ``wheel`` and ``sdist``)."""
    try:
        metadata = read_metadata(content, "pip-25.1.1.dist-info/METADATA", ContentError)
    except SbomgenError as error:
        only_input_errors(error)
        return
    canonicalize_name(metadata.name, validate=True)
    assert str(Version(metadata.version))
    assert not any(control_character(v) for v in (metadata.name, *metadata.classifiers))


@MANY
@given(mutated_lines(REAL_VENDOR))
def test_vendor_txt(content: bytes) -> None:
    try:
        pins = read_vendor_txt(content, "pip/_vendor/vendor.txt", ContentError)
    except SbomgenError as error:
        only_input_errors(error)
        return
    assert len({name for name, _ in pins}) == len(pins)
    for name, version in pins:
        assert name == canonicalize_name(name, validate=True)
        Version(version)


@MANY
@given(
    mutated_lines(REAL_RECORD)
    | st.lists(st.tuples(st.text(max_size=30), st.text(max_size=50), st.text(max_size=8)), max_size=6).map(
        lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8", "surrogatepass")
    )
)
def test_record(content: bytes) -> None:
    record_path = "pip-25.1.1.dist-info/RECORD"
    try:
        record = read_record(content, record_path, record_path, ContentError)
    except SbomgenError as error:
        only_input_errors(error)
        return
    for row in record.rows:
        assert row.sha256 is None and record.unhashed_allowed(row.path) or len(row.sha256 or "") == 64
        assert row.size == "" or row.size.isdigit()


def paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as the keys leading to it."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*here, index))
    return found


def render(document: Any, data: st.DataObject) -> bytes:
    """The document's JSON text, sometimes wrapped deep or carrying a number too long to parse."""
    text = json.dumps(document)
    how = data.draw(st.sampled_from(["plain", "plain", "plain", "deep", "long-number"]))
    if how == "deep":
        depth = data.draw(st.integers(60, 5000))
        return ("[" * depth + text + "]" * depth).encode()
    if how == "long-number":
        return text.replace("0", "9" * data.draw(st.integers(40, 6000)), 1).encode()
    return text.encode("utf-8", "surrogatepass")


_PLACES: dict[bytes, list[tuple[Any, ...]]] = {}
replacements = st.one_of(st.sampled_from(WRONG).map(copy.deepcopy), json_values)  # fresh lists and objects


def mutate(text: bytes, data: st.DataObject) -> Any:
    """A real document with a few values replaced by values of any type, or keys removed."""
    document = json.loads(text)
    places = _PLACES.get(text) or _PLACES.setdefault(text, paths(document))
    for _ in range(data.draw(st.integers(1, 2))):
        place = places[data.draw(st.integers(0, len(places) - 1))]
        if not place:
            return data.draw(json_values)
        parent = document
        try:
            for key in place[:-1]:
                parent = parent[key]
            key = place[-1]
            if not (isinstance(parent, dict) and isinstance(key, str) or isinstance(parent, list)):
                continue  # an earlier change replaced the container
            if data.draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(key, None)
            else:
                parent[key] = data.draw(replacements)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the place
    return document


@MANY
@given(st.data())
def test_index_answers(data: st.DataObject) -> None:
    """Through the index client's reader and what enrichment takes of a release."""
    name = data.draw(st.sampled_from(sorted(INDEX)))
    document = mutate(INDEX[name], data) if data.draw(st.integers(0, 4)) else data.draw(json_values)
    try:
        project = read_project(render(document, data), name, BASE, 64 << 20, EnrichmentError)
        version = data.draw(
            st.sampled_from([*sorted(project.releases)[:3], project.info.version or "", "1.0"])
        )
        release = release_data(project, version)
    except IndexResponseError:
        return  # the version is not on the index: a warning, then NOASSERTION
    except SbomgenError as error:
        assert error.exit_code == 7 and str(error).startswith(f"the index's answer for {name}: "), error
        return
    assert all(len(f.sha256) == 64 for f in release.files)


def real_export() -> bytes:
    entries = []
    for name, text in sorted(INDEX.items()):
        project = read_project(text, name, BASE, 64 << 20, EnrichmentError)
        version = project.info.version or ""
        data = release_data(project, version).model_dump()
        entry = {"index_url": "https://pypi.org/pypi", "name": name, "version": version, "subject": ""}
        entries.append(
            {**entry, "data": data, "sha256": digest(canonical(data)), "fetched_at": "2025-01-01T00:00:00Z"}
        )
    document = {"format": "sbomgen-index-cache", "version": 1, "entries": entries}
    return canonical({**document, "sha256": digest(canonical(entries))}).encode()


REAL_EXPORT = real_export()


def sealed(document: Any) -> Any:
    """Checksums made to fit, where the shape allows: so that changes reach the model."""
    if isinstance(document, dict) and isinstance(document.get("entries"), list):
        for entry in document["entries"]:
            if isinstance(entry, dict) and "data" in entry:
                entry["sha256"] = digest(canonical(entry["data"]))
        document["sha256"] = digest(canonical(document["entries"]))
    return document


@MANY
@given(st.data())
def test_cache_exports(data: st.DataObject) -> None:
    """Through ``cache import``'s reader, checksums recomputed as someone editing the file would."""
    document = mutate(REAL_EXPORT, data) if data.draw(st.integers(0, 4)) else data.draw(json_values)
    if data.draw(st.booleans()):
        document = sealed(document)
    try:
        export = read_export(render(document, data), "index-cache.json")
    except SbomgenError as error:
        assert isinstance(error, CacheError) and str(error).startswith("index-cache.json: "), error
        assert "\n" not in str(error)
        return
    assert all(len(f.sha256) == 64 for e in export.entries for f in e.data.files)


@MANY
@given(st.data())
def test_cache_rows(data: st.DataObject) -> None:
    """A row's data, its checksum recomputed: read as the cache reads every row."""
    document = json.loads(REAL_EXPORT)["entries"][data.draw(st.integers(0, 2))]["data"]
    changed = (
        mutate(json.dumps(document).encode(), data)
        if data.draw(st.integers(0, 4))
        else data.draw(json_values)
    )
    try:
        row = read_row(render(changed, data).decode("utf-8", "surrogatepass"), "cache: the entry for x 1")
    except SbomgenError as error:
        assert isinstance(error, CacheError) and "\n" not in str(error), error
        return
    assert all(len(f.sha256) == 64 for f in row.files)


def test_real_documents_pass(tmp_path: Path) -> None:
    """The seeds themselves are accepted: the mutations start from valid documents."""
    assert len(read_export(REAL_EXPORT, "x").entries) == 3
    for name, text in INDEX.items():
        read_project(text, name, BASE, 64 << 20, EnrichmentError)
    read_record(b"\n".join(REAL_RECORD), "r", "r", ContentError)


@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    metadata=mutated_lines(REAL_METADATA),
    vendor_txt=mutated_lines(REAL_VENDOR),
    record_extra=st.binary(max_size=60),
    valid_metadata=st.booleans(),
)
def test_wheel_command_end_to_end(
    metadata: bytes, vendor_txt: bytes, record_extra: bytes, valid_metadata: bool, tmp_path_factory: Any
) -> None:
    """The whole ``wheel`` path in-process, SBOM rendering and its validation included: what
    the documents say never reaches exit 5. Slower per example (a scan and a validated SPDX
    document each), so 2,000 examples; the readers above take 10,000 each."""
    from sbomgen.documents.record import record_hash
    from sbomgen.scan import scan
    from sbomgen.scan.distribution import DistributionScanner
    from sbomgen.write.spdx import SpdxWriter

    if valid_metadata:
        metadata = b"Name: demo\nVersion: 1.0\n" + metadata
    files = {
        "demo/__init__.py": b"",
        "demo/_vendor/vendor.txt": vendor_txt,
        "demo-1.0.dist-info/METADATA": metadata,
    }
    record = b"".join(
        f"{name},{record_hash(hashlib.sha256(data).digest())},{len(data)}\n".encode()
        for name, data in files.items()
    )
    path = tmp_path_factory.mktemp("wheel") / "demo-1.0-py3-none-any.whl"
    path.write_bytes(wheel_with({**files, "demo-1.0.dist-info/RECORD": record + record_extra}))
    try:
        inventory = scan(path, scanners=[DistributionScanner(wheel=True)], top_folder=False)
        SpdxWriter().render(inventory)
    except SbomgenError as error:
        only_input_errors(error)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=5))
def test_a_cache_export_gives_each_release_once(picks: list[int]) -> None:
    """Entries of one release (and bundled file) given twice: the cache keeps one, and the
    last one won, its data whatever it was: refused, naming both."""
    entries = json.loads(REAL_EXPORT)["entries"]
    chosen = [entries[pick] for pick in picks]
    document = sealed({"format": "sbomgen-index-cache", "version": 1, "entries": chosen})
    twice = next(((n, picks.index(p)) for n, p in enumerate(picks) if p in picks[:n]), None)
    if twice is None:
        assert len(read_export(canonical(document).encode(), "x").entries) == len(picks)
        return
    entry = chosen[twice[0]]
    with pytest.raises(CacheError) as refused:
        read_export(canonical(document).encode(), "x")
    assert str(refused.value) == (
        f"x: entries[{twice[0]}] ({entry['name']} {entry['version']}) is entries[{twice[1]}] again"
    )
