"""Property tests: the parsers of untrusted input raise nothing but sbomgen's own errors.

10,000 examples each (the ``slow`` marker; ``.ci/run`` runs them).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbomgen.documents.index import read_project
from sbomgen.enrich.index import IndexResponseError
from sbomgen.enrich.lookup import release_data
from sbomgen.errors import ArchiveError, ContentError, EnrichmentError
from sbomgen.read.archive import ArchiveReader, split_path
from sbomgen.read.tar import DIRECTORY, REGULAR, ChunkStream, TarReader
from sbomgen.scan.cpython_sbom import listed_components, listed_files, load_document
from sbomgen.scan.wheels import parse_vendor_txt, read_wheel
from sbomgen.write.spdx import SpdxIds

pytestmark = pytest.mark.slow
MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
VALID_ID = re.compile(r"^SPDXRef-[\da-zA-Z.-]+$")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)


@MANY
@given(
    st.lists(
        st.one_of(
            line_text, st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,10}(==|===|>=|~=)[0-9a-z.+!-]{1,10}( *#.*)?")
        )
    )
)
def test_vendor_txt(lines: list[str]) -> None:
    try:
        pins = parse_vendor_txt("\n".join(lines), "vendor.txt")
    except ContentError:
        return
    assert len({name for name, _ in pins}) == len(pins)


@MANY
@given(st.lists(st.text(max_size=40), max_size=30))
def test_spdx_ids_are_valid_and_unique(values: list[str]) -> None:
    ids = SpdxIds()
    made = [ids.allocate("SPDXRef-FILE-", value) for value in values]
    assert len(set(made)) == len(made)
    assert all(VALID_ID.match(i) for i in made)


@MANY
@given(st.lists(st.sampled_from([*"ab./\\:\x00C", "..", "\udcff"]), max_size=30).map("".join))
def test_path_normaliser_never_escapes(name: str) -> None:
    try:
        parts = split_path(name, "x")
    except ArchiveError:
        return
    assert ".." not in parts and "" not in parts and "." not in parts
    assert not any("\\" in p or "\x00" in p for p in parts)
    assert not name.startswith("/")


@MANY
@given(json_values)
def test_sbom_data_ingestion(document: Any) -> None:
    raw = json.dumps(document).encode()
    try:
        loaded = load_document("Misc/sbom.spdx.json", raw)
        listed = listed_files(loaded, "Misc/sbom.spdx.json")
        listed_components(loaded, listed, "Misc/sbom.spdx.json", {name for name, _ in listed.values()})
    except ContentError:
        pass


@MANY
@given(st.binary(max_size=300), st.sampled_from(["pip-1.0.dist-info/METADATA", "pip/_vendor/vendor.txt"]))
def test_metadata_parsing(content: bytes, target: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(target, content)
        if target.endswith("vendor.txt"):
            wheel.writestr("pip-1.0.dist-info/METADATA", b"Name: pip\nVersion: 1.0\n")
    with contextlib.suppress(ContentError):
        read_wheel("Lib/ensurepip/_bundled/pip-1.0-py3-none-any.whl", buffer.getvalue(), ("SHA256",))


@MANY
@given(json_values, st.text(max_size=8))
def test_index_response_handling(document: Any, version: str) -> None:
    if isinstance(document, dict):
        document.setdefault("releases", {version: document.get("files", [])})
    try:
        project = read_project(
            json.dumps(document).encode(), "pip", "https://pypi.org/pypi/pip/json", 1 << 20, EnrichmentError
        )
        data = release_data(project, version)
    except (IndexResponseError, EnrichmentError):
        return
    assert all(len(f.sha256) == 64 for f in data.files)


def _read_tar(data: bytes) -> list[tuple[str, bytes, int, int, str, bytes]]:
    chunks = iter([data[i : i + 4096] for i in range(0, len(data), 4096)])
    reader = TarReader(ChunkStream(lambda: next(chunks, b"")), "t.tar")
    return [
        (
            h.name.rstrip("/") if h.kind == DIRECTORY else h.name,  # tarfile drops a directory's "/"
            h.kind,
            h.size,
            h.mtime,
            h.linkname,
            b"".join(reader.content(h)) if h.kind == REGULAR else b"",
        )
        for h in reader.headers()
    ]


member_names = st.lists(
    st.text(
        alphabet=st.characters(blacklist_characters="\x00/", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=60,
    ),
    min_size=1,
    max_size=4,
).map("/".join)
tar_members = st.lists(
    st.tuples(
        member_names,
        st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE]),
        st.binary(max_size=1500),
        st.integers(min_value=0, max_value=(1 << 33) - 1),
        member_names,
    ),
    max_size=6,
)


@MANY
@given(tar_members, st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]))
def test_tar_reader_agrees_with_tarfile(members: list[Any], tar_format: int) -> None:
    """Differential: whatever Python's tarfile writes, the streaming reader reads the same."""
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w", format=tar_format, encoding="utf-8") as archive:
            for name, kind, content, mtime, link in members:
                info = tarfile.TarInfo(name)
                info.type, info.mtime = kind, mtime
                if kind == tarfile.REGTYPE:
                    info.size = len(content)
                else:
                    info.linkname = link if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
                archive.addfile(info, io.BytesIO(content) if kind == tarfile.REGTYPE else None)
    except (ValueError, UnicodeError):
        return  # a member this format cannot hold: tarfile refuses to write it
    expected = []
    with tarfile.open(fileobj=io.BytesIO(buffer.getvalue()), mode="r:") as archive:
        for info in archive:
            content = archive.extractfile(info).read() if info.isreg() else b""  # type: ignore[union-attr]
            kind = {tarfile.REGTYPE: REGULAR, tarfile.AREGTYPE: REGULAR}.get(info.type, info.type)
            expected.append((info.name, kind, info.size, int(info.mtime), info.linkname, content))
    assert _read_tar(buffer.getvalue()) == expected


@MANY
@given(
    tar_members, st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8)
)
def test_tar_reader_on_damaged_archives(members: list[Any], damage: list[tuple[int, int]]) -> None:
    """Bytes of a valid archive changed anywhere: reading it, as a stream and as an artifact
    (names, links, limits and times checked), returns or raises ArchiveError."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, kind, content, mtime, link in members:
            info = tarfile.TarInfo(f"Python-3.99.0/{name}")
            info.type, info.mtime = kind, mtime
            info.size = len(content) if kind == tarfile.REGTYPE else 0
            info.linkname = link if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            archive.addfile(info, io.BytesIO(content) if kind == tarfile.REGTYPE else None)
    data = bytearray(buffer.getvalue())
    for position, value in damage:
        data[position % len(data)] = value
    with contextlib.suppress(ArchiveError):
        _read_tar(bytes(data))
    with tempfile.TemporaryDirectory() as scratch, contextlib.suppress(ArchiveError):
        path = Path(scratch) / "Python-3.99.0.tar"
        path.write_bytes(data)
        for _member, content in ArchiveReader(path).members():
            if content is not None:
                content.read()


@MANY
@given(
    name=st.text(max_size=60),
    spdx_id=st.text(max_size=30),
    digests=st.lists(
        st.sampled_from(["SHA1", "SHA256", "SHA512"]), min_size=1, max_size=3, unique=True
    ).flatmap(
        lambda algorithms: st.tuples(
            *(st.tuples(st.just(a), st.text("0123456789abcdef")) for a in algorithms)
        )
    ),
    package=st.text(max_size=30),
)
def test_element_templates_write_what_spdx_tools_writes(
    name: str, spdx_id: str, digests: tuple[tuple[str, str], ...], package: str
) -> None:
    """Files and CONTAINS relationships written through templates: the very text spdx-tools'
    converter makes of the same model objects, whatever the values."""
    from spdx_tools.spdx.model import Checksum as SpdxChecksum
    from spdx_tools.spdx.model import ChecksumAlgorithm, File, Relationship, RelationshipType

    from sbomgen.model import Checksum, FileEntry
    from sbomgen.write.spdx import _NO_ANNOTATIONS, ElementText, _converter, _dumps

    converter = _converter()
    text = ElementText(converter)
    entry = FileEntry(name, 0, tuple(Checksum(a, v) for a, v in digests))
    model = File(name, spdx_id, [SpdxChecksum(ChecksumAlgorithm[a], v) for a, v in digests])
    assert text.file(spdx_id, entry) == _dumps(converter.file_converter.convert(model, _NO_ANNOTATIONS))
    relationship = Relationship(package, RelationshipType.CONTAINS, spdx_id)
    assert (
        list(text.contains(package, [spdx_id, spdx_id]))
        == [_dumps(converter.relationship_converter.convert(relationship))] * 2
    )


# In-toto's digest names as a subject may spell them (any case, with "-" or "_" or neither),
# with the hashlib name that computes each; SHAKE's claims are the first bytes of its output.
_INTOTO_DIGESTS = {
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "sha3_256": "sha3_256",
    "sha512_256": "sha512_256",
    "blake2b": "blake2b",
    "md5": "md5",
    "shake128": "shake_128",
    "shake256": "shake_256",
}


def _spelt(name: str) -> st.SearchStrategy[str]:
    plain = name.replace("_", "")
    return st.sampled_from(sorted({name, plain, name.upper(), name.replace("_", "-"), plain.upper()}))


def _right(content: bytes, algorithm: str, length: int) -> str:
    hashed = hashlib.new(algorithm, content)
    return hashed.hexdigest(length) if algorithm.startswith("shake") else hashed.hexdigest()  # type: ignore[call-arg]


@settings(max_examples=300, deadline=None)
@given(
    content=st.binary(max_size=64),
    claims=st.lists(
        st.tuples(st.sampled_from(sorted(_INTOTO_DIGESTS)), st.booleans(), st.integers(1, 128)),
        max_size=5,
        unique_by=lambda claim: claim[0],
    ),
    unknown=st.booleans(),
    data=st.data(),
)
def test_a_subject_matches_only_when_every_digest_it_gives_is_right(
    tmp_path_factory: pytest.TempPathFactory,
    content: bytes,
    claims: list[tuple[str, bool, int]],
    unknown: bool,
    data: st.DataObject,
) -> None:
    """What verify's subject check and release --check decide by: a subject matches a file
    when it gives a digest sbomgen computes and every such digest is the file's; a wrong one
    beside right ones is a mismatch; one of only digests sbomgen cannot compute, neither."""
    from sbomgen.provenance.statement import MIN_XOF_HEX, subject_digests
    from sbomgen.provenance.verify import digests_match

    path = tmp_path_factory.mktemp("subject") / "file"
    path.write_bytes(content)
    claimed: dict[str, str] = {"gitCommit": "ab" * 20} if unknown else {}
    every_right = True
    for name, right, length in claims:
        algorithm = _INTOTO_DIGESTS[name]
        value = _right(content, algorithm, length)
        if algorithm.startswith("shake"):
            every_right = every_right and 2 * length >= MIN_XOF_HEX
        if not right:
            value = ("0" if value[0] != "0" else "1") + value[1:]
        every_right = every_right and right
        claimed[data.draw(_spelt(name))] = value
    found = digests_match(claimed, subject_digests(path, "file", claimed))
    assert found is (None if not claims else every_right)


_ONE_LINE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=16
).filter(lambda text: text.strip() == text)
_INLINE_TEXT = {"text", "code_inline"}
# A name may begin with spaces or tabs, which would indent what follows as a heading or code.
_INDENTED = st.tuples(st.text(" \t", max_size=6), _ONE_LINE).map("".join)


@settings(max_examples=500, deadline=None)
@given(
    added=st.lists(st.tuples(_INDENTED, _ONE_LINE), min_size=1, max_size=3),
    changed=st.lists(st.tuples(_ONE_LINE, _ONE_LINE, _ONE_LINE, _ONE_LINE), min_size=1, max_size=3),
    path=_ONE_LINE,
)
def test_diff_markdown_shows_every_value_as_itself(
    added: list[tuple[str, str]], changed: list[tuple[str, str, str, str]], path: str
) -> None:
    """Names, versions and paths come from the SBOMs: rendered by a CommonMark parser with
    GitHub's tables, each is text (no link, image, HTML, emphasis, list or heading of its own)
    that reads as it was, and every change stays one row of four cells."""
    from markdown_it import MarkdownIt

    from sbomgen.workflows.diff import Difference, as_markdown

    difference = Difference(added, [], changed, [path], [], [])
    tokens = (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .parse(as_markdown(difference, "old.json", "new.json", True))
    )
    inline = [t for t in tokens if t.type == "inline"]
    for token in inline:
        assert {child.type for child in token.children or []} <= _INLINE_TEXT, token.content
    texts = ["".join(child.content for child in token.children or []) for token in inline]
    assert [t.type for t in tokens].count("bullet_list_open") == 2
    assert [f"{name} {version}" for name, version in added] == texts[2 : 2 + len(added)]
    cells = texts[-3 - 4 * len(changed) : -3]  # then "Files", the count line and the file
    assert cells == [value for row in changed for value in row]
    assert texts[-1] == f"+ {path}"
