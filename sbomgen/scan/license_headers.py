"""Licenses and copyrights from the leading comment of source files, for a bundled
component that ships no license file (HACL*, mpdecimal, libb2 in CPython).

Only the first ``HEAD_SIZE`` bytes of a file are read, in the one pass. A file's notice
is its leading comment block (``/* */``, ``//`` or ``#`` lines) with the comment marks
taken out. A notice says a license when it is, as a whole, one SPDX License List text or
standard header (the same exact rule as for license files), a license steward's own notice
or a short reference naming one license version (``license_notices``: libb2's CC0 notice,
HACL*'s "Licensed under the Apache 2.0 License."), or when it holds
``SPDX-License-Identifier:`` lines that all give one valid expression (the author's own
statement). When every file of a component with a notice says a license so, the
component's is the AND of the distinct expressions, in sorted order; one file with a notice
that says none makes it NOASSERTION.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..model import Component

if TYPE_CHECKING:
    from .license_text import Finding

HEAD_SIZE = 4 << 10
SUFFIXES = (".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".inc", ".asm", ".s", ".S", ".py", ".pyi")
METHOD = (
    "the leading comment of each source file with a notice: an SPDX-License-Identifier line, or the "
    "whole comment exactly one SPDX License List text or standard header, a license steward's notice "
    "or a short reference naming one license version; when all such files say one, the AND of what "
    "they say, else NOASSERTION"
)
_NOTICE = re.compile(r"(?i)copyright|licen[cs]e|public domain|©")
_NOTICE_WORDS = (b"copyright", b"licen", b"public domain", "©".encode())
_IDENTIFIER = re.compile(r"SPDX-License-Identifier:([^\n]*)")
_LINE_COMMENT = re.compile(r"[ \t]*(?://|#(?=[ \t!]|$))")


def is_source(path: str) -> bool:
    return path.endswith(SUFFIXES)


def leading_comment(head: bytes) -> str | None:
    """The text of the comment block a file begins with (blank lines, a shebang and
    line comments, then block comments, in any order), its marks taken out; None if none."""
    cut = len(head) >= HEAD_SIZE
    text = _utf8(head).decode("utf-8", errors="replace").replace("\r\n", "\n")
    lines = text.split("\n")[:-1] if cut else text.split("\n")  # a cut last line
    out: list[str] = []
    in_block = False
    lines.reverse()  # taken from the end; what follows a comment on its line goes back
    while lines:
        line = lines.pop()
        stripped = line.strip()
        if in_block:
            end = stripped.find("*/")
            body = stripped if end < 0 else stripped[:end]
            out.append(re.sub(r"^\*+ ?", "", body))
            if end >= 0:
                in_block = False
                if after := stripped[end + 2 :].strip():
                    if not after.startswith(("/*", "//")):
                        break  # code
                    lines.append(after)  # a second comment on the line is part of the notice
            continue
        if not stripped:
            out.append("")
        elif stripped.startswith("/*"):
            body = stripped[2:].lstrip("*")
            end = body.find("*/")
            out.append((body if end < 0 else body[:end]).strip())
            in_block = end < 0
            if end >= 0 and (after := body[end + 2 :].strip()):
                if not after.startswith(("/*", "//")):
                    break  # code
                lines.append(after)
        elif (marker := _LINE_COMMENT.match(line)) is not None:
            out.append(line[marker.end() :].lstrip("/!#").strip() if not stripped.startswith("#!") else "")
        else:
            break
    comment = "\n".join(out).strip()
    return comment or None


def may_be_notice(head: bytes) -> bool:
    """Whether ``notice`` could find one in ``head``: most files begin with code or a
    docstring, or say no such word. Cheap, so the reading process sends only these heads."""
    head = _utf8(head)
    first = head.lstrip()[:1]
    if first and first not in b"/#" and 0x20 <= first[0] < 0x80:
        return False
    lower = head.lower()
    return any(word in lower for word in _NOTICE_WORDS)


def _utf8(head: bytes) -> bytes:
    """``head`` as UTF-8: a UTF-8 byte-order mark taken off, UTF-16 (which has one) decoded."""
    if head.startswith(codecs.BOM_UTF8):
        return head[len(codecs.BOM_UTF8) :]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace").encode()
    return head


def notice(head: bytes) -> str | None:
    """The leading comment when it is a license or copyright notice."""
    if not may_be_notice(head):
        return None
    comment = leading_comment(head)
    return comment if comment is not None and _NOTICE.search(comment) else None


# A module's stated copyright: a docstring field ":copyright: (c) 2012 by Name" or a plain
# literal "__copyright__ = 'Copyright Name'" (an f-string or "%s" % name is code, not a statement).
_FIELD = re.compile(r"^[ \t]*(?::copyright:|__copyright__[ \t]*=[ \t]*[\"'])([^\n]{0,400})", re.MULTILINE)


def stated_copyrights(head: bytes) -> tuple[str, ...]:
    """The copyright statements of the ``:copyright:`` fields and ``__copyright__`` literals
    in a file's first bytes, each as ``copyrights`` reads it (so only a statement with its
    "Copyright", "(c)" or "©")."""
    from .license_text import MAX_COPYRIGHTS, copyrights

    if b"copyright" not in head:  # in both fields' names
        return ()
    text = head.decode("utf-8", errors="replace")
    found: list[str] = []
    for value in _FIELD.findall(text):
        found += [s for s in copyrights(value) if s not in found]
    return tuple(found[:MAX_COPYRIGHTS])


def identifiers(comment: str) -> list[str]:
    """The value of each ``SPDX-License-Identifier:`` line, without the spaces and the ``*/``
    around it: cut in code, as a pattern with a space run either side of a lazy value tries
    every split of a long run (a 4 KiB line of spaces took a minute)."""
    return [value.strip(" \t").removesuffix("*/").rstrip(" \t") for value in _IDENTIFIER.findall(comment)]


def _says(comment: str, detect: Callable[[bytes], Finding]) -> tuple[str | None, tuple[str, ...], str]:
    """(expression or None, copyrights, what was found) of one notice."""
    from ..model.licenses import spdx_expression
    from . import license_notices
    from .license_text import copyrights

    statements = copyrights(comment)
    stated = list(dict.fromkeys(identifiers(comment)))
    if stated:
        expressions = {spdx_expression(s) for s in stated}
        if len(stated) == 1 and None not in expressions:
            (expression,) = expressions
            return expression, statements, f"SPDX-License-Identifier: {expression}"
        return None, statements, f"identifiers that disagree or are not valid: {', '.join(stated)}"
    finding = detect(comment.encode())
    if finding.expression is not None:
        return finding.expression, statements, finding.expression + (_HOW if finding.header else "")
    # Through the detector's cache where it has one (the matcher, loaded to match, is large).
    cached = getattr(detect, "notice", None)
    known = cached(comment, license_notices.match) if cached else license_notices.match(comment)
    if known is not None:
        return known[0], statements, f"{known[0]} ({known[1]})"
    why = finding.problem or (
        f"found in part: {', '.join(finding.found)}" if finding.found else "no list text"
    )
    return None, statements, f"not exact ({why})"


def concluded(
    component: Component, notices: Sequence[tuple[str, str]], detect: Callable[[bytes], Finding]
) -> Component:
    """``component`` with what the notices (path, comment) of its files say."""
    from ..documents.text import printable
    from .license_text import MAX_COPYRIGHTS

    if not notices:
        return component
    by_expression: dict[str, list[str]] = {}
    how: dict[str, str] = {}  # how a file said an expression, where not by its list text or identifier
    statements: list[str] = []
    for path, comment in sorted(notices):
        expression, found, what = _says(comment, detect)
        if expression and what.startswith(f"{expression} (") and expression not in how:
            how[expression] = what[len(expression) :]
        statements += [s for s in found if s not in statements][: MAX_COPYRIGHTS - len(statements)]
        by_expression.setdefault(expression if expression else f"\0{what}", []).append(path)
    notes = [
        f"{len(paths)} file(s) {_plain(key)}{how.get(key, '')} (first {paths[0]})"
        for key, paths in sorted(by_expression.items(), key=str)
    ]
    return replace(
        component,
        license_concluded=_all_of(sorted(by_expression)),
        copyright_text="\n".join(statements) or None,
        license_comment=printable(f"Concluded license: {METHOD}. " + "; ".join(notes) + "."),
    )


_HOW = " (its standard license header)"


def _all_of(expressions: list[str]) -> str | None:
    """The AND of ``expressions``, each what every file of one group said; None where a group
    said no license (its key begins with NUL)."""
    from ..model.licenses import spdx_expression

    if any(e.startswith("\0") for e in expressions):
        return None
    if len(expressions) == 1:
        return expressions[0]
    return spdx_expression(" AND ".join(f"({e})" if " " in e else e for e in expressions))


def _plain(key: str | None) -> str:
    return f"say {key}" if key and not key.startswith("\0") else f"say no license: {(key or '')[1:]}"
