"""License files of the recorded distribution file: which are read, how far, and what wins."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_server import FIXTURES, IndexServer

from sbomgen.documents.index import FileLicenses, ReleaseFile
from sbomgen.enrich.distribution import _wanted_members, applied, fetch
from sbomgen.enrich.index import IndexClient, IndexResponseError, IndexSettings, IndexUnreachable, api_bases
from sbomgen.errors import ArchiveError, EnrichmentError
from sbomgen.model import Component
from sbomgen.scan.license_text import MAX_LICENSE_SIZE

IDNA = "idna-3.10-py3-none-any.whl"


def sdist(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members:
            info = tarfile.TarInfo(f"pkg-1.0/{name}")
            info.size, info.mtime = len(content), 1_700_000_000
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def wanted(filename: str, content: bytes) -> list[tuple[str, bytes]]:
    return members_and_metadata(filename, content)[0]


def members_and_metadata(filename: str, content: bytes) -> tuple[list[tuple[str, bytes]], bytes | None]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / filename
        path.write_bytes(content)
        return _wanted_members(path, filename)


def test_sdist_top_level_files_and_declared_license_files() -> None:
    # PKG-INFO comes last: the files it names were kept as candidates until then.
    content = sdist(
        [
            ("COPYING", b"top"),
            ("NOTICE.txt", b"notice"),
            ("LICENSES/MIT.txt", b"declared"),
            ("src/pkg/LICENSE", b"not declared, not at the top"),
            ("README", b"not a license"),
            ("PKG-INFO", b"Metadata-Version: 2.4\nName: pkg\nVersion: 1.0\nLicense-File: LICENSES/MIT.txt\n"),
        ]
    )
    assert wanted("pkg-1.0.tar.gz", content) == [
        ("COPYING", b"top"),
        ("LICENSES/MIT.txt", b"declared"),
        ("NOTICE.txt", b"notice"),
    ]


def test_wheel_license_folders_only() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("pkg/LICENSE", b"a module's folder: not the wheel's license")
        wheel.writestr("pkg-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
        wheel.writestr("pkg-1.0.dist-info/licenses/docs/third-party.txt", b"licenses/: all of it")
        wheel.writestr("pkg-1.0.dist-info/license_files/LICENSE.txt", b"older hatchling")
        wheel.writestr("pkg-1.0.dist-info/AUTHORS.rst", b"authors")
    assert [p for p, _ in wanted("pkg-1.0-py3-none-any.whl", buffer.getvalue())] == [
        "pkg-1.0.dist-info/AUTHORS.rst",
        "pkg-1.0.dist-info/license_files/LICENSE.txt",
        "pkg-1.0.dist-info/licenses/docs/third-party.txt",
    ]


def test_a_huge_license_member_is_read_only_as_far_as_matched() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("pkg-1.0.dist-info/LICENSE", bytes(100 << 20))  # 100 MiB of zeros, ~100 KiB packed
    content = buffer.getvalue()
    tracemalloc.start()
    try:
        found = wanted("pkg-1.0-py3-none-any.whl", content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(p, len(c)) for p, c in found] == [("pkg-1.0.dist-info/LICENSE", MAX_LICENSE_SIZE + 1)]
    assert peak < 16 << 20


def test_a_member_leaving_the_archive_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("../pkg-1.0.dist-info/LICENSE", b"MIT")
    with pytest.raises(ArchiveError):
        wanted("pkg-1.0-py3-none-any.whl", buffer.getvalue())


def recorded(server: IndexServer, sha256: str, size: int | None) -> ReleaseFile:
    url = server.url.removesuffix("/pypi") + f"/files/{IDNA}"
    return ReleaseFile(filename=IDNA, url=url, sha256=sha256, packagetype="bdist_wheel", size=size)


def test_the_file_is_checked_before_it_is_read(tmp_path: Path) -> None:
    real = (FIXTURES / "files" / IDNA).read_bytes()
    with IndexServer({}) as server:
        client = IndexClient(IndexSettings(url=server.url, attempts=1))
        fetched = fetch(recorded(server, hashlib.sha256(real).hexdigest(), len(real)), client)
        assert [p for p, _ in fetched.license_files] == ["idna-3.10.dist-info/LICENSE.md"]
        assert fetched.sha512 == hashlib.sha512(real).hexdigest()
        with zipfile.ZipFile(io.BytesIO(real)) as wheel:
            assert fetched.metadata == wheel.read("idna-3.10.dist-info/METADATA")
        with pytest.raises(EnrichmentError, match=f"^{IDNA}: its SHA256 is not the one the index gives$"):
            fetch(recorded(server, "0" * 64, len(real)), client)
        asked = len(server.requests)
        with pytest.raises(EnrichmentError, match=f"^{IDNA}: larger than 16 MiB$"):
            fetch(recorded(server, "0" * 64, 17 << 20), client)
        assert len(server.requests) == asked  # not even asked for


def test_core_metadata_only_when_there_is_exactly_one() -> None:
    assert members_and_metadata("pkg-1.0.tar.gz", sdist([("PKG-INFO", b"Name: pkg\n")]))[1] == b"Name: pkg\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("pkg-1.0.dist-info/METADATA", b"Name: pkg\n")
        wheel.writestr("other-1.0.dist-info/METADATA", b"Name: other\n")
        wheel.writestr("pkg/sub.dist-info/METADATA", b"deeper: not core metadata")
    assert members_and_metadata("pkg-1.0-py3-none-any.whl", buffer.getvalue())[1] is None


def test_a_distribution_file_streams_to_disk_and_stops_at_its_cap(tmp_path: Path) -> None:
    """Every worker of the concurrent round may fetch at once: no file is held whole."""
    from index_server import Fault

    body = bytes(range(256)) * (32 << 10)  # 8 MiB
    with IndexServer({}) as server:
        client = IndexClient(IndexSettings(url=server.url, attempts=1))
        url = f"{api_bases(server.url)[0]}/big/"
        server.faults["big"] += [Fault(body=body), Fault(body=body)]
        with open(tmp_path / "saved", "wb+") as handle:
            tracemalloc.start()
            try:
                client.save(url, len(body), handle)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert handle.tell() == len(body)
        assert (tmp_path / "saved").read_bytes() == body
        assert peak < 1 << 20
        with open(tmp_path / "short", "wb+") as handle, pytest.raises(IndexResponseError, match="larger"):
            client.save(url, len(body) - 1, handle)


def vendored(license_: str | None, copyright_: str | None = None, comment: str | None = None) -> Component:
    return Component(
        key="wheel:pip/vendored:idna",
        name="idna",
        version="3.10",
        license_concluded=license_,
        copyright_text=copyright_,
        license_comment=comment,
    )


FOUND = FileLicenses(
    license="BSD-3-Clause", copyrights=["Copyright (c) Kim Davies"], comment="from LICENSE.md"
)


def test_the_artifact_keeps_precedence_and_a_disagreement_is_a_warning() -> None:
    mine = vendored("MIT", "Copyright Someone", "from the artifact")
    assert applied(mine, FOUND) == (
        mine,
        "warning: idna 3.10: the artifact's license files say MIT, those of its recorded distribution "
        "file say BSD-3-Clause (from LICENSE.md); keeping MIT",
    )
    assert applied(vendored("BSD-3-Clause", "x", "y"), FOUND) == (vendored("BSD-3-Clause", "x", "y"), None)


def test_the_recorded_file_fills_in_what_the_artifact_does_not_say() -> None:
    assert applied(vendored(None), FOUND)[0] == vendored(
        "BSD-3-Clause", "Copyright (c) Kim Davies", "from LICENSE.md"
    )
    # The artifact's copyrights stay, after the file's.
    assert applied(vendored(None, "Copyright (c) Kim Davies\nCopyright Other", "notices"), FOUND)[
        0
    ] == vendored(
        "BSD-3-Clause",
        "Copyright (c) Kim Davies\nCopyright Other",
        "from LICENSE.md Copyright text also from the artifact's own files.",
    )
    # Nothing certain in the file: the artifact's own finding stands if it has one.
    unsure = FileLicenses(copyrights=["Copyright (c) Kim Davies"], comment="not exact")
    assert applied(vendored(None, "Copyright Other", "notices"), unsure)[0] == vendored(
        None, "Copyright Other", "notices"
    )
    assert applied(vendored(None), unsure)[0] == vendored(None, "Copyright (c) Kim Davies", "not exact")
    # The artifact's finding stands, but where it found no copyright the file's notices come
    # in, and the comment says from where.
    from sbomgen.scan.license_text import METHOD

    files = FileLicenses(
        copyrights=["Copyright (c) Kim Davies"],
        comment=f"Concluded license: {METHOD}. LICENSE in idna.whl: not exact (no SPDX License List text).",
    )
    assert applied(vendored(None, None, "Concluded license: headers say no license."), files)[0] == vendored(
        None,
        "Copyright (c) Kim Davies",
        "Concluded license: headers say no license. Copyright text from the recorded distribution file: "
        "LICENSE in idna.whl: not exact (no SPDX License List text).",
    )
    # A file without notices changes nothing.
    assert applied(vendored(None, None, "notices"), FileLicenses(comment="none"))[0] == vendored(
        None, None, "notices"
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    folder=st.sampled_from(["/", "../", "../../../../../../../..", "a/../../", "x" * 300 + "/"]),
    stem=st.text(st.sampled_from("aZ._-/"), max_size=300),
)
def test_the_index_names_the_file_but_not_where_it_is_saved(tmp_path: Path, folder: str, stem: str) -> None:
    """The file name is the index's to choose: "/x.whl", "../x.whl" and names longer than the
    file system takes stay words, not paths; the file is read all the same."""
    real = (FIXTURES / "files" / IDNA).read_bytes()
    target = tmp_path / "out"
    target.mkdir(exist_ok=True)
    name = (
        f"{folder}{str(target).lstrip('/') if folder.startswith('.') else target}/{stem}-1.0-py3-none-any.whl"
    )
    with IndexServer({}) as server:
        client = IndexClient(IndexSettings(url=server.url, attempts=1))
        url = server.url.removesuffix("/pypi") + f"/files/{IDNA}"
        file = ReleaseFile(filename=name, url=url, sha256=hashlib.sha256(real).hexdigest(), packagetype="")
        assert [p for p, _ in fetch(file, client).license_files] == ["idna-3.10.dist-info/LICENSE.md"]
    assert list(target.iterdir()) == []


def test_a_file_that_cannot_be_saved_is_a_note_not_a_crash(tmp_path: Path) -> None:
    """No space left (here: a file size limit) is the file's failure, told in one line."""
    real = (FIXTURES / "files" / IDNA).read_bytes()
    program = (
        "import resource, signal, sys\n"
        "from sbomgen.documents.index import ReleaseFile\n"
        "from sbomgen.enrich.distribution import fetch\n"
        "from sbomgen.enrich.index import IndexClient, IndexSettings\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "file = ReleaseFile(filename=sys.argv[2], url=sys.argv[1], sha256=sys.argv[3], packagetype='')\n"
        "try:\n"
        "    fetch(file, IndexClient(IndexSettings(url=sys.argv[1], attempts=1)))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    with IndexServer({}) as server:
        url = server.url.removesuffix("/pypi") + f"/files/{IDNA}"
        done = subprocess.run(
            [sys.executable, "-c", program, url, IDNA, hashlib.sha256(real).hexdigest()],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
    assert (done.stdout, done.stderr) == (
        f"EnrichmentError {IDNA}: not saved to a temporary file (File too large)\n",
        "",
    )


@contextlib.contextmanager
def raw_server(answer: bytes, then_trickle: bool = False) -> Iterator[str]:
    """A server that sends ``answer`` to every request, whatever HTTP says; then, if asked,
    a byte every 50 ms for ever."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):  # the listener closed
            while True:
                connection, _ = listener.accept()
                with connection, contextlib.suppress(OSError):  # the client gone
                    connection.recv(65536)
                    connection.sendall(answer)
                    while then_trickle:
                        connection.sendall(b"x")
                        time.sleep(0.05)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/f"
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10, "the answer ended 990 bytes short"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "not a well-formed HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a well-formed HTTP answer"),
        (b"SMTP ready\r\n\r\n", "not a well-formed HTTP answer"),
    ],
)
def test_a_broken_answer_is_an_index_error_after_its_retries(answer: bytes, problem: str) -> None:
    with raw_server(answer) as url:
        client = IndexClient(IndexSettings(url=url, attempts=2, backoff=0))
        with pytest.raises(IndexResponseError, match=f"^{url}: {problem}"):
            client.file(url)
        with pytest.raises(IndexResponseError, match=f"^{url}: {problem}"):
            client.save(url, 1 << 20, io.BytesIO())


def test_an_answer_that_trickles_in_is_given_up() -> None:
    """Each read within the timeout, but the whole answer never: the index is unreachable,
    after a bounded time, not a run that hangs."""
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n", then_trickle=True) as url:
        client = IndexClient(IndexSettings(url=url, attempts=1, timeout=5, answer_timeouts=0))
        message = f"^{url}: the whole answer took longer than 0 seconds$"
        with pytest.raises(IndexUnreachable, match=message):
            client.file(url)
        with pytest.raises(IndexUnreachable, match=message):
            client.save(url, 1 << 30, io.BytesIO())
