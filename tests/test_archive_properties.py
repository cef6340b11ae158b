"""Property tests: generated zip and tar archives, with hostile names, flags, methods,
extra fields and links, read by the pass the command runs (in-process): nothing escapes
but ArchiveError or ContentError, and every name let through is UTF-8 without control
characters.

10,000 examples each (the ``slow`` marker).
"""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import raw_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_zip import Entry

from sbomgen.errors import ArchiveError, ContentError
from sbomgen.read import child as reading
from sbomgen.read.archive import ArchiveReader, check_zip_entries
from sbomgen.scan import default_scanners

pytestmark = pytest.mark.slow
MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
TOP = "Python-3.99.0"
SCANNERS = default_scanners()

NFC, NFD = (unicodedata.normalize(form, "café") for form in ("NFC", "NFD"))
NEEDED = ["Include/patchlevel.h", "Misc/sbom.spdx.json", "Lib/ensurepip/_bundled/pip-1.0-py3-none-any.whl"]
VALID = [*NEEDED, "Lib/", "Lib/a.py", "LIB/A.PY", f"Lib/{NFC}.py", f"Lib/{NFD}.py", "Tools/x.h", "Misc/"]
HOSTILE = [
    *(f"Lib/a{c}b.py" for c in "\x00\n\r\x1b\x7f\x85\x9b"),
    "Lib/../../x",
    "/etc/passwd",
    "C:/x",
    "Lib\\os.py",
    "\u2028.py",
    "Lib/a\ufffe.py",
]
# Most members are well formed: a hostile one stops the pass, and the rest must be reached too.
names = st.one_of(
    st.sampled_from([f"{TOP}/{name}" for name in VALID] + [f"{TOP}/"]),
    st.sampled_from([f"{TOP}/{name}" for name in VALID]),
    st.sampled_from([f"{TOP}/{name}" for name in VALID]),
    st.sampled_from([f"{TOP}/{name}" for name in HOSTILE] + ["Other/a.py", "a.py", TOP]),
    st.text(alphabet=st.sampled_from("ab/.\n\x1b\x85é\\"), min_size=1, max_size=12).map(
        lambda n: f"{TOP}/{n}"
    ),
)
targets = st.one_of(
    st.sampled_from(["../Tools/x.h", "x.h", "../Misc", "../..", "a/../..", "../Lib/a.py", "a\nb", "/etc"]),
    st.builds(lambda up, name: "../" * up + name, st.integers(0, 3), st.sampled_from(VALID + HOSTILE)),
)


def _accepted(name: str | None) -> bool:
    if name is None:
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not CONTROL.search(name)


# In memory where the system offers it: a file is written for each example.
_SCRATCH = Path(
    tempfile.mkdtemp(prefix="sbomgen-properties-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None)
)


@contextlib.contextmanager
def _artifact(data: bytes, suffix: str) -> Iterator[Path]:
    path = _SCRATCH / f"{TOP}{suffix}"
    path.write_bytes(data)
    yield path


def _read(path: Path) -> None:
    """The command's pass over the artifact (in-process), with the scanners' wishes."""
    reader = ArchiveReader(path)
    try:
        for item in reading.records(reader, ("SHA256",), lambda p: any(s.wants(p) for s in SCANNERS)):
            if isinstance(item, reading.Summary):
                count, first = item.case_clashes
                assert (first is None) == (count == 0) and all(map(_accepted, first or ()))
                assert all(_accepted(name) for name in item.through_links)
            else:
                assert _accepted(item[0]) and _accepted(item[4]), item
    except (ArchiveError, ContentError):
        pass


EXTRAS = st.sampled_from(["none"] * 6 + ["agrees", "differs", "damaged", "other"])
ENCODINGS = st.sampled_from(["utf-8"] * 6 + ["ascii-unmarked", "cp437", "bytes"])
FLAG_BITS = st.sampled_from([0] * 8 + [raw_zip.ENCRYPTED, 0x8, 0x20, 0x41])
MODES = st.sampled_from([raw_zip.FILE] * 3 + [raw_zip.DIRECTORY, raw_zip.SYMLINK, 0o010644, 0])
METHODS = st.sampled_from([0, 0, 8, 8, 12, 14, 1, 9, 99])
SYSTEMS = st.sampled_from([3, 3, 0])
RAW = st.sampled_from([False] * 5 + [True])
LOCAL_FLAGS = st.sampled_from([None] * 8 + [0, raw_zip.ENCRYPTED])
UTF8_FLAG = st.sampled_from([0, raw_zip.UTF8])
SOME_BYTES = st.binary(max_size=40)
NAME_BYTES = st.binary(min_size=1, max_size=24)


def _extra(draw: Any, header_name: bytes) -> bytes:
    choice = draw(EXTRAS)
    if choice == "agrees":
        return raw_zip.unicode_path(header_name.decode("utf-8", "replace"), header_name)
    if choice == "differs":
        return raw_zip.unicode_path(draw(names), header_name)
    if choice == "damaged":
        return draw(SOME_BYTES)[:12]
    if choice == "other":
        return b"UT\x05\x00\x01\x00\x00\x00\x00"
    return b""


@st.composite
def zip_entries(draw: Any) -> list[Entry]:
    entries = []
    for _ in range(draw(st.integers(1, 5))):
        name = draw(names)
        encoding = draw(ENCODINGS)
        if encoding == "bytes":
            raw, flags = draw(NAME_BYTES), draw(UTF8_FLAG)
        elif encoding == "cp437":
            raw, flags = name.encode("cp437", "replace").replace(b"a", b"\x82"), 0  # é in CP437
        else:
            raw, flags = name.encode("utf-8"), raw_zip.UTF8 if encoding == "utf-8" else 0
        flags |= draw(FLAG_BITS)
        mode = draw(MODES)
        data = draw(targets).encode() if mode == raw_zip.SYMLINK else draw(SOME_BYTES)
        entries.append(
            Entry(
                raw,
                data,
                method=draw(METHODS),
                flags=flags,
                extra=_extra(draw, raw),
                local_extra=_extra(draw, raw),
                mode=mode,
                system=draw(SYSTEMS),
                raw=draw(RAW),
                local_flags=draw(LOCAL_FLAGS),
            )
        )
    return entries


@MANY
@given(zip_entries(), st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=2))
def test_generated_zip_archives(entries: list[Entry], damage: list[tuple[int, int]]) -> None:
    data = bytearray(raw_zip.build(*entries))
    for position, value in damage:
        data[position % len(data)] = value
    with _artifact(bytes(data), ".zip") as path:
        _read(path)


tar_members = st.lists(
    st.tuples(
        names,
        st.sampled_from(
            [tarfile.REGTYPE, tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE]
        ),
        st.binary(max_size=100),
        st.one_of(targets, names),
    ),
    min_size=1,
    max_size=6,
)


@MANY
@given(tar_members)
def test_generated_tar_archives_with_links(members: list[tuple[str, bytes, bytes, str]]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as archive:
        for name, kind, content, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.mtime = kind, 1_700_000_000
            info.size = len(content) if kind == tarfile.REGTYPE else 0
            info.linkname = link if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            archive.addfile(info, io.BytesIO(content) if kind == tarfile.REGTYPE else None)
    with _artifact(buffer.getvalue(), ".tar") as path:
        _read(path)


@MANY
@given(
    st.integers(0, 40),
    st.integers(0, 40),
    st.binary(max_size=30).map(lambda b: b.replace(b"x", b"PK\x05\x06")),
    st.binary(max_size=30),
    st.booleans(),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=2),
    st.sampled_from([0, 1, 65_535, 65_536, 65_537]),
)
def test_zip_entries_counted_as_zipfile_reads_them(
    entries: int,
    most: int,
    comment: bytes,
    prefix: bytes,
    zip64: bool,
    damage: list[tuple[int, int]],
    padding: int,
) -> None:
    """Whatever the comment (end records in it), data before the zip, zip64 records or damage:
    refused exactly when zipfile would list more than ``most`` entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(entries):
            with archive.open(f"m{n}", "w", force_zip64=zip64) as member:
                member.write(b"x")
        archive.comment = comment
    data = bytearray(prefix + buffer.getvalue() + bytes(padding))
    for position, value in damage:
        data[position % len(data)] = value
    try:
        listed = len(zipfile.ZipFile(io.BytesIO(data)).infolist())
    except Exception:  # zipfile refuses it, one way or another
        listed = None
    try:
        check_zip_entries(io.BytesIO(data), most, "w")
    except ArchiveError as exc:
        assert str(exc) == f"w: more than {most} members (--max-members)"
        assert listed is None or listed > most
    else:
        assert listed is None or listed <= most
