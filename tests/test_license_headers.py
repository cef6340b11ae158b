"""Licenses and copyrights from the leading comments of a bundled component's source files."""

from __future__ import annotations

import io
import re
import resource
import sqlite3
import subprocess
import sys
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

from conftest import python_within
from hypothesis import given, settings
from hypothesis import strategies as st
from test_licenses import MIT

from sbomgen.model import Component
from sbomgen.model.files import FileTable
from sbomgen.scan import scan
from sbomgen.scan.interface import ScanContext, Scanner
from sbomgen.scan.license_files import LicenseFileScanner, sections
from sbomgen.scan.license_files import concluded as from_files
from sbomgen.scan.license_headers import (
    _NOTICE,
    HEAD_SIZE,
    concluded,
    identifiers,
    is_source,
    leading_comment,
    may_be_notice,
    notice,
    stated_copyrights,
)
from sbomgen.scan.license_text import MAX_COPYRIGHT_LENGTH, MAX_COPYRIGHTS, copyrights, detect
from sbomgen.scan.wheels import read_wheel

DETECT = detect  # uncached: what the rules say now, whatever a cache holds
C_MIT = (
    "/* MIT License\n *\n" + "".join(f" * {line}\n".rstrip() + "\n" for line in MIT.splitlines()) + " */\n"
)
PY_MIT = "#!/usr/bin/env python3\n" + "".join(f"# {line}".rstrip() + "\n" for line in MIT.splitlines())
COMPONENT = Component(key="lib", name="lib", version="1")


def _conclude(**files: str) -> Component:
    notices = [(p, c) for p, text in files.items() if (c := notice(text.encode())) is not None]
    return concluded(COMPONENT, notices, DETECT)


def test_comment_marks_taken_out() -> None:
    for source in (C_MIT + "#include <x.h>\n", C_MIT.replace("/*", "/**")):
        assert leading_comment(source.encode()) == "MIT License\n\n" + MIT.strip()
    assert leading_comment((PY_MIT + "import os\n").encode()) == MIT.strip()
    assert leading_comment(b"// SPDX-License-Identifier: MIT\nint x;\n") == "SPDX-License-Identifier: MIT"
    assert leading_comment(b"#include <x.h>\n/* Copyright 2020 A */\n") is None
    assert notice(b'"""docstring"""\n') is None
    assert notice(b"/* just a comment */\n") is None
    assert [p for p in ("a.c", "b.h", "c.py", "d.txt", "e", "LICENSE.c.txt") if is_source(p)] == [
        "a.c",
        "b.h",
        "c.py",
    ]


def test_all_agree() -> None:
    c = _conclude(**{"a.c": C_MIT, "b.py": PY_MIT, "c.c": "int x;\n"})
    assert (c.license_concluded, c.copyright_text) == ("MIT", "Copyright (c) 2020 Example Author")
    assert c.license_comment is not None and "2 file(s) say MIT (first a.c)" in c.license_comment
    stated = _conclude(**{"a.c": "// SPDX-License-Identifier: Apache-2.0 OR MIT\n// Copyright 2024 B\n"})
    assert (stated.license_concluded, stated.copyright_text) == ("Apache-2.0 OR MIT", "Copyright 2024 B")
    # Files that each say one license exactly, not all the same one: all of them apply.
    both = _conclude(
        **{"a.c": "// SPDX-License-Identifier: MIT\n", "b.c": "// SPDX-License-Identifier: BSD-3-Clause\n"}
    )
    assert both.license_concluded == "BSD-3-Clause AND MIT"
    three = _conclude(
        **{
            "a.c": C_MIT,
            "b.c": "// SPDX-License-Identifier: Apache-2.0 OR MIT\n",
            "c.c": "// SPDX-License-Identifier: 0BSD\n",
        }
    )
    assert three.license_concluded == "0BSD AND (Apache-2.0 OR MIT) AND MIT"  # sorted, as the notes are


def test_hostile_headers() -> None:
    near = C_MIT.replace("free of charge", "for a small fee")
    cc0_dedication = (
        "/*\n   Written in 2012 by Someone\n\n   To the extent possible under law, the author(s) have "
        "dedicated all copyright\n   and related and neighboring rights to this software to the "
        "public domain\n"
        "   worldwide.\n*/\n"
    )
    for files in (
        {"a.c": C_MIT, "b.c": near},  # one near-MIT file among MIT ones
        {"a.c": "/* SPDX-License-Identifier: MIT */\n/* SPDX-License-Identifier: GPL-2.0-only */\n"},
        {"a.c": "// SPDX-License-Identifier: not a license (really)\n"},
        {"a.c": cc0_dedication},
        {"a.c": "/*" + " Copyright 2020 A, license text\n" * 10_000 + "*/\n"},  # huge: cut to the head
    ):
        heads = {p: t.encode()[:HEAD_SIZE] for p, t in files.items()}
        c = concluded(COMPONENT, [(p, n) for p, h in heads.items() if (n := notice(h))], DETECT)
        assert c.license_concluded is None, files
        assert (
            c.license_comment is not None
            and "say no license" in c.license_comment
            or "say MIT" in (c.license_comment or "")
        )
    assert concluded(COMPONENT, [], DETECT) is COMPONENT


@settings(max_examples=50, deadline=None)
@given(
    st.binary(max_size=HEAD_SIZE) | st.text(alphabet="/*# \t\n\x1c\xa0©abcCopyrightLicense").map(str.encode)
)
def test_any_head(head: bytes) -> None:
    comment = notice(head)
    whole = leading_comment(head)  # what notice's quick refusals must never change
    assert comment == (whole if whole is not None and _NOTICE.search(whole) else None)
    assert comment is None or may_be_notice(head)  # the reading process's filter drops no notice
    c = concluded(COMPONENT, [("a.c", comment)] if comment else [], DETECT)
    assert c.license_concluded in (None, "MIT") or "SPDX-License-Identifier" in (comment or "")


def test_stated_copyrights() -> None:
    head = (
        b'"""Requests.\n\n:copyright: (c) 2017 by Kenneth Reitz.\n:license: Apache 2.0, see LICENSE.\n"""\n'
        b'__copyright__ = "Copyright Kenneth Reitz"\n'
        b'__copyright__ = f"2014 {__author__}"\n'  # code, not a statement
        b'__copyright__ = "2014-2019 %s" % __author__\n'
        b"    :copyright: Copyright 2006-2025 by the Pygments team, see AUTHORS.\n"
        b":copyright: nobody\n"
    )
    assert stated_copyrights(head) == (
        "(c) 2017 by Kenneth Reitz",
        "Copyright Kenneth Reitz",
        "Copyright 2006-2025 by the Pygments team, see AUTHORS",
    )
    assert copyrights(
        "# SPDX-FileCopyrightText: 2015 Eric Larson\n#\n# SPDX-License-Identifier: Apache-2.0\n"
    ) == ("SPDX-FileCopyrightText: 2015 Eric Larson",)
    many = b"".join(b":copyright: (c) %d by N%d\n" % (1000 + i, i) for i in range(1000))[:HEAD_SIZE]
    assert len(stated_copyrights(many)) == MAX_COPYRIGHTS


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                ":copyright: ",
                "__copyright__ = '",
                "SPDX-FileCopyrightText: ",
                "Copyright ",
                "(c) 2020 ",
                "\n",
                " ",
                "'",
                '"',
                "2020",
                "Name",
                "x" * 500,
                "\u00a9",
                ".",
                ",",
                "\x00",
            ]
        ),
        max_size=200,
    )
)
def test_any_stated_copyrights(parts: list[str]) -> None:
    """Whatever a head holds, the statements are few, short, one line each."""
    found = stated_copyrights("".join(parts).encode()[:HEAD_SIZE])
    assert len(found) <= MAX_COPYRIGHTS
    assert all(len(s) <= MAX_COPYRIGHT_LENGTH and "\n" not in s for s in found)


class _Heads(Scanner):
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def head(self, path: str) -> int:
        return HEAD_SIZE if path.endswith(".c") else 0

    def visit_head(self, path: str, head: bytes) -> None:
        self.seen[path] = len(head)

    def finish(self, context: ScanContext) -> None:
        pass


def test_only_heads_cross_the_pass(tmp_path: Path) -> None:
    archive = tmp_path / "p-1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, size in (("big.c", 5 << 20), ("small.c", 10), ("other.txt", 100)):
            info = tarfile.TarInfo(f"p-1/{name}")
            info.size = size
            tar.addfile(info, io.BytesIO(b"x" * size))
    heads = _Heads()
    scan(archive, scanners=[heads])
    assert heads.seen == {"big.c": HEAD_SIZE, "small.c": 10}


class _Keeping(_Heads):
    def keeps_head(self, head: bytes) -> bool:
        return head.startswith(b"keep")


def test_heads_not_kept_stay_in_the_reading_process(tmp_path: Path) -> None:
    archive = tmp_path / "p-1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in (("a.c", b"keep me"), ("b.c", b"drop me"), ("c.txt", b"keep")):
            info = tarfile.TarInfo(f"p-1/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    heads = _Keeping()
    inventory = scan(archive, scanners=[heads])
    assert heads.seen == {"a.c": 7}
    assert [f.path for f in inventory.files] == ["a.c", "b.c", "c.txt"]  # every file still recorded


def test_notices_and_license_files_wait_on_disk(tmp_path: Path) -> None:
    """What the scanner keeps of every source file's notice and every license file does not
    grow its memory with their number; a component reads back its own."""
    scanner = LicenseFileScanner(tmp_path)
    scanner.visit_head("src/0.c", C_MIT.encode())  # its imports and database, before measuring
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(1, 5_000):
            scanner.visit_head(f"src/{number}.c", C_MIT.encode())
            scanner.visit(f"lib{number}/LICENSE", MIT.encode())
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1 << 20  # in memory: over 10 MB
    component = Component(key="lib", name="lib", version="1", files=("src/7.c", "src/8.c", "x.c"))
    context = ScanContext("a", None, FileTable(), ("SHA256",), components=[component])
    scanner.finish(context)
    [found] = context.components
    assert found.license_concluded == "MIT"
    assert found.license_comment is not None and "2 file(s) say MIT (first src/7.c)" in found.license_comment


def test_license_sections() -> None:
    text = (
        "A. HISTORY\n==========\n\nprose\n\n0BSD LICENSE FOR DOCS\n---------------------\n\n"
        "Permission to use, copy, modify, and/or distribute this software for any\npurpose with or "
        'without fee is hereby granted.\n\nTHE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL '
        "WARRANTIES WITH\nREGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY\nAND "
        "FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT,\nINDIRECT, OR "
        "CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM\nLOSS OF USE, DATA OR PROFITS, "
        "WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR\nOTHER TORTIOUS ACTION, ARISING OUT OF OR IN "
        "CONNECTION WITH THE USE OR\n"
        "PERFORMANCE OF THIS SOFTWARE.\n\nMIT FOR THE REST\n----------------\n\n" + MIT
    )
    parts = sections("LICENSE", text.encode())
    assert [p for p, _ in parts] == [
        "LICENSE part 01 (0BSD LICENSE FOR DOCS)",
        "LICENSE part 02 (MIT FOR THE REST)",
    ]
    c = from_files(COMPONENT, parts, DETECT, print)
    assert (c.license_concluded, c.copyright_text) == ("0BSD AND MIT", "Copyright (c) 2020 Example Author")
    assert sections("LICENSE", MIT.encode()) == [("LICENSE", MIT.encode())]


def test_pep639_vendored_license_files() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n")
        archive.writestr("demo-1.0.dist-info/licenses/LICENSE.txt", MIT)
        archive.writestr(
            "demo-1.0.dist-info/licenses/src/demo/_vendor/six/LICENSE", MIT.replace("2020", "2010")
        )
        archive.writestr("demo/_vendor/vendor.txt", "six==1.16.0\nidna==3.10\n")
        archive.writestr("demo/_vendor/idna/LICENSE.md", MIT.replace("2020 Example Author", "2013 Idna"))

    def conclude(c: Component, files: list[tuple[str, bytes]], heads: list[tuple[str, str]]) -> Component:
        return from_files(c, files, DETECT, print)

    wheel, vendored = read_wheel("w.whl", buffer.getvalue(), ("SHA256",), conclude=conclude)
    assert (wheel.license_concluded, wheel.copyright_text) == ("MIT", "Copyright (c) 2020 Example Author")
    assert [(c.name, c.license_concluded, c.copyright_text) for c in vendored] == [
        ("six", "MIT", "Copyright (c) 2010 Example Author"),
        ("idna", "MIT", "Copyright (c) 2013 Idna"),
    ]


def test_cache_dir_holds_the_license_findings(tmp_path: Path) -> None:
    from conftest import CPYTHON_311, sbomgen

    out, cache = tmp_path / "out.spdx.json", tmp_path / "cache"
    result = sbomgen("tarball", str(CPYTHON_311), "--offline", "--cache-dir", str(cache), "-o", str(out))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(cache / "licenses.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM findings").fetchone()[0] >= 3


_OLD_IDENTIFIER = re.compile(r"SPDX-License-Identifier:[ \t]*([^\n]*?)[ \t]*(?:\*/)?[ \t]*$", re.MULTILINE)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["SPDX-License-Identifier:", " ", "\t", "*/", "*", "/", "\n", "\r", "MIT", "x"]),
        max_size=16,
    )
)
def test_identifier_values_as_the_line_pattern_gave_them(parts: list[str]) -> None:
    text = "".join(parts)
    assert identifiers(text) == _OLD_IDENTIFIER.findall(text)


def test_a_long_run_of_spaces_after_an_identifier_is_cheap() -> None:
    """A source file whose head (4 KiB) is a notice with an identifier line of spaces, then
    more text: each split of the run was tried (a minute of CPU); a second is plenty."""
    program = (
        "import sys; from sbomgen.model import Component; "
        "from sbomgen.scan.license_headers import concluded, notice; "
        "c = concluded(Component(key='lib', name='lib', version='1'), "
        "[('a.c', notice(sys.stdin.buffer.read()))], lambda _: None); print(c.license_concluded)"
    )
    head = b"/* Copyright 2024 Kim\n * SPDX-License-Identifier: MIT" + b" " * 4000 + b"x */\n"
    run = python_within(program, head, cpu_seconds=5)
    assert (run.returncode, run.stdout.decode().strip()) == (0, "None"), run.stderr


_OLD_COPYRIGHT = re.compile(
    r"\bSPDX-FileCopyrightText:[ \t]*(?=[0-9A-Z©(])"
    r"|(?:\bCopyright\b|\bCOPYRIGHT\b)(?:\s*(?:\([cC]\)|©))?[ \t]*\n?[ \t]*"
    r"(?!(?i:holders?|owners?|notices?|law|act|statement)\b)(?=[0-9A-Z©(])"
    r"|(?:\([cC]\)|©)[ \t]*(?=\d{4})"
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Copyright", "COPYRIGHT", "(c)", "©", " ", "\t", "\n", "Kim", "2024", "holders", "x"]
        ),
        max_size=14,
    )
)
def test_copyright_starts_as_the_old_pattern_found_them(parts: list[str]) -> None:
    from sbomgen.scan.license_text import _COPYRIGHT

    text = "".join(parts)
    assert [m.span() for m in _COPYRIGHT.finditer(text)] == [m.span() for m in _OLD_COPYRIGHT.finditer(text)]


def test_a_long_run_of_blanks_after_copyright_is_cheap() -> None:
    """ "Copyright" then a license file's worth (64 KiB) of spaces: the pattern's two space
    runs around an optional newline split the run every way (minutes of CPU); now linear."""
    program = (
        "import sys; from sbomgen.scan.license_text import copyrights; print(copyrights(sys.stdin.read()))"
    )
    run = subprocess.run(
        [sys.executable, "-c", program],
        input=b"Copyright" + b" \t" * 32000 + b"x\n",
        capture_output=True,
        cwd=Path(__file__).parent.parent,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (5, 5)),
    )
    assert (run.returncode, run.stdout.decode().strip()) == (0, "()"), run.stderr


ENCODINGS = {
    "UTF-8 with a byte-order mark": lambda text: text.encode("utf-8-sig"),
    "UTF-16 LE": lambda text: text.encode("utf-16-le").join([b"\xff\xfe", b""]),
    "UTF-16 BE": lambda text: text.encode("utf-16-be").join([b"\xfe\xff", b""]),
    "CRLF": lambda text: text.replace("\n", "\r\n").encode(),
}


@settings(max_examples=200, deadline=None)
@given(
    holder=st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40),
    style=st.sampled_from(["/* {} */\n", "// {}\n", "# {}\n"]),
    encoding=st.sampled_from(sorted(ENCODINGS)),
)
def test_a_notice_is_found_whatever_the_file_encoding(holder: str, style: str, encoding: str) -> None:
    """A byte-order mark, UTF-16 or CRLF line ends do not hide a notice, in the reading
    process's filter or after it."""
    text = (
        style.format(f"Copyright (c) 2024 {holder.replace('*/', '')}")
        + style.format("SPDX-License-Identifier: MIT")
        + "int x;\n"
    )
    head = ENCODINGS[encoding](text)[:HEAD_SIZE]
    plain = text.encode()[:HEAD_SIZE]
    assert may_be_notice(head)
    assert notice(head) == notice(plain) is not None
