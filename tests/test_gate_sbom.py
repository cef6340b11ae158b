"""SBOM documents through the gate: each finding of the adversarial review, as the command
that read the document meets it. One line on stderr, exit 4, no traceback, no output."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CPYTHON_313,
    REFERENCE_313,
    cpython_tree,
    make_wheel,
    refused,
    sbom_data,
    sbomgen,
    write_tar,
)
from hypothesis import example, settings
from hypothesis import given as given_
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from sbomgen.errors import ContentError
from sbomgen.workflows import diff

DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE = b"9" * 5000


# Misc/sbom.spdx.json in a tarball ------------------------------------------------------------


def misc_sbom() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sbom_data({"Python/ceval.c": cpython_tree()["Python/ceval.c"]}))
    return document


def tarball_with_misc_sbom(tmp_path: Path, content: bytes) -> Path:
    tree = cpython_tree()
    tree["Misc/sbom.spdx.json"] = content
    return write_tar(tmp_path / "Python-3.99.0.tgz", tree)


def misc_refused(tmp_path: Path, document: Any, *fragments: str, fmt: str = "spdx-json") -> str:
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    artifact = tarball_with_misc_sbom(tmp_path, content)
    return refused(tmp_path, 4, "tarball", artifact, "-f", fmt, "-o", "{out}", fragments=fragments)


def test_finding_deeply_nested_arrays_in_misc_sbom(tmp_path: Path) -> None:
    misc_refused(tmp_path, DEEP, "Misc/sbom.spdx.json: nested more than 64 levels deep")


def test_finding_huge_integer_in_misc_sbom(tmp_path: Path) -> None:
    misc_refused(
        tmp_path,
        b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": ' + HUGE + b"}]}",
        "Misc/sbom.spdx.json: a number of 5000 characters",
    )


def test_finding_checksum_without_checksumValue(tmp_path: Path) -> None:
    document = misc_sbom()
    del document["packages"][0]["checksums"][0]["checksumValue"]
    misc_refused(tmp_path, document, "Misc/sbom.spdx.json: packages[0].checksums[0].checksumValue: missing")


def test_finding_package_name_5(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["name"] = 5
    misc_refused(tmp_path, document, "Misc/sbom.spdx.json: packages[0].name: expected a string, not a number")


def test_finding_externalRefs_abc(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["externalRefs"] = "abc"
    misc_refused(
        tmp_path, document, "Misc/sbom.spdx.json: packages[0].externalRefs: expected a list, not a string"
    )


def test_finding_versionInfo_12(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["versionInfo"] = 12
    misc_refused(
        tmp_path, document, "Misc/sbom.spdx.json: packages[0].versionInfo: expected a string, not a number"
    )


def test_finding_relatedSpdxElement_empty_list(tmp_path: Path) -> None:
    document = misc_sbom()
    document["relationships"][0]["relatedSpdxElement"] = []
    misc_refused(
        tmp_path,
        document,
        "Misc/sbom.spdx.json: relationships[0].relatedSpdxElement: expected a string, not a list",
    )


def test_finding_checksum_algorithm_CRC32(tmp_path: Path) -> None:
    document = misc_sbom()
    document["files"][0]["checksums"][0]["algorithm"] = "CRC32"
    line = misc_refused(tmp_path, document, "Misc/sbom.spdx.json: files[0].checksums[0].algorithm: ")
    assert "'SHA256'" in line  # the algorithms SPDX allows are named


def test_finding_bad_purl_was_exit_5(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["externalRefs"].append(
        {"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:%%/x y"}
    )
    misc_refused(
        tmp_path, document, "Misc/sbom.spdx.json: packages[0].externalRefs[1]: ", "not a package URL"
    )


def test_finding_non_hex_checksum_was_exit_5(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["checksums"][0]["checksumValue"] = "z" * 64
    misc_refused(
        tmp_path,
        document,
        "Misc/sbom.spdx.json: packages[0].checksums[0]: checksumValue: SHA256 expects 64 hexadecimal digits",
    )


def test_finding_duplicate_spdxids_in_misc_sbom_were_exit_5(tmp_path: Path) -> None:
    document = misc_sbom()
    twin = dict(document["packages"][0], name="expat2")
    document["packages"].append(twin)
    misc_refused(
        tmp_path, document, "Misc/sbom.spdx.json: packages[1].SPDXID: SPDXRef-PACKAGE-expat is used twice"
    )


@pytest.mark.parametrize(
    ("name", "said"),
    [("Expat", "as packages[0]"), ("CPython", "as CPython itself"), ("CPYTHON", "as CPython itself")],
)
def test_finding_misc_sbom_packages_that_cannot_be_told_apart(tmp_path: Path, name: str, said: str) -> None:
    # Written, the SBOM was one that diff and regenerate refuse: two components known as one.
    document = misc_sbom()
    document["packages"].append(dict(document["packages"][0], SPDXID="SPDXRef-PACKAGE-other", name=name))
    misc_refused(tmp_path, document, f"Misc/sbom.spdx.json: packages[1] is named {name!r}, {said}")


@pytest.mark.parametrize("field", ["name", "versionInfo", "downloadLocation", "originator"])
def test_finding_newlines_in_misc_sbom_strings_inject_tag_value_lines(tmp_path: Path, field: str) -> None:
    document = misc_sbom()
    document["packages"][0][field] = "Organization: x\nPackageName: injected"
    misc_refused(
        tmp_path,
        document,
        f"Misc/sbom.spdx.json: packages[0].{field}: holds the control character U+000A",
        fmt="spdx-tv",
    )


def test_license_expression_in_misc_sbom_is_refused_where_it_is_read(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["licenseConcluded"] = "MIT AND ("
    misc_refused(
        tmp_path,
        document,
        "Misc/sbom.spdx.json: packages[0].licenseConcluded: not an SPDX license expression",
    )


def test_finding_spdx_id_syntax_in_misc_sbom(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["SPDXID"] = "SPDXRef-exp at"
    misc_refused(tmp_path, document, "Misc/sbom.spdx.json: packages[0].SPDXID: not an SPDX ID")


# The bom.cdx.json pip vendors, and SBOMs a distribution carries (PEP 770) -----------------------


def tarball_with_bom(tmp_path: Path, bom: bytes) -> Path:
    buffer = io.BytesIO(make_wheel())
    with zipfile.ZipFile(buffer, "a") as wheel:
        wheel.writestr("pip/_vendor/bom.cdx.json", bom)
    tree = cpython_tree()
    tree["Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl"] = buffer.getvalue()
    return write_tar(tmp_path / "Python-3.99.0.tgz", tree)


@pytest.mark.parametrize(
    ("bom", "fragment"),
    [
        (DEEP, "nested more than 64 levels deep"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": ' + HUGE + b"}", "a number of 5000"),
        (
            json.dumps(
                {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"version": "1"}]}
            ).encode(),
            "pip/_vendor/bom.cdx.json: components[0].name: missing",
        ),
    ],
    ids=["deep", "huge-integer", "component-without-a-name"],
)
def test_finding_bom_cdx_json(tmp_path: Path, bom: bytes, fragment: str) -> None:
    """Deeply nested arrays, 4,300+-digit integers, a CycloneDX component without a name."""
    artifact = tarball_with_bom(tmp_path, bom)
    refused(
        tmp_path, 4, "tarball", artifact, "-o", "{out}", fragments=("pip-99.0-py3-none-any.whl", fragment)
    )


def pep770_wheel(tmp_path: Path, carried: bytes) -> Path:
    files = {
        "demo/__init__.py": b"",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/sboms/carried.json": carried,
    }
    record = "".join(
        f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
        for n, d in files.items()
    )
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("demo-1.0.dist-info/RECORD", record + "demo-1.0.dist-info/RECORD,,\n")
    return wheel


@pytest.mark.parametrize(
    ("carried", "fragment"),
    [
        (DEEP, "nested more than 64 levels deep"),
        (b'{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": ' + HUGE + b"}]}", "a number of 5000"),
        (
            json.dumps(
                {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 5}]}
            ).encode(),
            "components[0].name: expected a string, not a number",
        ),
        (
            json.dumps(
                {"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": "a\nb"}]}
            ).encode(),
            "packages[0].name: holds the control character U+000A",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "b">]><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>',
            "refused: the XML has a DTD or entities",
        ),
    ],
    ids=["deep", "huge-integer", "name-5", "newline", "xml-dtd"],
)
def test_finding_pep770_sboms(tmp_path: Path, carried: bytes, fragment: str) -> None:
    wheel = pep770_wheel(tmp_path, carried)
    refused(
        tmp_path,
        4,
        "wheel",
        wheel,
        "-o",
        "{out}",
        fragments=("demo-1.0.dist-info/sboms/carried.json: ", fragment),
    )


# SBOMs given on the command line ----------------------------------------------------------------

COMMANDS = {
    "diff": ("diff", "{doc}", "{doc}"),
    "report": ("report", "{doc}", "-o", "{out}"),
    "regenerate": ("regenerate", "{doc}", "--tree", "{tree}", "-o", "{out}"),
    "check": ("check", "{doc}", "--offline"),
    "validate": ("validate", "{doc}"),
}


def given(tmp_path: Path, command: str, content: bytes, *fragments: str) -> str:
    doc = tmp_path / "given.json"
    doc.write_bytes(content)
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    args = [a.replace("{doc}", str(doc)).replace("{tree}", str(tree)) for a in COMMANDS[command]]
    return refused(tmp_path, 4, *args, fragments=(f"{doc}: ", *fragments))


@pytest.mark.parametrize("command", COMMANDS)
def test_finding_deeply_nested_arrays_in_given_sboms(tmp_path: Path, command: str) -> None:
    given(tmp_path, command, b'{"spdxVersion": "SPDX-2.3", "packages": ' + DEEP + b"}", "nested more than 64")


@pytest.mark.parametrize("command", COMMANDS)
def test_finding_huge_integers_in_given_sboms(tmp_path: Path, command: str) -> None:
    given(tmp_path, command, b'{"spdxVersion": "SPDX-2.3", "packages": [' + HUGE + b"]}", "a number of 5000")


@pytest.mark.parametrize("command", ["diff", "report", "regenerate", "check"])
def test_finding_wrong_types_in_given_sboms(tmp_path: Path, command: str) -> None:
    document = spdx_document(("r", "demo", "1"))
    document["packages"][0]["checksums"] = [{"algorithm": "SHA256"}]
    given(tmp_path, command, json.dumps(document).encode(), "packages[0].checksums[0].checksumValue: missing")


@pytest.mark.parametrize("command", ["diff", "report"])
def test_finding_cyclonedx_component_without_a_name(tmp_path: Path, command: str) -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"type": "library", "name": "pip", "components": [{"type": "library", "version": "1"}]}
        ],
    }
    given(tmp_path, command, json.dumps(bom).encode(), "components[0].components[0].name: missing")


def test_duplicate_bom_refs_are_refused(tmp_path: Path) -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {"type": "library", "bom-ref": "x", "name": "a"},
            {"type": "library", "bom-ref": "x", "name": "b"},
        ],
    }
    given(tmp_path, "diff", json.dumps(bom).encode(), "bom-ref 'x' is given to both 'a' and 'b'")


def test_finding_annotation_that_is_not_json(tmp_path: Path) -> None:
    document = misc_sbom()
    document["packages"][0]["annotations"] = [
        {
            "annotator": "Tool: sbomgen",
            "annotationDate": "2025-01-01T00:00:00Z",
            "annotationType": "OTHER",
            "comment": "sbomgen:index-release-files [{not json",
        }
    ]
    given(tmp_path, "check", json.dumps(document).encode(), "packages[0].annotations[0].comment: not JSON")


def test_finding_annotation_with_a_bad_sha256(tmp_path: Path) -> None:
    document = misc_sbom()
    files = [{"filename": "x-1.tar.gz", "sha256": "not hex"}]
    document["packages"][0]["annotations"] = [
        {
            "annotator": "Tool: sbomgen",
            "annotationDate": "2025-01-01T00:00:00Z",
            "annotationType": "OTHER",
            "comment": "sbomgen:index-release-files " + json.dumps(files),
        }
    ]
    given(
        tmp_path,
        "check",
        json.dumps(document).encode(),
        "packages[0].annotations[0].comment: [0].sha256: expected 64 hexadecimal digits",
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("[{not json", "not JSON"), ('[{"filename": "x-1.tar.gz"}]', "[0].sha256: missing")],
)
def test_finding_bad_release_files_in_a_cyclonedx_property(tmp_path: Path, value: str, fragment: str) -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "library",
                "bom-ref": "pkg:pip",
                "name": "pip",
                "version": "25.1.1",
                "properties": [{"name": "sbomgen:index-release-files", "value": value}],
            }
        ],
    }
    given(tmp_path, "check", json.dumps(bom).encode(), f"component 'pkg:pip'.properties[0].value: {fragment}")


def test_finding_upstream_without_documentNamespace_was_exit_5(tmp_path: Path) -> None:
    document = json.loads(REFERENCE_313.read_bytes())
    del document["documentNamespace"]
    given(tmp_path, "regenerate", json.dumps(document).encode(), "documentNamespace: missing")


def test_finding_upstream_whose_packages_is_a_string(tmp_path: Path) -> None:
    document = json.loads(REFERENCE_313.read_bytes())
    document["packages"] = "expat"
    given(tmp_path, "regenerate", json.dumps(document).encode(), "packages: expected a list, not a string")


CDX_XML = (
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>'
    '<component type="library"><name>{name}</name></component></components></bom>'
)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "&#233;">]>'
            + CDX_XML.format(name="&a;").encode(),
            "refused: the XML has a DTD or entities",
        ),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE bom SYSTEM "file:///etc/passwd">'
            + CDX_XML.format(name="x").encode(),
            "refused: the XML has a DTD or entities",
        ),
        (
            b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
            + CDX_XML.format(name="caf\xe9").encode("latin-1"),
            "declares the encoding 'ISO-8859-1'; only UTF-8 is read",
        ),
        (CDX_XML.format(name="caf\xe9").encode("latin-1"), "not UTF-8"),
    ],
    ids=["dtd-entities", "external-dtd", "latin-1", "undeclared-latin-1"],
)
def test_finding_cyclonedx_xml_with_a_dtd_or_in_latin_1_crashed_validate(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    doc = tmp_path / "bom.xml"
    doc.write_bytes(content)
    refused(tmp_path, 4, "validate", doc, fragments=(f"{doc}: {fragment}",))
    refused(tmp_path, 4, "diff", doc, doc, fragments=(f"{doc}: not an SBOM sbomgen reads (", f": {fragment}"))


def test_cyclonedx_xml_in_utf_8_is_still_validated(tmp_path: Path) -> None:
    doc = tmp_path / "bom.xml"
    doc.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>\n' + CDX_XML.format(name="caf\xe9").encode())
    run = sbomgen("validate", doc)
    assert run.returncode == 0, run.stdout
    assert run.stdout.decode() == f"{doc}: valid CycloneDX 1.6 XML\n"


_FIELDS = st.tuples(
    st.sampled_from(["name", "version", "purl"]), st.sampled_from(["a", "1.0", "2.0"]), st.booleans()
)

_READ_ONE_WAY = (
    r"^bom\.xml: not an SBOM sbomgen reads \(.*\): (<\w+> appears twice in one <component>"
    r"|the element '\w+' is in no namespace|<name> holds elements where it holds text)$"
)


@settings(max_examples=60, deadline=None)
@given_(st.lists(_FIELDS, min_size=1, max_size=4), st.booleans())
def test_cyclonedx_xml_read_one_way_or_refused(fields: list[tuple[str, str, bool]], nested: bool) -> None:
    """A component's field given twice (the reader kept the last), in no namespace (read as
    CycloneDX's own) or holding an element is refused, as JSON's key given twice is: else
    `diff` would report what one reading of the document says."""
    fields = [(tag, f"pkg:generic/x@{value}" if tag == "purl" else value, ns) for tag, value, ns in fields]
    children = "".join(
        f"<{tag}>{value}</{tag}>" if namespaced else f'<{tag} xmlns="">{value}</{tag}>'
        for tag, value, namespaced in fields
    )
    if nested:
        children = children.replace("</name>", "<x/></name>", 1)
    data = (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library">'
        f"{children}</component></components></bom>"
    ).encode()
    tags = [tag for tag, _, _ in fields]
    one_way = (
        all(namespaced for _, _, namespaced in fields)
        and len(set(tags)) == len(tags)
        and not (nested and "name" in tags)
    )
    if one_way and "name" in tags:
        component = diff.loads(data, "bom.xml").components
        values = {tag: value for tag, value, _ in fields}
        assert [c["version"] for c in component.values()] == [values.get("version")]
    elif not one_way:
        with pytest.raises(ContentError, match=_READ_ONE_WAY):
            diff.loads(data, "bom.xml")


@settings(max_examples=60, deadline=None)
@given_(
    st.lists(st.tuples(st.sampled_from(["r", "a", "b"]), st.lists(st.sampled_from(["a", "b"]), max_size=2)))
)
def test_cyclonedx_dependencies_of_one_ref_are_one_entry(entries: list[tuple[str, list[str]]]) -> None:
    """Two entries for one ref in `dependencies`: the reader kept the last list, so an edge
    the document states went missing from the graph `diff` names components by."""
    components = "".join(
        f'<component type="library" bom-ref="{ref}"><name>{ref}</name></component>' for ref in "ab"
    )
    dependencies = "".join(
        f'<dependency ref="{ref}">' + "".join(f'<dependency ref="{t}"/>' for t in on) + "</dependency>"
        for ref, on in entries
    )
    xml = (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><metadata>'
        '<component type="application" bom-ref="r"><name>r</name></component></metadata>'
        f"<components>{components}</components>"
        f"<dependencies>{dependencies}</dependencies></bom>"
    )
    as_json = {
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "metadata": {"component": {"type": "application", "name": "r", "bom-ref": "r"}},
        "components": [{"type": "library", "name": ref, "bom-ref": ref} for ref in "ab"],
        "dependencies": [{"ref": ref, "dependsOn": on} for ref, on in entries],
    }  # fmt: skip
    refs = [ref for ref, _ in entries]
    twice = next((ref for number, ref in enumerate(refs) if ref in refs[:number]), None)
    for data in (xml.encode(), json.dumps(as_json).encode()):
        if twice is None:
            diff.loads(data, "bom")
        else:
            with pytest.raises(
                ContentError, match=rf"dependencies\[\d+\]: '{twice}' has more than one entry$"
            ):
                diff.loads(data, "bom")


_TREE = st.lists(
    st.tuples(
        st.sampled_from(["pip", "setuptools", "pip/setuptools", "a%2Fb", "a/b", "A.b"]), st.integers(0, 3)
    ),
    min_size=1,
    max_size=4,
)


def _tree_bom(tree: list[tuple[str, int]]) -> bytes:
    """CycloneDX of components (name, what depends on it: 0 the root, n the n-th component)."""
    refs = [f"c{number}" for number in range(len(tree))]
    edges: dict[str, list[str]] = {"root": []}
    for number, (_, parent) in enumerate(tree):
        edges.setdefault(refs[parent - 1] if 0 < parent <= number else "root", []).append(refs[number])
    return json.dumps(
        {
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"component": {"type": "application", "name": "root", "bom-ref": "root"}},
            "components": [
                {"type": "library", "name": name, "version": "1", "bom-ref": ref}
                for (name, _), ref in zip(tree, refs, strict=True)
            ],
            "dependencies": [{"ref": ref, "dependsOn": on} for ref, on in edges.items()],
        }
    ).encode()  # fmt: skip


def _paths(tree: list[tuple[str, int]]) -> list[tuple[str, ...]] | None:
    """Each component's names from the root, canonical; None when two are the same."""
    paths: list[tuple[str, ...]] = []
    for number, (name, parent) in enumerate(tree):
        above = paths[parent - 1] if 0 < parent <= number else ()
        paths.append((*above, canonicalize_name(name)))
    return sorted(paths) if len(set(paths)) == len(paths) else None


@settings(max_examples=80, deadline=None)
@given_(_TREE, _TREE)
@example([("pip", 0), ("setuptools", 1)], [("pip", 0), ("pip/setuptools", 0)])
def test_diff_tells_a_name_with_a_slash_from_a_vendored_package(
    old: list[tuple[str, int]], new: list[tuple[str, int]]
) -> None:
    """A component named "pip/setuptools" under the root and setuptools vendored by pip were
    one key ("pip/setuptools"): diff said no change between the two."""
    left, right = _paths(old), _paths(new)
    if left is None or right is None:
        with pytest.raises(ContentError, match="cannot be told apart"):
            diff.compare(diff.loads(_tree_bom(old), "bom"), diff.loads(_tree_bom(new), "bom"))
        return
    difference = diff.compare(diff.loads(_tree_bom(old), "bom"), diff.loads(_tree_bom(new), "bom"))
    assert difference.empty == (left == right)


# diff: keyed by canonical name and place in the dependency graph ------------------------------


def spdx_document(
    *packages: tuple[str, str, str], depends: tuple[tuple[str, str], ...] = ()
) -> dict[str, Any]:
    """A whole SPDX document: (SPDXID suffix, name, version) packages, the first described."""
    return {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "demo",
        "documentNamespace": "https://example.invalid/demo",
        "packages": [
            {
                "SPDXID": f"SPDXRef-{i}",
                "name": name,
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
            }
            for i, name, version in packages
        ],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": f"SPDXRef-{packages[0][0]}",
            },
            *(
                {
                    "spdxElementId": f"SPDXRef-{a}",
                    "relationshipType": "DEPENDS_ON",
                    "relatedSpdxElement": f"SPDXRef-{b}",
                }
                for a, b in depends
            ),
        ],
    }


def test_finding_diff_PIP_and_pip_are_one_name(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps(spdx_document(("r", "demo", "1"), ("p", "PIP", "25.0"), depends=(("r", "p"),))))
    new.write_text(json.dumps(spdx_document(("r", "demo", "1"), ("p", "pip", "25.1"), depends=(("r", "p"),))))
    run = sbomgen("diff", old, new, "--json")
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["components"] == {
        "added": [],
        "removed": [],
        "changed": [{"component": "pip", "field": "version", "old": "25.0", "new": "25.1"}],
    }


def test_finding_diff_key_collision_is_an_error_naming_both(tmp_path: Path) -> None:
    doc = tmp_path / "collide.json"
    doc.write_text(
        json.dumps(
            spdx_document(
                ("r", "demo", "1"),
                ("a", "PIP", "25.0"),
                ("b", "pip", "24.0"),
                depends=(("r", "a"), ("r", "b")),
            )
        )
    )
    for args in (("diff", doc, doc), ("report", doc, "-o", "{out}")):
        refused(
            tmp_path,
            4,
            *args,
            fragments=(
                f"{doc}: the components 'PIP' (SPDXRef-a) and 'pip' (SPDXRef-b) are both known as 'pip'",
            ),
        )


def test_finding_diff_a_long_chain_of_dependencies_is_refused_in_one_line(tmp_path: Path) -> None:
    """A component is known by the names on its path from the root, each key a string of its
    own: a chain of 3,000 dependencies (200 KB) would take 3,000 keys of up to 40,000
    characters. A key longer than 1,024 characters is refused, naming the component."""
    chain = [(f"c{i}", f"component-{i}", "1") for i in range(3_000)]
    doc = tmp_path / "chain.json"
    depends = (("r", "c0"), *((f"c{i}", f"c{i + 1}") for i in range(len(chain) - 1)))
    doc.write_text(json.dumps(spdx_document(("r", "demo", "1"), *chain, depends=depends)))
    for args in (("diff", doc, doc), ("report", doc, "-o", "{out}")):
        refused(
            tmp_path,
            4,
            *args,
            fragments=(
                f"{doc}: the component 'component-79' (SPDXRef-c79) is known by its path from the root, "
                "and that is longer than 1,024 characters: component-0/component-1/",
            ),
        )


def test_finding_diff_keys_by_dependency_graph_not_by_nesting(tmp_path: Path) -> None:
    def bom(nested: bool) -> dict[str, Any]:
        urllib3 = {"type": "library", "bom-ref": "u", "name": "urllib3", "version": "2"}
        pip = {"type": "library", "bom-ref": "p", "name": "pip", "version": "25"}
        return {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "metadata": {
                "component": {"type": "application", "bom-ref": "r", "name": "demo", "version": "1"}
            },
            "components": [dict(pip, components=[urllib3])] if nested else [pip, urllib3],
            "dependencies": [{"ref": "r", "dependsOn": ["p"]}, {"ref": "p", "dependsOn": ["u"]}],
        }

    nested, flat = tmp_path / "nested.json", tmp_path / "flat.json"
    nested.write_text(json.dumps(bom(True)))
    flat.write_text(json.dumps(bom(False)))
    spdx = tmp_path / "spdx.json"
    spdx.write_text(
        json.dumps(
            spdx_document(
                ("r", "demo", "1"),
                ("p", "pip", "25"),
                ("u", "urllib3", "2"),
                depends=(("r", "p"), ("p", "u")),
            )
        )
    )
    for old, new in ((nested, flat), (spdx, flat), (spdx, nested)):
        run = sbomgen("diff", old, new, "--json")
        assert run.returncode == 0, run.stdout
    markdown = sbomgen("diff", spdx, tmp_path / "nested.json", "--markdown")
    assert markdown.returncode == 0


@pytest.fixture(scope="module")
def three_forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The SPDX, the nested CycloneDX and a flattened CycloneDX of Python-3.13.5.tar.xz."""
    folder = tmp_path_factory.mktemp("forms")
    spdx, nested, flat = folder / "a.spdx.json", folder / "a.cdx.json", folder / "a.flat.cdx.json"
    for path, fmt in ((spdx, "spdx-json"), (nested, "cyclonedx-json")):
        run = sbomgen("tarball", CPYTHON_313, "--offline", "-f", fmt, "-o", path)
        assert run.returncode == 0, run.stderr
    bom = json.loads(nested.read_text())
    everything: list[dict[str, Any]] = []

    def take(components: list[dict[str, Any]]) -> None:
        for component in components:
            everything.append({k: v for k, v in component.items() if k != "components"})
            take(component.get("components", []))

    take(bom["components"])
    take(bom["metadata"]["component"].pop("components", []))
    assert len(everything) > len(bom["components"])  # there was nesting to flatten
    bom["components"] = everything
    flat.write_text(json.dumps(bom))
    return {"spdx": spdx, "nested": nested, "flat": flat}


@pytest.mark.parametrize(
    ("old", "new"), [("spdx", "nested"), ("spdx", "flat"), ("nested", "flat"), ("flat", "spdx")]
)
def test_finding_diff_of_one_artifact_in_three_forms_is_empty(
    three_forms: dict[str, Path], old: str, new: str
) -> None:
    run = sbomgen("diff", three_forms[old], three_forms[new], "--json", "--files")
    assert run.returncode == 0, run.stdout
    result = json.loads(run.stdout)
    assert result["components"] == {"added": [], "removed": [], "changed": []}
    assert result["files"]["added"] == result["files"]["removed"] == result["files"]["changed"] == 0


def test_three_forms_name_vendored_packages_by_what_vendors_them(three_forms: dict[str, Path]) -> None:
    from sbomgen.workflows.diff import load

    keys = {form: set(load(path).components) for form, path in three_forms.items()}
    assert keys["spdx"] == keys["nested"] == keys["flat"]
    assert {"cpython", "pip", "pip/urllib3", "pip/setuptools", "expat"} <= keys["spdx"]


def test_rich_markup_in_a_version_is_shown_as_text_by_diff(tmp_path: Path) -> None:
    """A version of "[/x]" made the table renderer raise (a traceback, exit 1)."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(spdx_document(("r", "demo", "1"), ("p", "x", "[/x]"), depends=(("r", "p"),))))
    new.write_text(
        json.dumps(spdx_document(("r", "demo", "1"), ("p", "x", "[bold]2"), depends=(("r", "p"),)))
    )
    run = sbomgen("diff", old, new)
    assert run.returncode == 1, run.stderr
    assert run.stderr == ""
    assert "[/x]" in run.stdout.decode() and "[bold]2" in run.stdout.decode()


def test_a_pep770_cyclonedx_xml_sbom_is_read(tmp_path: Path) -> None:
    carried = (
        b'<?xml version="1.0" encoding="UTF-8"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5">'
        b'<components><component type="library"><name>zlib</name><version>1.3.1</version>'
        b"<purl>pkg:generic/zlib@1.3.1</purl></component></components></bom>"
    )
    out = tmp_path / "demo.spdx.json"
    run = sbomgen("wheel", pep770_wheel(tmp_path, carried), "-o", out)
    assert run.returncode == 0, run.stderr
    packages = {p["name"]: p.get("versionInfo") for p in json.loads(out.read_text())["packages"]}
    assert packages == {"demo": "1.0", "zlib": "1.3.1"}


def test_cyclonedx_xml_reads_as_the_same_model_as_json(tmp_path: Path) -> None:
    tree = cpython_tree()
    tree["Misc/sbom.spdx.json"] = sbom_data({"Python/ceval.c": tree["Python/ceval.c"]})
    artifact = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    outputs = {}
    for fmt in ("spdx-json", "cyclonedx-json", "cyclonedx-xml"):
        outputs[fmt] = tmp_path / f"out.{fmt}"
        assert sbomgen("tarball", artifact, "-f", fmt, "-o", outputs[fmt]).returncode == 0
    for old, new in (("cyclonedx-json", "cyclonedx-xml"), ("spdx-json", "cyclonedx-xml")):
        run = sbomgen("diff", outputs[old], outputs[new], "--json", "--files")
        assert run.returncode == 0, run.stdout
    from sbomgen.workflows.diff import load

    assert load(outputs["cyclonedx-xml"]) == load(outputs["cyclonedx-json"])


def test_a_package_with_files_pip_is_said_to_depend_on_stays(tmp_path: Path) -> None:
    """Misc's pip and the packages it depends on give way to the bundled wheel (those pip
    vendors hold no files of the tree); a package that holds some is CPython's own, whatever
    the data says pip depends on: it and the check of its files stay."""
    document = misc_sbom()
    document["packages"].append(dict(document["packages"][0], SPDXID="SPDXRef-PACKAGE-pip", name="pip"))
    document["relationships"].append(
        {
            "spdxElementId": "SPDXRef-PACKAGE-pip",
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": "SPDXRef-PACKAGE-expat",
        }
    )
    artifact = tarball_with_misc_sbom(tmp_path, json.dumps(document).encode())
    out = tmp_path / "out.json"
    run = sbomgen("tarball", artifact, "-o", out, "-qq")
    assert run.returncode == 0, run.stderr
    names = sorted(p["name"] for p in json.loads(out.read_text())["packages"])
    assert names == ["CPython", "expat", "pip", "requests"]  # pip the bundled wheel's
