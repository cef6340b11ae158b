"""The CycloneDX writer: the library's own text for every file, the strict validators'
verdicts, in memory that does not grow with the files; validate's linear checks."""

from __future__ import annotations

import datetime
import functools
import json
import resource
import subprocess
import sys
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbomgen.errors import OutputValidationError
from sbomgen.model import Artifact, Checksum, Component, Dependency, FileEntry, Inventory
from sbomgen.model.files import FileTable
from sbomgen.write import cyclonedx

SOME = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
HEX = {"SHA1": "a1" * 20, "SHA256": "b2" * 32, "SHA512": "c3" * 64}


def entry(path: str, digests: Sequence[tuple[str, str]] = tuple(HEX.items())[:2]) -> FileEntry:
    return FileEntry(path, 0, tuple(Checksum(a, v) for a, v in digests))


def inventory(
    entries: Sequence[FileEntry], listed: dict[str, Sequence[str]], vendored: dict[str, str] | None = None
) -> Inventory:
    """The root ``cpython`` and a package per key of ``listed`` (its files, claimed as a scan
    claims them); the root owns the rest."""
    table = FileTable(entries)
    vendored = vendored or {}
    packages = []
    for key, paths in listed.items():
        table.claim(paths, key)
        packages.append(Component(key, key.upper(), "1.0", files=tuple(paths), vendored_in=vendored.get(key)))
    root = Component("cpython", "CPython", "3.99.0", files=table.claim_rest("cpython"))
    return Inventory(
        artifact=Artifact("Python-3.99.0.tgz", 1, (Checksum("SHA256", "d4" * 32),)),
        root="cpython",
        components=(root, *packages),
        files=table,
        dependencies=tuple(Dependency("cpython", key) for key in listed),
        created=datetime.datetime(2025, 1, 1),
    )


def library_text(inventory: Inventory, xml: bool) -> str:
    """What cyclonedx-python-lib writes of the inventory, every file a model object."""
    entries = {e.path: e for e in inventory.files}
    bom = cyclonedx.build_bom(inventory, lambda c: [cyclonedx._file(entries[p]) for p in c.files])
    return cyclonedx.shapes_of(xml).serialise(bom, cyclonedx.compositions(inventory)) + "\n"


@functools.cache
def library_validator(xml: bool) -> Any:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator

    return (XmlValidator if xml else JsonStrictValidator)(SchemaVersion.V1_7)


def library_problem(text: str, xml: bool) -> Any:
    """The verdict of the library's own strict validator, pairwise uniqueItems and all."""
    try:
        return library_validator(xml).validate_str(text)
    except SyntaxError as exc:  # lxml's, for what XML cannot carry
        return exc


def ours(inventory: Inventory, xml: bool) -> str | None:
    try:
        return cyclonedx.render(inventory, xml).decode()
    except OutputValidationError:
        return None


# Names with whatever the serialisers escape or the library changes in XML (whitespace of a
# normalizedString), and characters XML cannot carry; digests mostly valid, some not.
names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12) | st.sampled_from(
    ["a&b", "<x>", "q\"uo'te", " lead", "trail ", "two  spaces", "tab\there", "cr\r\nlf", "\x85\xa0", "é😀%s"]
)
digest_values = st.sampled_from(list(HEX.values())) | st.text("0123456789abcdefABCDEF \n", max_size=70)
file_entries = st.builds(
    entry,
    names,
    st.sampled_from([("SHA1",), ("SHA1", "SHA256"), ("SHA1", "SHA256", "SHA512"), ()]).flatmap(
        lambda algorithms: st.tuples(*(st.tuples(st.just(a), digest_values) for a in algorithms))
    ),
)


@SOME
@given(
    files=st.lists(file_entries, max_size=8, unique_by=lambda e: e.path),
    owners=st.lists(st.sampled_from(["root", "zlib", "pip", "idna"]), min_size=8, max_size=8),
    xml=st.booleans(),
)
def test_every_document_is_the_librarys_own_text_with_its_verdict(
    files: list[FileEntry], owners: list[str], xml: bool
) -> None:
    """Files written through templates and packages by the library: the very text the library
    writes when every file is a model object of its own, and the same verdict of its strict
    validator, whatever the names and digests."""
    listed: dict[str, list[str]] = {"zlib": [], "pip": [], "idna": []}
    for file, owner in zip(files, owners, strict=False):
        if owner != "root":
            listed[owner].append(file.path)
    made = inventory(files, {k: sorted(v) for k, v in listed.items()}, {"idna": "pip"})
    expected = library_text(made, xml)
    assert ours(made, xml) == (None if library_problem(expected, xml) else expected)


def test_real_outputs_are_the_librarys_own_text(tmp_path: Path) -> None:
    """A real-shaped document, a package nesting another and top-level files among them."""
    files = [entry(f"Lib/{n}.py") for n in range(50)] + [entry("Modules/zlib/a.c", tuple(HEX.items()))]
    made = inventory(files, {"zlib": ["Modules/zlib/a.c"], "pip": ["Lib/7.py", "Lib/3.py"], "idna": []})
    for xml in (False, True):
        assert ours(made, xml) == library_text(made, xml)


def test_a_file_listed_twice_is_written_once_under_the_first_to_list_it() -> None:
    """A bom-ref names one element: the library made a random one for the second listing
    (or refused the XML); the file stays with the first component listing it."""
    files = [entry("a.c"), entry("b.c"), entry("c.c")]
    made = inventory(files, {"zlib": ["a.c", "b.c", "b.c"], "pip": ["b.c", "c.c"]})
    expected = library_text(inventory(files, {"zlib": ["a.c", "b.c"], "pip": ["c.c"]}), False)
    assert ours(made, False) == expected
    assert ours(made, True) == ours(made, True) is not None


def test_the_dependency_graph_is_the_one_register_dependency_makes() -> None:
    """Made at once (register_dependency looks every node up among all entries: quadratic),
    the same graph, shared targets, cycles and a source met first as a target included."""
    edges = [
        ("cpython", "a"),
        ("a", "b"),
        ("cpython", "b"),
        ("b", "c"),
        ("c", "a"),
        ("a", "c"),
        ("b", "cpython"),
        ("c", "d"),
    ]
    components = [Component("cpython", "CPython", "3.99.0")]
    components += [Component(k, k, "1", vendored_in="a" if k == "c" else None) for k in "abcd"]
    made = Inventory(
        artifact=Artifact("Python-3.99.0.tgz", 1, ()),
        root="cpython",
        components=tuple(components),
        files=(),
        dependencies=tuple(Dependency(s, t) for s, t in edges),
        created=datetime.datetime(2025, 1, 1),
    )
    bom = cyclonedx.build_bom(made, lambda c: [])
    registered = cyclonedx.build_bom(made, lambda c: [])
    registered.dependencies = []
    nodes = {str(c.bom_ref): c for c in [registered.metadata.component, *registered._get_all_components()]}
    for source, target in edges:
        registered.register_dependency(nodes[f"component:{source}"], [nodes[f"component:{target}"]])
    assert list(bom.dependencies) == list(registered.dependencies) and len(bom.dependencies) == 5


def test_a_listed_file_that_is_not_in_the_inventory_is_refused() -> None:
    made = inventory([entry("a.c")], {"zlib": ["a.c", "gone.c"]})
    for xml in (False, True):
        with pytest.raises(OutputValidationError, match="component:zlib contains 'gone.c', which is not"):
            cyclonedx.render(made, xml)


def test_a_bad_digest_is_refused_with_the_validators_own_words() -> None:
    made = inventory([entry("a.c", [("SHA1", "xyz")])], {})
    with pytest.raises(OutputValidationError, match="'xyz' does not match"):
        cyclonedx.render(made)
    with pytest.raises(OutputValidationError, match=r"\[facet 'pattern'\] The value 'xyz'"):
        cyclonedx.render(made, xml=True)


def test_memory_does_not_grow_with_the_files() -> None:
    """The files stream from the table: 10,000 take the memory of 1,000."""

    def peak(count: int, xml: bool) -> int:
        made = inventory([entry(f"Lib/m{n:05}.py") for n in range(count)], {"zlib": ["Lib/m00001.py"]})
        cyclonedx.shapes_of(xml)
        tracemalloc.start()
        written = sum(map(len, cyclonedx.render_parts(made, xml)))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert written > count * 150
        return top

    for xml in (False, True):
        few, many = peak(1_000, xml), peak(10_000, xml)
        assert many < few * 1.5 + (1 << 20), (few, many)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(cyclonedx._PLAIN_IRI, fullmatch=True))
def test_what_the_iri_pattern_settles_the_grammar_accepts(iri: str) -> None:
    """An IRI, and so an IRI reference (one of its forms)."""
    from rfc3987_syntax import is_valid_syntax

    assert is_valid_syntax("iri", iri)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, -2.0, 0.5])
    | st.text("ab", max_size=2),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text("ab", max_size=2), children, max_size=3)
    ),
    max_leaves=8,
)


@SOME
@given(json_values, json_values)
def test_unique_items_holds_items_equal_as_jsonschema_does(one: Any, two: Any) -> None:
    from jsonschema._utils import equal

    assert (cyclonedx.equality_key(one) == cyclonedx.equality_key(two)) == equal(one, two)


def test_plain_iris_need_no_grammar() -> None:
    """The IRI grammar's parsers are made when an IRI the pattern does not settle is
    checked, and judge it."""
    script = (
        "import sys\n"
        "from sbomgen.write.cyclonedx import json_validator\n"
        "validator = json_validator()\n"
        "assert 'lark' not in sys.modules\n"
        "ok = {'bomFormat': 'CycloneDX', 'specVersion': '1.6', 'components': [{'type': 'library',"
        " 'name': 'x', 'externalReferences': [{'type': 'website', 'url': 'https://example.org/a?b#c'}]}]}\n"
        "assert not list(validator.iter_errors(ok)) and 'lark' not in sys.modules\n"
        "ok['components'][0]['externalReferences'][0]['url'] = 'https://[::1]/'\n"
        "print(len(list(validator.iter_errors(ok))), 'lark' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert run.stdout.split() == ["1", "True"], run.stderr  # that grammar has no "::1"


def test_validate_takes_linear_time(tmp_path: Path) -> None:
    """10,000 components: the library's pairwise uniqueItems took 76 s; under a CPU limit
    that allows ten times what the linear check takes."""
    made = inventory([entry(f"Lib/m{n:05}.py") for n in range(10_000)], {})
    path = tmp_path / "many.cdx.json"
    path.write_bytes(cyclonedx.render(made))
    run = subprocess.run(
        [sys.executable, "-m", "sbomgen", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (40, 40)),
    )
    assert (run.returncode, run.stdout.strip()) == (0, f"{path}: valid CycloneDX 1.7"), run.stderr


def test_validate_finds_a_repeated_component(tmp_path: Path) -> None:
    from sbomgen.workflows.validate import validate_file

    document = json.loads(cyclonedx.render(inventory([entry("a.c"), entry("b.c")], {})))
    document["components"].append(document["components"][1])
    path = tmp_path / "repeated.cdx.json"
    path.write_text(json.dumps(document))
    kind, [problem] = validate_file(path)
    assert (
        kind == "CycloneDX 1.7"
        and problem.startswith("$.components: [{")
        and "non-unique elements" in problem
    )
