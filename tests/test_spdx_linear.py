"""sbomgen's linear stand-ins for quadratic parts of spdx-tools say what spdx-tools says:
the full-document validator (message for message, of valid and invalid documents), the JSON
converter, the tag-value writer, the JSON parser's relationships and the tag-value parser;
and they stay linear where spdx-tools' are quadratic (checked under a CPU-time limit, never
a clock)."""

from __future__ import annotations

import datetime
import io
import resource
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Annotation,
    AnnotationType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalDocumentRef,
    ExtractedLicensingInfo,
    File,
    Package,
    PackageVerificationCode,
    Relationship,
    RelationshipType,
    Snippet,
    SpdxNoAssertion,
    SpdxNone,
)
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.relationship_parser import RelationshipParser
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.parser.tagvalue.parser import Parser as TagValueParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document as spdx_tools_tag_value

from sbomgen.workflows.validate import json_like_dict_parser, tag_value_parser
from sbomgen.write.spdx import _converter
from sbomgen.write.spdx_tagvalue import write_document as write_tag_value
from sbomgen.write.spdx_validation import validate_document

ROOT = Path(__file__).resolve().parents[1]
RELEASE_TOOLS = ROOT.parent / "shared/data/cpython/Python-3.13.5.tar.xz.release-tools.spdx.json"
WHEN = datetime.datetime(2025, 1, 1)
SHA1 = "0123456789abcdef0123456789abcdef01234567"

# Few values, so that elements name each other, clash and miss one another often.
ids = st.sampled_from(
    ["SPDXRef-a", "SPDXRef-b", "SPDXRef-c", "SPDXRef-DOCUMENT", "DocumentRef-x:SPDXRef-a",
     "DocumentRef-z:SPDXRef-b", "SPDXRef-not valid", "a:b:c"]
)  # fmt: skip
ends = ids | st.sampled_from([SpdxNone(), SpdxNoAssertion()])
EXPRESSIONS = [
    "MIT", "LicenseRef-a", "LicenseRef-b+", "MIT AND LicenseRef-c", "(LicenseRef-a OR Apache-2.0)",
    "DocumentRef-x:LicenseRef-a", "DocumentRef-z:LicenseRef-q", "GPL-2.0-only WITH Classpath-exception-2.0",
    "MIT WITH MIT", "a:b:LicenseRef-c",
]  # fmt: skip
licenses = st.sampled_from([*map(spdx_licensing.parse, EXPRESSIONS), SpdxNoAssertion(), SpdxNone(), None])
relationship_types = st.sampled_from(
    [RelationshipType.CONTAINS, RelationshipType.CONTAINED_BY, RelationshipType.DESCRIBES,
     RelationshipType.DESCRIBED_BY, RelationshipType.DEPENDS_ON, RelationshipType.SPECIFICATION_FOR]
)  # fmt: skip


@st.composite
def packages(draw: Any) -> Package:
    analyzed = draw(st.booleans())
    return Package(
        spdx_id=draw(ids),
        name="p",
        download_location=draw(
            st.sampled_from([SpdxNoAssertion(), "https://example.org/p.tar.gz", "no url"])
        ),
        files_analyzed=analyzed,
        verification_code=draw(
            st.sampled_from([None, PackageVerificationCode(SHA1), PackageVerificationCode("x")])
        ),
        license_concluded=draw(licenses),
        license_declared=draw(licenses),
        license_info_from_files=draw(st.lists(licenses.filter(lambda v: v is not None), max_size=2)),
        primary_package_purpose=None,
    )


@st.composite
def files(draw: Any) -> File:
    return File(
        name=draw(st.sampled_from(["a.c", "/a.c"])),
        spdx_id=draw(ids),
        checksums=draw(
            st.sampled_from(
                [[Checksum(ChecksumAlgorithm.SHA1, SHA1)], [], [Checksum(ChecksumAlgorithm.SHA1, "x")]]
            )
        ),
        license_concluded=draw(licenses),
        license_info_in_file=draw(st.lists(licenses.filter(lambda v: v is not None), max_size=2)),
    )


@st.composite
def snippets(draw: Any) -> Snippet:
    return Snippet(
        spdx_id=draw(ids),
        file_spdx_id=draw(ids),
        byte_range=draw(st.sampled_from([(1, 2), (3, 1)])),
        license_concluded=draw(licenses),
        license_info_in_snippet=draw(st.lists(licenses.filter(lambda v: v is not None), max_size=2)),
    )


@st.composite
def documents(draw: Any) -> Document:
    references = [
        ExternalDocumentRef(name, "https://example.org/doc", Checksum(ChecksumAlgorithm.SHA1, SHA1))
        for name in draw(st.lists(st.sampled_from(["DocumentRef-x", "DocumentRef-y", "bad"]), max_size=2))
    ]
    creation = CreationInfo(
        spdx_version=draw(st.sampled_from(["SPDX-2.3", "SPDX-2.3", "SPDX-2.2", "SPDX-2.1"])),
        spdx_id=draw(st.sampled_from(["SPDXRef-DOCUMENT", "SPDXRef-DOCUMENT", "SPDXRef-a"])),
        name="d",
        document_namespace="https://example.org/d",
        creators=[Actor(ActorType.TOOL, "t")],
        created=WHEN,
        external_document_refs=references,
    )
    relationships = [
        Relationship(draw(ids), draw(relationship_types), draw(ends)) for _ in range(draw(st.integers(0, 6)))
    ]
    annotations = [
        Annotation(draw(ids), AnnotationType.OTHER, Actor(ActorType.TOOL, "t"), WHEN, "c")
        for _ in range(draw(st.integers(0, 2)))
    ]
    extracted = [
        ExtractedLicensingInfo(license_id=name, extracted_text="text", license_name="n")
        for name in draw(
            st.lists(st.sampled_from(["LicenseRef-a", "LicenseRef-b", "LicenseRef-c", "bad"]), max_size=3)
        )
    ]
    return Document(
        creation,
        packages=draw(st.lists(packages(), max_size=4)),
        files=draw(st.lists(files(), max_size=4)),
        snippets=draw(st.lists(snippets(), max_size=2)),
        annotations=annotations,
        relationships=relationships,
        extracted_licensing_info=extracted,
    )


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")  # beartype
SOME = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@SOME
@given(documents(), st.sampled_from([None, "SPDX-2.3", "SPDX-2.2"]))
def test_the_same_messages_as_spdx_tools(document: Document, version: str | None) -> None:
    assert validate_document(document, version) == validate_full_spdx_document(document, version)


def test_the_same_verdict_on_a_real_document() -> None:
    """CPython's release tooling's SBOM, which spdx-tools' validator accepts (its own takes
    seconds to say so)."""
    assert validate_document(parse_file(str(RELEASE_TOOLS))) == []


def test_the_same_messages_on_a_package_containing_files_it_did_not_analyse() -> None:
    creation = CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", "d", "https://example.org/d", [], WHEN)
    document = Document(
        creation,
        packages=[Package("SPDXRef-p", "p", SpdxNoAssertion(), files_analyzed=False)],
        files=[File("a.c", "SPDXRef-f", [Checksum(ChecksumAlgorithm.SHA1, SHA1)])],
        relationships=[
            Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-p"),
            Relationship("SPDXRef-p", RelationshipType.CONTAINS, "SPDXRef-f"),
            Relationship("SPDXRef-f", RelationshipType.CONTAINED_BY, "SPDXRef-p"),
        ],
    )
    messages = validate_document(document)
    assert messages == validate_full_spdx_document(document)
    assert [m.validation_message.split(",")[0] for m in messages] == [
        "package must contain no elements if files_analyzed is False"
    ]


@SOME
@given(documents())
def test_the_same_json_as_spdx_tools_converter(document: Document) -> None:
    assert _converter().convert(document) == DocumentConverter().convert(document)


def outcome(write: Any, document: Document) -> str:
    stream = io.StringIO()
    try:
        write(document, stream)
    except Exception as exc:  # the same failure, or the same text
        return f"{type(exc).__name__}: {exc}"
    return stream.getvalue()


@SOME
@given(documents())
def test_the_same_tag_value_as_spdx_tools_writer(document: Document) -> None:
    assert outcome(write_tag_value, document) == outcome(spdx_tools_tag_value, document)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(documents())
def test_the_same_document_from_tag_value_as_spdx_tools_parser(document: Document) -> None:
    text = outcome(spdx_tools_tag_value, document)

    def parsed(parser: Any) -> Any:
        try:
            return parser.parse(text)
        except SPDXParsingError as exc:
            return exc.get_messages()

    assert parsed(tag_value_parser()) == parsed(TagValueParser())


relationship_dicts = st.fixed_dictionaries(
    {
        "spdxElementId": st.sampled_from(["SPDXRef-DOCUMENT", "SPDXRef-a", "SPDXRef-b"]),
        "relationshipType": st.sampled_from(["DESCRIBES", "DESCRIBED_BY", "CONTAINS", "CONTAINED_BY"]),
        "relatedSpdxElement": st.sampled_from(["SPDXRef-DOCUMENT", "SPDXRef-a", "SPDXRef-b", "NONE"]),
    },
    optional={"comment": st.sampled_from(["c", ""])},
)


@SOME
@given(
    st.lists(relationship_dicts, max_size=6),
    st.lists(st.sampled_from(["SPDXRef-a", "SPDXRef-b", "SPDXRef-DOCUMENT", "NONE"]), max_size=3),
    st.lists(
        st.lists(st.sampled_from(["SPDXRef-a", "SPDXRef-b", "SPDXRef-DOCUMENT"]), max_size=3), max_size=2
    ),
)
def test_the_same_relationships_as_spdx_tools_parser(
    relationships: list[dict[str, str]], describes: list[str], has_files: list[list[str]]
) -> None:
    shape = {"SPDXID": "SPDXRef-DOCUMENT", "relationships": relationships, "documentDescribes": describes}
    shape["packages"] = [{"SPDXID": f"SPDXRef-p{i}", "hasFiles": f} for i, f in enumerate(has_files)]

    def parsed(parser: Any) -> Any:
        try:
            return parser.parse_all_relationships(shape)
        except SPDXParsingError as exc:
            return exc.get_messages()

    ours = json_like_dict_parser().relationship_parser
    assert parsed(ours) == parsed(RelationshipParser())


def test_linear_where_spdx_tools_is_quadratic() -> None:
    """5,000 packages, each depending on the next, containing nothing, annotated thrice, and
    5,000 files also listed in ``hasFiles``: spdx-tools' validator, converter, JSON parser
    and tag-value parser each take a minute or more of CPU on it; here seconds for all, the
    tag-value writer too."""
    script = textwrap.dedent(
        """
        import datetime, io, json
        from spdx_tools.common.spdx_licensing import spdx_licensing
        from spdx_tools.spdx.model import *
        from sbomgen.workflows.validate import json_like_dict_parser, tag_value_parser
        from sbomgen.write.spdx import _converter
        from sbomgen.write.spdx_tagvalue import write_document
        from sbomgen.write.spdx_validation import validate_document

        count, when = 5_000, datetime.datetime(2025, 1, 1)
        ids = [f"SPDXRef-p{i}" for i in range(count)]
        tool = Actor(ActorType.TOOL, "t")
        creation = CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", "d", "https://example.org/d", [tool], when)
        relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, ids[0])]
        relationships += [Relationship(a, RelationshipType.DEPENDS_ON, b) for a, b in zip(ids, ids[1:])]
        relationships += [Relationship(i, RelationshipType.CONTAINS, "SPDXRef-DOCUMENT") for i in ids]
        file_ids = [f"SPDXRef-f{i}" for i in range(count)]
        relationships += [Relationship(ids[0], RelationshipType.CONTAINS, f) for f in file_ids]
        sha1 = [Checksum(ChecksumAlgorithm.SHA1, "0" * 40)]
        unanalysed = dict(files_analyzed=False, license_concluded=spdx_licensing.parse("MIT"))
        document = Document(
            creation,
            packages=[Package(i, "p", SpdxNoAssertion(), **unanalysed) for i in ids],
            files=[File(f"f{i}.c", f, sha1) for i, f in enumerate(file_ids)],
            relationships=relationships,
            annotations=[Annotation(i, AnnotationType.OTHER, tool, when, c) for c in "abc" for i in ids],
        )
        document.packages[0].files_analyzed = True
        document.packages[0].verification_code = PackageVerificationCode("0" * 40)
        assert validate_document(document) == []
        as_json = _converter().convert(document)
        assert len(as_json["packages"]) == count
        tag_value = io.StringIO()
        write_document(document, tag_value)
        assert len(tag_value_parser().parse(tag_value.getvalue()).packages) == count
        as_json["packages"][0]["hasFiles"] = file_ids
        as_json["documentDescribes"] = ids[:count]
        assert len(json_like_dict_parser().parse(as_json).relationships) == 3 * count + count - 1
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (30, 30)),
    )
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_tag_value_of_an_inventory_as_spdx_tools_writes_its_whole_document() -> None:
    """Files written through the template, under each package that CONTAINS them (once,
    then as a relationship), the rest before the packages: as spdx-tools' writer writes
    the document holding every file as a model object."""
    from sbomgen.model import Artifact, Checksum, Component, Dependency, FileEntry, Inventory
    from sbomgen.write.spdx import SpdxWriter

    sha1, sha256 = Checksum("SHA1", SHA1), Checksum("SHA256", "ab" * 32)
    files = (
        FileEntry("b/shared.c", 1, (sha1, sha256)),
        FileEntry("a/100% loose.txt", 2, (sha1,)),
        FileEntry("z/only-root.h", 3, (sha1, sha256)),
        FileEntry("Lib/@1@.py", 4, (sha1,)),
    )
    root = Component("cpython", "CPython", "3.99.0", files=("z/only-root.h", "b/shared.c"))
    vendored = Component("lib", "lib", "1.0", files=("b/shared.c", "Lib/@1@.py"))
    inventory = Inventory(
        artifact=Artifact("Python-3.99.0.tgz", 1, ()),
        root="cpython",
        components=(root, vendored),
        files=files,
        dependencies=(Dependency("cpython", "lib"),),
        created=WHEN,
    )
    expected = io.StringIO()
    document = SpdxWriter().build(inventory)
    assert validate_document(document) == []
    spdx_tools_tag_value(document, expected)
    written = SpdxWriter().render_tag_value(inventory).decode()
    assert written == expected.getvalue()
    assert written.count("## File Information") == 4
    assert written.count(" CONTAINS ") == 1  # b/shared.c, written under CPython, again under lib
    assert "Relationship: SPDXRef-PACKAGE-lib CONTAINS SPDXRef-FILE-b-shared.c\n" in written
