"""``validate`` reads YAML, XML and RDF through the gate, and prints no raw value: findings of
the gate review (YAML aliases, XML behind a BOM, escapes in messages, the relationship kind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, cpython_tree, sbomgen, write_tar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbomgen.errors import SbomgenError
from sbomgen.workflows.validate import NOT_VALIDATED, outcome, validate_file

DOCUMENT: dict[str, Any] = {
    "SPDXID": "SPDXRef-DOCUMENT",
    "spdxVersion": "SPDX-2.3",
    "name": "x",
    "dataLicense": "CC0-1.0",
    "documentNamespace": "https://example.com/x",
    "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: x"]},
    "packages": [
        {"SPDXID": "SPDXRef-P", "name": "p", "downloadLocation": "NOASSERTION", "filesAnalyzed": False}
    ],
    "relationships": [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-P",
        }
    ],
}
BOM = b"\xef\xbb\xbf"
DTD = (
    b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE rdf:RDF [<!ENTITY ent "ENTITY-EXPANDED">'
    b'<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
)


def written(tmp_path: Path, name: str, document: dict[str, Any] = DOCUMENT) -> Path:
    """``document`` written by spdx-tools in the format ``name`` ends with."""
    from spdx_tools.spdx.parser.json.json_parser import JsonLikeDictParser
    from spdx_tools.spdx.writer.write_anything import write_file

    path = tmp_path / name
    write_file(JsonLikeDictParser().parse(document), str(path), validate=False)
    return path


def refused(run: Run, path: Path, fragment: str) -> None:
    """Exit 4, one line on stderr naming ``path`` and ``fragment``, nothing on stdout."""
    assert run.returncode == 4, run.stderr
    assert run.stderr.splitlines() == [f"sbomgen: error: {path}: {fragment}"], run.stderr
    assert run.stdout == b""


def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [" + ",".join(['"xxxxxxxx"'] * 10) + "]"]
    lines += [f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 10) + "]" for k in range(1, levels)]
    head = {key: json.dumps(value) for key, value in DOCUMENT.items() if key != "name"}
    lines += [f"{key}: {value}" for key, value in head.items()]
    return "\n".join([*lines, f"name: *a{levels - 1}"]) + "\n"


def test_finding_yaml_aliases_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.spdx.yaml"
    path.write_text(alias_bomb(8))  # a billion values if the aliases were followed
    refused(sbomgen("validate", path), path, "a YAML alias at line 2 (aliases are not read)")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: " + "[" * 70 + "]" * 70, "nested more than 64 levels deep"),
        ("a: " + "1" * 5000, "a number of 5000 characters (at most 40)"),
        ("a: 1\nb: 2\na: 3", "the key 'a' appears twice in one mapping"),
        (
            "a: !!python/object:os.system x",
            "a YAML tag at line 1 ('tag:yaml.org,2002:python/object:os.system'; tags are not read)",
        ),
        ("a: 2024-02-30", "not YAML (day is out of range for month)"),
        (
            "a: !!timestamp 2024-13-99 x",
            "a YAML tag at line 1 ('tag:yaml.org,2002:timestamp'; tags are not read)",
        ),
        ("a: [", "not YAML ("),  # libyaml's words or PyYAML's
    ],
)
def test_finding_yaml_within_the_gate_limits(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "x.spdx.yaml"
    path.write_text(text)
    with pytest.raises(SbomgenError) as caught:
        validate_file(path)
    assert caught.value.exit_code == 4
    assert str(caught.value).startswith(f"{path}: {fragment}"), str(caught.value)


@pytest.mark.parametrize("name", ["x.rdf.xml", "x.spdx.xml", "x.xml"])
def test_finding_xml_behind_a_bom_with_a_dtd_is_refused(tmp_path: Path, name: str) -> None:
    good = written(tmp_path, "good.rdf.xml" if "rdf" in name else "good.spdx.xml")
    body = good.read_bytes().split(b"?>", 1)[1].replace(b"x</", b"&ent;</", 1)
    path = tmp_path / name
    path.write_bytes(BOM + DTD + body)
    refused(sbomgen("validate", path), path, "refused: the XML has a DTD or entities (DTDForbidden)")


@pytest.mark.parametrize("name", ["good.rdf.xml", "good.spdx.xml", "good.spdx.yaml", "good.spdx.json"])
def test_finding_spdx_rdf_xml_and_yaml_are_validated(tmp_path: Path, name: str) -> None:
    path = written(tmp_path, name)
    path.write_bytes(BOM + path.read_bytes() if name.endswith(".xml") else path.read_bytes())
    run = sbomgen("validate", path)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.decode() == f"{path}: valid SPDX 2.3\n"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (b'xmlns:spdx="http://spdx.org/rdf/terms#"', "0 SpdxDocument elements (exactly one is read)"),
        (b'rdf:about="https://example.com/x#SPDXRef-DOCUMENT"', "the SpdxDocument's URI is not a namespace"),
    ],
)
def test_finding_rdf_without_one_document_node(tmp_path: Path, change: bytes, fragment: str) -> None:
    # spdx-tools would log to stderr and call sys.exit(1)
    path = written(tmp_path, "x.rdf.xml")
    replacement = (
        b'xmlns:spdx="http://example.com/"' if b"xmlns" in change else b'rdf:about="https://example.com/x"'
    )
    path.write_bytes(path.read_bytes().replace(change, replacement))
    run = sbomgen("validate", path)
    assert run.returncode == 4, run.stderr
    assert run.stderr.splitlines()[0].startswith(f"sbomgen: error: {path}: {fragment}"), run.stderr
    assert len(run.stderr.splitlines()) == 1 and run.stdout == b""


def test_finding_xml_of_no_known_kind(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_bytes(BOM + b"<html/>")
    refused(sbomgen("validate", path), path, "not a CycloneDX XML document (root element 'html')")


def test_finding_escapes_and_newlines_in_validate_messages(tmp_path: Path) -> None:
    hostile = "SPDXRef-\x1b]0;pwned\x07\x1b[2J\x1b[31mFAKE\u202e\nforged line"
    document = json.loads(json.dumps(DOCUMENT))
    document["packages"][0]["SPDXID"] = hostile
    paths = [tmp_path / "esc.spdx.json", tmp_path / "esc.spdx.yaml", tmp_path / "nl.cdx.xml"]
    paths[0].write_text(json.dumps(document))
    paths[1].write_text(json.dumps(document))  # YAML reads JSON
    paths[2].write_text(
        '<?xml version="1.0" encoding="UTF-8"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">'
        '<components><component type="library"><name>x</name><hashes><hash alg="SHA-1">zz\n'
        "forged: valid\u202e</hash></hashes></component></components></bom>"
    )
    run = sbomgen("validate", *paths)
    assert run.returncode == 1, run.stderr
    out = run.stdout.decode()
    assert not {"\x1b", "\x07", "\u202e"} & set(out)
    lines = out.splitlines()
    # per file: the INVALID line and one line per problem, no line more
    assert [line.split(":")[0] for line in lines] == [
        str(paths[0]),
        *[f"  {paths[0]}"] * 2,
        str(paths[1]),
        *[f"  {paths[1]}"] * 2,
        str(paths[2]),
        f"  {paths[2]}",
    ], out
    assert "SPDXRef-\\u001b]0;pwned\\u0007\\u001b[2J\\u001b[31mFAKE\\u202e\\u000aforged line" in lines[1]
    assert "zz forged: valid\\u202e" in lines[-1]  # lxml writes the newline as a space


def test_finding_invalid_relationship_keeps_the_document_kind(tmp_path: Path) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    document["relationships"][0]["relatedSpdxElement"] = "SPDXRef-Q"
    path = tmp_path / "r.spdx.json"
    path.write_text(json.dumps(document))
    run = sbomgen("validate", path)
    assert run.returncode == 1
    assert run.stdout.decode().splitlines()[0] == f"{path}: INVALID SPDX 2.3 (1 problem(s))"


def test_release_manifest_is_validated_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "3.99.0"
    folder.mkdir()
    write_tar(folder / "Python-3.99.0.tgz", cpython_tree())
    made = sbomgen("release", folder, "--builder-id", "https://ci.example.org/release", "--offline")
    assert made.returncode == 0, made.stderr
    path = folder / "release-manifest.json"
    run = sbomgen("validate", path)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.decode() == f"{path}: valid sbomgen release manifest\n"

    manifest = json.loads(path.read_text())
    manifest["files"][0]["size"] = -1
    path.write_text(json.dumps(manifest))
    run = sbomgen("validate", path)
    assert run.returncode == 1, run.stderr
    assert run.stdout.decode().splitlines() == [
        f"{path}: INVALID sbomgen release manifest (1 problem(s))",
        f"  {path}: files[0].size: Input should be greater than or equal to 0",
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("empty.json", "{}"),
        ("list.json", "[1, 2]"),
        ("null.json", "null"),
        ("string.json", '"an SBOM"'),
        ("other-bom.json", '{"bomFormat": "Other", "components": []}'),
        ("package.json", '{"name": "x", "version": "1.0", "packages": []}'),
        ("x.spdx.yaml", "name: x\npackages: []\n"),
    ],
)
def test_document_of_an_unknown_kind_is_said_so_in_one_line(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert outcome(path) == (False, [f"{path}: {NOT_VALIDATED}"])
    run = sbomgen("validate", path)
    assert (run.returncode, run.stderr) == (1, "")
    assert run.stdout.decode() == f"{path}: {NOT_VALIDATED}\n"


def many(kind: str, n: int) -> dict[str, Any]:
    """A document of ``n`` files, each with an annotation, a snippet or an extracted licence."""
    sha1 = [{"algorithm": "SHA1", "checksumValue": "a" * 40}]
    files = [{"SPDXID": f"SPDXRef-F{i}", "fileName": f"./f{i}", "checksums": sha1} for i in range(n)]
    document = {
        **DOCUMENT,
        "packages": [],
        "relationships": [],
        "documentDescribes": ["SPDXRef-F0"],
        "files": files,
    }
    annotation = {"annotator": "Tool: x", "annotationDate": "2024-01-01T00:00:00Z", "annotationType": "OTHER"}
    for i, file in enumerate(files):
        if kind == "annotations":
            file["annotations"] = [{**annotation, "comment": "c"}]
        elif kind == "snippets":
            pointer = {"offset": 1, "reference": f"SPDXRef-F{i}"}
            ranges = [{"startPointer": pointer, "endPointer": {**pointer, "offset": 2}}]
            document.setdefault("snippets", []).append(
                {"SPDXID": f"SPDXRef-S{i}", "snippetFromFile": f"SPDXRef-F{i}", "ranges": ranges}
            )
        else:
            file["licenseConcluded"] = f"LicenseRef-{i}"
            document.setdefault("hasExtractedLicensingInfos", []).append(
                {"licenseId": f"LicenseRef-{i}", "extractedText": "t"}
            )
    return document


@pytest.mark.parametrize("kind", ["annotations", "snippets", "licenses"])
def test_finding_quadratic_spdx_checks(tmp_path: Path, kind: str) -> None:
    # 20,000 of each took 60 to 100 s when every one was checked against the whole document
    path = tmp_path / "many.spdx.json"
    path.write_text(json.dumps(many(kind, 20_000)))
    run = sbomgen("validate", path, cpu_seconds=30)
    assert (run.returncode, run.stdout.decode(), run.stderr) == (0, f"{path}: valid SPDX 2.3\n", "")


# Property test: structure-aware hostile YAML and XML through validate's in-process path.

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(
        ["SPDX-2.3", "SPDXRef-DOCUMENT", "NOASSERTION", "2024-01-01T00:00:00Z", "DESCRIBES", "CC0-1.0"]
    )
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
)
YAML_SNIPPETS = [
    "&a ",
    "*a ",
    "!!python/name:os.system ",
    "<<: *a\n",
    "? [x]\n: y\n",
    "--- ",
    "%TAG ! x\n",
    "!!binary ",
    "!!timestamp 2024-13-99 ",
    "1" * 50,
    "{",
    "[",
    "\t",
    "\x85",
    "\ufeff",
    "a: b: c",
]


@st.composite
def hostile_yaml(draw: st.DrawFn) -> bytes:
    document = {**DOCUMENT, **draw(st.dictionaries(st.sampled_from(sorted(DOCUMENT)), values, max_size=3))}
    text = json.dumps(document, indent=draw(st.sampled_from([None, 1])))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(YAML_SNIPPETS) | st.text(max_size=4)) + text[at:]
    return text.encode("utf-8", "surrogatepass")


XML_SNIPPETS = [
    b"<!DOCTYPE x>",
    b'<!ENTITY e "x">',
    b"&e;",
    b"&#0;",
    b"<![CDATA[x]]>",
    b"<?pi x?>",
    BOM,
    b'<?xml version="1.0" encoding="UTF-16"?>',
    b"<rdf:RDF>",
    b"</Document>",
    b"\xff",
    b"<a>" * 70,
]


@st.composite
def hostile_xml(draw: st.DrawFn, good: dict[str, bytes]) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(good)))
    data = good[name]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 8))
        data = data[:at] + draw(st.sampled_from(XML_SNIPPETS) | st.binary(max_size=4)) + data[at + cut :]
    return name, data


def assert_only_input_errors(path: Path) -> None:
    try:
        validate_file(path)
    except SbomgenError as exc:
        assert exc.exit_code == 4, exc


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hostile_yaml())
def test_property_hostile_yaml_through_validate(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "p.spdx.yaml"
    path.write_bytes(data)
    assert_only_input_errors(path)


@pytest.fixture(scope="module")
def good_xml(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("good")
    return {name: written(folder, name).read_bytes() for name in ("g.rdf.xml", "g.spdx.xml")}


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_property_hostile_xml_through_validate(
    tmp_path: Path, good_xml: dict[str, bytes], data: st.DataObject
) -> None:
    name, content = data.draw(hostile_xml(good_xml))
    path = tmp_path / name
    path.write_bytes(content)
    assert_only_input_errors(path)


@pytest.mark.parametrize(
    "about", ["https://example.com/x#SPDXRef-DOCUMENT", "https://example.com/x#SPDXRef-P"]
)
def test_an_rdf_uri_that_does_not_split_is_an_input_error(
    tmp_path: Path, good_xml: dict[str, bytes], about: str
) -> None:
    """ "https://[host" (an unclosed IPv6 bracket) made urllib raise inside the RDF reader."""
    content = good_xml["g.rdf.xml"].replace(
        f'rdf:about="{about}"'.encode(), f'rdf:about="{about.replace("//", "//[", 1)}"'.encode()
    )
    assert content != good_xml["g.rdf.xml"]
    path = tmp_path / "x.rdf.xml"
    path.write_bytes(content)
    with pytest.raises(SbomgenError, match="is not a URI") as raised:
        validate_file(path)
    assert raised.value.exit_code == 4


_DOCUMENTS = {
    "bom.spdx": b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\n",
    "bom.spdx.yaml": b"spdxVersion: SPDX-2.3\nname: x\n",
    "bom.rdf.xml": b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><x/></rdf:RDF>',
    "bom.cdx.xml": b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components/></bom>',
    "bom.json": b'{"spdxVersion": "SPDX-2.3", "name": "x"}',
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(_DOCUMENTS)), st.data())
def test_a_document_not_in_utf_8_is_refused_in_every_serialisation(
    tmp_path: Path, name: str, data: st.DataObject
) -> None:
    """A byte no UTF-8 text has, anywhere in the document: one line naming it (exit 4); a
    tag-value document crashed the decoder (exit 5)."""
    text = _DOCUMENTS[name]
    at = data.draw(st.integers(0, len(text)))
    path = tmp_path / name
    path.write_bytes(text[:at] + b"\xe9" + text[at:])
    with pytest.raises(SbomgenError) as refused:
        validate_file(path)
    assert refused.value.exit_code == 4
    assert str(refused.value).startswith(f"{path}: ") and "UTF-8" in str(refused.value), refused.value


_TAG_VALUE_PIECES = [
    "DataLicense: CC0-1.0\n",
    "  DataLicense: CC0-1.0\n",
    "# DataLicense: CC0-1.0\n",
    "DocumentComment: <text>",
    "</text>\n",
    "DataLicense: CC0-1.0\n",  # within a block where one is open
    "made by hand\n",
    "PackageName: DataLicense: x\n",
    "\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TAG_VALUE_PIECES), max_size=12))
def test_a_data_license_is_found_where_spdx_tools_reads_the_tag(pieces: list[str]) -> None:
    """Only a DataLicense tag counts, not one a comment's <text> block holds: what spdx-tools'
    lexer reads as the tag (its model would assume CC0-1.0 when there is none)."""
    from spdx_tools.spdx.parser.tagvalue.lexer import SPDXLexer

    from sbomgen.workflows.validate import _has_data_license

    text, open_block = "", False
    for piece in pieces:
        if piece == "</text>\n" and not open_block:
            continue  # the lexer reads a stray closing marker otherwise; both are refused
        open_block = (open_block or piece.endswith("<text>")) and piece != "</text>\n"
        text += piece
    if open_block:
        text += "</text>\n"
    lexer = SPDXLexer()
    lexer.build()
    lexer.input(text)
    tokens = iter(lexer.token, None)
    assert _has_data_license(text) == any(token.type == "DOC_LICENSE" for token in tokens), text


def test_blank_lines_before_any_tag_cost_no_memory_per_line(tmp_path: Path) -> None:
    """Reading past blank and comment lines to the first tag held memory for each line as a
    regular expression's repetition (8 MB of them: MemoryError, exit 5, under 1.5 GB)."""
    import tracemalloc

    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n" * 500_000 + b"# a comment\n" * 100_000)
    tracemalloc.start()
    try:
        found = validate_file(blank)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == ("SPDX", [f"parsing: Unsupported SPDX file type: {blank}"])
    assert peak < 20 * blank.stat().st_size, peak


_TAG_VALUE_LINES = ["", " \t", "# c", "  # c", "\r", "SPDXVersion: 2.3", " SPDXVersion: x", "DataLicense: x"]


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(st.sampled_from(_TAG_VALUE_LINES), max_size=8), st.booleans())
def test_tag_value_is_told_by_its_first_tag(bom: bool, lines: list[str], ends: bool) -> None:
    from sbomgen.workflows.validate import _is_tag_value

    content = (b"\xef\xbb\xbf" if bom else b"") + "\n".join(lines).encode() + (b"\n" if ends else b"")
    tags = (line.lstrip(" \t") for line in lines)
    first = next((tag for tag in tags if tag not in ("", "\r") and not tag.startswith("#")), "")
    assert _is_tag_value(content) == first.startswith("SPDXVersion:"), content
