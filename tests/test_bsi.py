"""What BSI TR-03183-2 v2.1 asks beyond the formats: who made the SBOM (--creator), who made
each component (from core metadata and Misc/sbom.spdx.json), where it is reached. The
verdicts of ntia-checker on the real releases are in test_spdx3.py (its SBOMs are made with
SBOMGEN_CREATOR); these are the rules, fast."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SIGSTORE_SDIST, cpython_tree, refused, sbomgen, write_tar
from hypothesis import given, settings
from hypothesis import strategies as st

from sbomgen.documents.cache import read_row
from sbomgen.documents.creators import is_web_url, parse_creator, spdx2_creator
from sbomgen.documents.metadata import read_metadata
from sbomgen.errors import CacheError, ContentError, UsageError
from sbomgen.model import Party
from sbomgen.scan.cpython_sbom import reachable

FILES = ROOT / "fixtures" / "index" / "files"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Person: Kim Doe <kim@example.org>", Party("Person", "Kim Doe", "kim@example.org")),
        ("Person: Kim Doe (kim@example.org)", Party("Person", "Kim Doe", "kim@example.org")),
        (
            "Organization: Python Release Managers (https://www.python.org/downloads/)",
            Party("Organization", "Python Release Managers", url="https://www.python.org/downloads/"),
        ),
        ("Organization: ACME", Party("Organization", "ACME")),
        ("Tool: make-4.3", "make-4.3"),
    ],
)
def test_creator_forms(text: str, expected: Party | str) -> None:
    assert parse_creator(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Kim Doe",
        "Robot: R2",
        "Person: ",
        "Person: Kim (not a contact)",
        "Person: Kim <javascript:alert(1)>",
        "Organization: ACME (ftp://acme.example)",
        "Organization: ACME (https://)",
        "Tool: make (https://www.gnu.org)",
        "Person: Kim\n<kim@example.org>",
        "Person: Kim (a@b.c) (d@e.f)",
    ],
)
def test_bad_creators(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_creator(text)
    assert "\n" not in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_a_creator_or_one_line(text: str) -> None:
    """Whatever is given: a creator whose every field is one printable line (the SPDX 2
    form of it parsing back to itself), or a UsageError of one line."""
    try:
        creator = parse_creator(text)
    except UsageError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message
        return
    if isinstance(creator, str):
        assert creator.isprintable() and creator
        return
    for value in (creator.name, creator.email, creator.url):
        assert value is None or (value.isprintable() and value.strip() == value)
    assert parse_creator(spdx2_creator(creator)) == creator


@settings(max_examples=50, deadline=None)
@given(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="()<>"), min_size=1, max_size=40
    ),
    st.sampled_from(["Person", "Organization"]),
)
def test_names_round_trip(name: str, kind: str) -> None:
    text = f"{kind}: {name} <kim@example.org>"
    try:
        creator = parse_creator(text)
    except UsageError:
        assert not name.strip() or not name.isprintable()
        return
    assert creator == Party(kind, name.strip(), "kim@example.org")


def test_command_line_refuses_a_bad_creator(tmp_path: Path) -> None:
    refused(
        tmp_path, 2, "sdist", SIGSTORE_SDIST, "-o", "{out}", "--creator", "Person: Kim <nobody>",
        fragments=("'nobody' is neither an e-mail address nor an http(s) URL",),
    )  # fmt: skip
    run = sbomgen("sdist", SIGSTORE_SDIST, "-o", tmp_path / "x.json", env={"SBOMGEN_CREATOR": "\x1b[31mred"})
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "control characters" in run.stderr and not (tmp_path / "x.json").exists()


def test_creators_in_every_format(tmp_path: Path) -> None:
    """The SBOM's creators in SPDX 2.3, SPDX 3 and CycloneDX 1.7 (strictly validated before
    it is written, and here again)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    creators = "Organization: Release Team (https://release.example.org/)\nPerson: Kim Doe <kim@example.org>"
    run = sbomgen(
        "sdist",
        SIGSTORE_SDIST,
        "-o",
        f"{tmp_path}/",
        "-f",
        "spdx-json,spdx3-json,cyclonedx-json",
        "--creator",
        "Tool: builder-1.0",
        env={"SBOMGEN_CREATOR": creators},
    )
    assert run.returncode == 0, run.stderr
    # The command line wins over the environment.
    spdx = json.loads((tmp_path / f"{SIGSTORE_SDIST.name}.spdx.json").read_text())
    assert spdx["creationInfo"]["creators"] == ["Tool: builder-1.0", "Tool: sbomgen-0.1.0"]

    run = sbomgen(
        "sdist", SIGSTORE_SDIST, "-o", f"{tmp_path}/", "-f", "spdx-json,spdx3-json,cyclonedx-json",
        env={"SBOMGEN_CREATOR": creators},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    spdx = json.loads((tmp_path / f"{SIGSTORE_SDIST.name}.spdx.json").read_text())
    assert spdx["creationInfo"]["creators"] == [
        "Organization: Release Team (https://release.example.org/)",
        "Person: Kim Doe (kim@example.org)",
        "Tool: sbomgen-0.1.0",
    ]
    graph = json.loads((tmp_path / f"{SIGSTORE_SDIST.name}.spdx3.json").read_text())["@graph"]
    by_id = {e.get("spdxId"): e for e in graph}
    (creation,) = [e for e in graph if e["type"] == "CreationInfo"]
    made_by = [by_id[i] for i in creation["createdBy"]]
    assert [
        (
            a["type"],
            a["name"],
            [(i["externalIdentifierType"], i["identifier"]) for i in a["externalIdentifier"]],
        )
        for a in made_by
    ] == [
        ("Organization", "Release Team", [("urlScheme", "https://release.example.org/")]),
        ("Person", "Kim Doe", [("email", "kim@example.org")]),
    ]
    assert [by_id[i]["name"] for i in creation["createdUsing"]] == ["sbomgen-0.1.0"]
    text = (tmp_path / f"{SIGSTORE_SDIST.name}.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_7).validate_str(text) is None
    metadata = json.loads(text)["metadata"]
    assert metadata["manufacturer"] == {"name": "Release Team", "url": ["https://release.example.org/"]}
    assert metadata["authors"] == [{"name": "Kim Doe", "email": "kim@example.org"}]


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        # Author-email with a display name; the Source Project-URL (no home page given).
        ("idna-3.10-py3-none-any.whl", Party("Person", "Kim Davies", "kim+pypi@gumleaf.org", "https://github.com/kjd/idna")),
        # A bare address named by Author; Home-page.
        ("rich-14.0.0-py3-none-any.whl", Party("Person", "Will McGugan", "willmcgugan@gmail.com", "https://github.com/Textualize/rich")),
        ("certifi-2025.1.31-py3-none-any.whl", Party("Person", "Kenneth Reitz", "me@kennethreitz.com", "https://github.com/certifi/python-certifi")),
        # Project-URL Homepage first.
        ("pip-25.1.1-py3-none-any.whl", Party("Person", "The pip developers", "distutils-sig@python.org", "https://pip.pypa.io/")),
    ],
)  # fmt: skip
def test_originator_from_core_metadata(file: str, expected: Party) -> None:
    metadata = read_metadata((FILES / f"{file}.metadata").read_bytes(), file, ContentError)
    assert metadata.originator() == expected


def test_originator_placeholders_are_not_contacts() -> None:
    head = b"Metadata-Version: 2.1\nName: x\nVersion: 1\n"
    text = head + b"Author: UNKNOWN\nAuthor-email: UNKNOWN\nHome-page: UNKNOWN\n"
    assert read_metadata(text, "x", ContentError).originator() is None
    text = head + b"Author: Kim\nProject-URL: Homepage, javascript:alert(1)\n"
    assert read_metadata(text, "x", ContentError).originator() is None


EXPAT = "https://github.com/libexpat/libexpat"
MPDECIMAL = "https://www.bytereef.org/software/mpdecimal/releases/mpdecimal-2.5.1.tar.gz"


@pytest.mark.parametrize(
    ("name", "download", "url"),
    [
        ("Expat development team", f"{EXPAT}/releases/download/R_2_7_1/expat-2.7.1.tar.gz", EXPAT),
        (
            "HACL* Developers",
            "https://github.com/hacl-star/hacl-star/archive/bb3d0dc8.zip",
            "https://github.com/hacl-star/hacl-star",
        ),
        ("bytereef.org", MPDECIMAL, "https://www.bytereef.org/"),
        # A host that is not the originator's name says nothing about it.
        ("Someone", "https://downloads.example.org/x-1.0.tar.gz", None),
        ("Someone", "http://github.com/a/b/x.tar.gz", None),
    ],
)
def test_c_library_originators_from_their_download(name: str, download: str, url: str | None) -> None:
    assert reachable(Party("Organization", name), download) == Party("Organization", name, url=url)
    stated = Party("Person", "R. O.", "ro@example.org")
    assert reachable(stated, download) == stated  # an e-mail given: nothing added


def test_cache_rows_old_and_hostile() -> None:
    """A row an older sbomgen wrote (no originator, no SHA-512) still reads; a row whose
    originator a hand edited to something no metadata could give is refused (exit 8)."""
    old = {"files": [{"filename": "x-1-py3-none-any.whl", "url": "https://files.example.org/x-1-py3-none-any.whl",
                      "sha256": "0" * 64, "packagetype": "bdist_wheel"}]}  # fmt: skip
    data = read_row(json.dumps(old), "row")
    assert data.originator is None and data.files[0].sha512 is None
    for originator in (
        {"kind": "Person", "name": "Kim", "url": "javascript:alert(1)"},
        {"kind": "Person", "name": "Kim", "email": "not an address"},
        {"kind": "Robot", "name": "Kim"},
    ):
        with pytest.raises(CacheError):
            read_row(json.dumps({**old, "originator": originator}), "row")
    with pytest.raises(CacheError):
        read_row(json.dumps({**old, "repository": "file:///etc/passwd"}), "row")


HOSTILE = st.text(
    st.sampled_from(
        ["\x00", "\x1b", "\n", "\r", "\u2028", "\ufeff", "(", ")", "<", ">", "@", ":", " ", "é", "a"]
    ),
    max_size=30,
) | st.builds(lambda s: f"Person: Kim <{s}>", st.text(max_size=20))


@settings(max_examples=8, deadline=None)
@given(HOSTILE)
def test_hostile_creators_on_the_command_line(text: str) -> None:
    """A value parse_creator refuses: exit 2 and one line, before anything is read or written."""
    try:
        parse_creator(text)
    except UsageError:
        pass
    else:
        return
    if "\x00" in text:  # no process takes a NUL in an argument: the environment cannot either
        return
    run = sbomgen("sdist", SIGSTORE_SDIST, "-o", "-", "--creator", text)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sbomgen: error: "), run.stderr
    assert run.stdout == b""


def test_a_second_home_page_is_not_an_error() -> None:
    text = b"Metadata-Version: 2.1\nName: x\nVersion: 1\nAuthor-email: k@example.org\n"
    text += b"Home-page: https://one.example.org/\nHome-page: https://two.example.org/\n"
    found = read_metadata(text, "x", ContentError).originator()
    assert found == Party("Person", "k@example.org", "k@example.org", "https://one.example.org/")


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["Person: {} <kim@example.org>", "Organization: {} (https://example.org/)", "Tool: {}"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="()<>"), max_size=20),
    st.sampled_from(["\u2028", "\u2029", "\u202e", "\u2066", "\u200b", "\ufeff", "\x85", "\ufffe"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="()<>"), max_size=20),
)
def test_no_line_breaking_or_invisible_character_in_a_creator(
    form: str, before: str, char: str, after: str
) -> None:
    """A line or paragraph separator (not category C, yet a new line for many readers), a
    bidi or invisible character anywhere in a creator: refused, as every name from outside is."""
    with pytest.raises(UsageError) as caught:
        parse_creator(form.format(f"Kim{before}{char}{after}"))
    assert "\n" not in str(caught.value)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 5000),
    st.text(st.sampled_from('()<>"\\,@ .ak'), max_size=40),
    st.sampled_from(["Author-email", "Maintainer-email"]),
)
def test_nested_comments_in_an_address_field(depth: int, rest: str, field: str) -> None:
    """Comments nested thousands deep (the address parser recurses once a level): no address,
    not a RecursionError."""
    value = "(" * depth + rest + ")" * (depth // 2)
    text = f"Metadata-Version: 2.1\nName: x\nVersion: 1\n{field}: {value}\n".encode()
    found = read_metadata(text, "x", ContentError).originator()
    assert found is None or found.email is not None


def test_a_bundled_wheel_with_nested_comments_in_its_author(tmp_path: Path) -> None:
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pip/__init__.py", "")
        metadata = "Metadata-Version: 2.1\nName: pip\nVersion: 99.0\nAuthor-email: " + "(" * 3000 + "\n"
        archive.writestr("pip-99.0.dist-info/METADATA", metadata)
    tree = {**cpython_tree(), "Lib/ensurepip/_bundled/pip-99.0-py3-none-any.whl": wheel.getvalue()}
    tarball = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    out = tmp_path / "sbom.json"
    run = sbomgen("tarball", tarball, "--offline", "--cache-dir", tmp_path / "cache", "-o", out)
    assert run.returncode == 0, run.stderr
    pip = next(p for p in json.loads(out.read_text())["packages"] if p["name"] == "pip")
    assert "((" not in pip.get("originator", "")


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.sampled_from(
            [
                "javascript:alert(1)",
                "file:///etc/passwd",
                "https://[::1]/",
                "https://a.example/\\x",
                "ftp://a.b/",
            ]
        ),
        st.text(st.sampled_from('hts:/[]\\%#{}|^`"<>a.é'), max_size=30),
    )
)
def test_home_page_is_an_http_url_or_nothing(home_page: str) -> None:
    """Home-page is the originator's URL only when it is an http(s) URL every writer takes
    (not javascript:, not what the CycloneDX writer escapes into an invalid IRI), as
    Project-URL's are."""
    text = (
        f"Metadata-Version: 2.1\nName: x\nVersion: 1\nAuthor-email: k@example.org\nHome-page: {home_page}\n"
    )
    try:
        metadata = read_metadata(text.encode(), "x", ContentError)
    except ContentError:
        return
    found = metadata.originator()
    assert found is not None and found.email == "k@example.org"
    assert found.url is None or is_web_url(found.url)


NAME_TEXT = st.text(st.sampled_from('Kim ()<>@.,"\\k'), max_size=30)


@settings(max_examples=150, deadline=None)
@given(NAME_TEXT, NAME_TEXT, st.booleans())
def test_an_originator_reads_back_as_itself_in_spdx2(author: str, author_email: str, home: bool) -> None:
    """No name from core metadata can pass for a contact in SPDX 2's ``Person: NAME (CONTACT)``
    ("Author: Kim (kim@evil.example)" with only a home page read as that address)."""
    text = f"Metadata-Version: 2.1\nName: x\nVersion: 1\nAuthor: {author}\nAuthor-email: {author_email}\n"
    text += "Home-page: https://example.org/\n" if home else ""
    try:
        metadata = read_metadata(text.encode(), "x", ContentError)
    except ContentError:
        return
    found = metadata.originator()
    if found is not None:
        assert parse_creator(spdx2_creator(Party(found.kind, found.name, found.email))) == Party(
            found.kind, found.name, found.email
        )


def test_a_cache_row_originator_named_with_brackets_is_refused() -> None:
    row = {"files": [], "originator": {"kind": "Person", "name": "Kim (kim@evil.example)"}}
    with pytest.raises(CacheError):
        read_row(json.dumps(row), "row")


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(st.just("https://x.example/</text>\nPackageName: injected"), st.text(max_size=20)),
    st.one_of(st.none(), st.just("0" * 64), st.text(max_size=70)),
)
def test_a_cache_rows_index_and_export_columns_pass_the_gate(index_url: str, export: str | None) -> None:
    """The index that answered and the unsigned export's SHA256 are columns no checksum
    covers, now carried into every SBOM (a tag-value annotation's <text> block among them):
    one line and a SHA256, or the cache cannot be used (exit 8)."""
    import sqlite3
    import tempfile

    from sbomgen.documents.fields import check_line
    from sbomgen.enrich.cache import Cache, Entry

    data = read_row(json.dumps({"files": []}), "row")
    with tempfile.TemporaryDirectory() as folder:
        store = Cache(Path(folder))
        store.put([Entry("https://pypi.org/simple", "x", "1", "", data, "2025-01-01T00:00:00Z")], "0" * 64)
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE release SET index_url = ?", (index_url,))
            if export is None:
                db.execute("DELETE FROM unsigned")
            else:
                db.execute("UPDATE unsigned SET export_sha256 = ?", (export,))
        db.close()
        try:
            entry = store.get("x", "1")
        except CacheError as exc:
            assert "\n" not in str(exc)
            return
        finally:
            store.close()
    assert entry is not None and check_line(entry.index_url) and entry.index_url
    assert entry.unsigned_from is None or (
        len(entry.unsigned_from) == 64 and int(entry.unsigned_from, 16) >= 0
    )


TOOL_NAMES = st.just("sbomgen") | st.text(st.sampled_from("ab -.é"), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.lists(TOOL_NAMES, max_size=4))
def test_every_creator_tool_is_in_spdx3(names: list[str]) -> None:
    """Each --creator tool is its own element of the SPDX 3 document, beside sbomgen's: one
    named "sbomgen", or two whose names differ only where an SPDX ID cannot ("a b", "a-b"),
    took the same ID, and one of them was lost."""
    import datetime

    from sbomgen import __version__
    from sbomgen.model import Artifact, Checksum, Component, Inventory
    from sbomgen.write import spdx3

    tools, accepted = [], []
    for name in names:
        try:
            accepted.append(parse_creator(f"Tool: {name}"))
        except UsageError:
            continue
        tools.append(f"Tool: {name}")
    inventory = Inventory(
        artifact=Artifact("x-1.0.tar.gz", 1, (Checksum("SHA256", "d4" * 32),)),
        root="x",
        components=(Component("x", "x", "1.0"),),
        files=(),
        dependencies=(),
        created=datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),
    )
    graph = json.loads(spdx3.render(inventory, tools))["@graph"]
    (creation,) = [e for e in graph if e["type"] == "CreationInfo"]
    by_id = {e["spdxId"]: e for e in graph if e["type"] == "Tool"}
    assert [by_id[i]["name"] for i in creation["createdUsing"]] == [
        f"sbomgen-{__version__}",
        *dict.fromkeys(accepted),
    ]
