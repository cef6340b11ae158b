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


def sections(where: str, content: bytes) -> list[tuple[str, bytes]]:
    """A license file that is several licenses under dash-underlined headings (CPython's
    LICENSE: the PSF, BeOpen, CNRI, CWI and 0BSD texts after a history) as one file per
    such section, its heading left out; any other file as it is."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return [(where, content)]
    headings = list(_SUBHEADING.finditer(text))
    if len(headings) < 2:
        return [(where, content)]
    ends = [h.start() for h in headings[1:]] + [len(text)]
    return [
        (f"{where} part {number:02} ({' '.join(h.group(1).split())})", text[h.end() : end].encode())
        for number, (h, end) in enumerate(zip(headings, ends, strict=True), 1)
    ]


def concluded(
    component: Component,
    files: Sequence[tuple[str, bytes]],
    detect: Callable[[bytes], Finding],
    notice: Callable[[str], None],
) -> Component:
    """``component`` with the license and copyright its license ``files`` (where, content)
    say: a license only when every file is exactly one SPDX License List text."""
    from ..documents.text import printable
    from .license_text import METHOD
    from .license_text import Finding as Found

    if not files:
        return component
    expressions: list[str] = []
    statements: list[str] = []
    notes: list[str] = []
    certain = True
    for where, content in sorted(files):
        try:
            finding = detect(content)
        except Exception as exc:  # noqa: BLE001 - the cache or detector failing is a non-answer
            finding = Found(None, (), problem=f"the detector failed ({type(exc).__name__})")
        if finding.problem is not None:
            notice(f"warning: {where}: no license concluded ({finding.problem})")
        statements += [s for s in finding.copyrights if s not in statements]
        if finding.expression is not None:
            if finding.expression not in expressions:
                expressions.append(finding.expression)
            notes.append(f"{where}: {finding.expression}")
        else:
            why = finding.problem or (
                f"found in part: {', '.join(finding.found)}" if finding.found else "no SPDX License List text"
            )
            notes.append(f"{where}: not exact ({why})")
            certain = False
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
