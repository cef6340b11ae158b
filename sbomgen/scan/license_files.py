"""Concluded licenses and copyright text from the license files the artifact carries.

Must run last: it reads the components the others made. The project's own license files
are those at the top of the artifact; a bundled component's are those among its files.
Bundled wheels (and what they vendor) are concluded by ``.wheels`` from the files inside
them. The files are read by the one pass like any other wanted member.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import Component
from ..model.files import temporary_database, temporary_storage
from . import license_headers
from .interface import ScanContext, Scanner

if TYPE_CHECKING:
    from .license_text import Finding

# LICENSE, LICENCE.txt, COPYING, LICENSE-MIT, COPYING.LESSER; not license_data.py
LICENSE_NAME = re.compile(r"(?i)(?:licen[cs]e|copying)(?:[.-][a-z0-9.-]{1,20})?")


def is_license_file(path: str) -> bool:
    return LICENSE_NAME.fullmatch(path.rsplit("/", 1)[-1]) is not None


# A heading underlined with dashes: "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2\n-----"
_SUBHEADING = re.compile(r"^([^\n]*\S[^\n]*)\n-{3,}[ \t]*$", re.MULTILINE)
# The SPDX License List's Python-2.0 and Python-2.0.1 are one text: the PSF, BeOpen, CNRI and
# CWI agreements in this order, under these headings.
_STACK = (
    "PYTHON SOFTWARE FOUNDATION LICENSE",
    "BEOPEN.COM LICENSE AGREEMENT",
    "CNRI LICENSE AGREEMENT",
    "CWI LICENSE AGREEMENT",
)


def sections(where: str, content: bytes) -> list[tuple[str, bytes]]:
    """A license file that is several licenses under dash-underlined headings (CPython's
    LICENSE: the PSF, BeOpen, CNRI and CWI agreements after a history, then 0BSD) as one file
    per such section, its heading left out, except that the PSF, BeOpen, CNRI and CWI
    sections in a row are one, headings and all (the list's Python stack); what comes before
    the first heading (a history) is not license text. Any other file as it is."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return [(where, content)]
    headings = list(_SUBHEADING.finditer(text))
    if len(headings) < 2:
        return [(where, content)]
    ends = [h.start() for h in headings[1:]] + [len(text)]
    parts = [
        (f"{where} part {number:02} ({' '.join(h.group(1).split())})", text[h.end() : end].encode())
        for number, (h, end) in enumerate(zip(headings, ends, strict=True), 1)
    ]
    names = [" ".join(h.group(1).split()) for h in headings]
    for first in range(len(names) - len(_STACK) + 1):
        if all(names[first + n].startswith(start) for n, start in enumerate(_STACK)):
            last = first + len(_STACK) - 1
            stack = text[headings[first].start() : ends[last]].encode()
            label = f"{where} parts {first + 1:02}-{last + 1:02} (the PSF, BeOpen, CNRI and CWI agreements)"
            return parts[:first] + [(label, stack)] + parts[last + 1 :]
    return parts


def is_stack(content: bytes) -> bool:
    """Whether ``content`` holds the PSF, BeOpen, CNRI and CWI agreements under their headings."""
    return any(part.startswith(" parts ") for part, _ in sections("", content))


# A file that only says which of its sibling license files apply, as a whole (after case,
# whitespace and "*" emphasis are normalised): "either of" two files is their licenses' OR.
# A small set, each a wording seen in a real package (packaging).
_EITHER = (
    re.compile(
        r"this software is made available under the terms of either of the licenses found in "
        r"(?P<first>[\w.-]{1,40}) or (?P<second>[\w.-]{1,40})\. contributions to this software is made "
        r"under the terms of both these licenses\.",
        re.IGNORECASE,
    ),
)


def _either(content: bytes) -> tuple[str, str] | None:
    """The two file names an "either of" file names, when its whole text is one of ``_EITHER``."""
    try:
        text = " ".join(content.decode("utf-8").replace("*", "").split())
    except UnicodeDecodeError:
        return None
    for wording in _EITHER:
        if (match := wording.fullmatch(text)) is not None and match["first"] != match["second"]:
            return match["first"], match["second"]
    return None


def _sibling(where: str, name: str) -> str:
    """``where`` (a path, then maybe " in FILE…") with the path's file name replaced by ``name``."""
    path, space, rest = where.partition(" ")
    folder, slash, _ = path.rpartition("/")
    return f"{folder}{slash}{name}{space}{rest}"


def concluded(
    component: Component,
    files: Sequence[tuple[str, bytes]],
    detect: Callable[[bytes], Finding],
    notice: Callable[[str], None],
) -> Component:
    """``component`` with the license and copyright its license ``files`` (where, content)
    say: a license only when every file is exactly one SPDX License List text, or an
    "either of" file whose two named sibling files are each exactly one (their licenses' OR;
    those two then count only through it)."""
    from ..documents.text import printable
    from .license_text import METHOD
    from .license_text import Finding as Found

    if not files:
        return component
    findings: dict[str, Finding] = {}
    for where, content in sorted(files):
        try:
            findings[where] = detect(content)
        except Exception as exc:  # noqa: BLE001 - the cache or detector failing is a non-answer
            findings[where] = Found(None, (), problem=f"the detector failed ({type(exc).__name__})")
    contents = dict(files)
    named: set[str] = set()
    for where in findings:
        names = _either(contents[where]) if findings[where].expression is None else None
        if names is None:
            continue
        siblings = [_sibling(where, name) for name in names]
        said = [findings[s].expression if s in findings else None for s in siblings]
        if None in said:
            why = ", ".join(
                f"{name} {'missing' if s not in findings else 'not exact'}"
                for name, s, e in zip(names, siblings, said, strict=True)
                if e is None
            )
            findings[where] = replace(findings[where], problem=f"either {names[0]} or {names[1]}: {why}")
            continue
        from ..model.licenses import spdx_expression

        either = spdx_expression(" OR ".join(e if " " not in e else f"({e})" for e in said if e is not None))
        findings[where] = replace(findings[where], expression=either)
        named.update(siblings)
    expressions: list[str] = []
    statements: list[str] = []
    notes: list[str] = []
    certain = True
    for where, finding in findings.items():
        if finding.problem is not None and not finding.problem.startswith("either "):
            notice(f"warning: {where}: no license concluded ({finding.problem})")
        statements += [s for s in finding.copyrights if s not in statements]
        if finding.expression is not None:
            if where in named:
                notes.append(f"{where}: {finding.expression} (one of an either-of choice)")
                continue
            if finding.expression not in expressions:
                expressions.append(finding.expression)
            how = " (its standard license header)" if finding.header else ""
            if (choice := _either(contents[where])) is not None:
                how = f" (either of the licenses of {choice[0]} or {choice[1]})"
            notes.append(f"{where}: {finding.expression}{how}")
        else:
            why = finding.problem or (
                f"found in part: {', '.join(finding.found)}" if finding.found else "no SPDX License List text"
            )
            notes.append(f"{where}: not exact ({why})")
            certain = False
    if len(expressions) > 1:
        expressions = [f"({e})" if " OR " in e else e for e in expressions]
    expression = " AND ".join(expressions) if certain else None
    if expression is not None and len(expressions) > 1:
        from ..model.licenses import spdx_expression

        expression = spdx_expression(expression)
    return replace(
        component,
        license_concluded=expression,
        copyright_text="\n".join(statements) or None,
        license_comment=printable(f"Concluded license: {METHOD}. " + "; ".join(notes) + "."),
    )


def concluded_or_noticed(
    component: Component,
    files: Sequence[tuple[str, bytes]],
    notices: Sequence[tuple[str, str]],
    detect: Callable[[bytes], Finding],
    notice: Callable[[str], None],
) -> Component:
    """What its license ``files`` say; where it has none, what its source files' ``notices``
    (where, leading comment) say."""
    if files:
        return concluded(component, files, detect, notice)
    return license_headers.concluded(component, notices, detect)


_SCHEMA = """
CREATE TABLE contents (path TEXT PRIMARY KEY, content BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE notices (path TEXT PRIMARY KEY, comment TEXT NOT NULL) WITHOUT ROWID;
"""


class LicenseFileScanner(Scanner):
    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        # License files' contents and source files' leading comments that are notices, by
        # path: on disk, as an archive may hold any number of them and a component reads
        # back only its own.
        self._kept: sqlite3.Connection | None = None

    def _keep(self, table: str, path: str, value: str | bytes) -> None:
        if self._kept is None:
            self._kept = temporary_database(_SCHEMA, self)
        with temporary_storage():
            self._kept.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (path, value))

    def _query(self, query: str, parameters: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
        if self._kept is None:
            return []
        with temporary_storage():
            return self._kept.execute(query, parameters).fetchall()

    def wants(self, path: str) -> bool:
        return is_license_file(path)

    def head(self, path: str) -> int:
        return license_headers.HEAD_SIZE if license_headers.is_source(path) else 0

    def keeps_head(self, head: bytes) -> bool:
        return license_headers.may_be_notice(head)

    def visit_head(self, path: str, head: bytes) -> None:
        comment = license_headers.notice(head)
        if comment is not None:
            self._keep("notices", path, comment)

    def notice(self, path: str) -> str | None:
        """The leading comment of the source file at ``path``, when it is a notice."""
        found = self._query("SELECT comment FROM notices WHERE path = ?", (path,))
        return str(found[0][0]) if found else None

    def content(self, path: str) -> bytes | None:
        """The license file at ``path``, up to what is matched."""
        found = self._query("SELECT content FROM contents WHERE path = ?", (path,))
        return bytes(found[0][0]) if found else None

    def visit(self, path: str, content: bytes) -> None:
        from .license_text import MAX_LICENSE_SIZE

        self._keep("contents", path, content[: MAX_LICENSE_SIZE + 1])  # more is not matched anyway

    def finish(self, context: ScanContext) -> None:
        from .license_text import Detector, FindingCache

        detect = Detector(FindingCache(self.cache_dir))
        try:
            context.components = [self._concluded(c, context, detect) for c in context.components]
        finally:
            detect.cache.close()

    def _concluded(
        self, component: Component, context: ScanContext, detect: Callable[[bytes], Finding]
    ) -> Component:
        if component.key == context.root_key:
            top = self._query("SELECT path, content FROM contents WHERE instr(path, '/') = 0")
            files = [s for p, content in top for s in sections(p, bytes(content))]
            return concluded(component, files, detect, context.notice)
        files = [(p, content) for p in component.files if (content := self.content(p)) is not None]
        notices = [(p, comment) for p in component.files if (comment := self.notice(p)) is not None]
        return concluded_or_noticed(component, files, notices, detect, context.notice)
