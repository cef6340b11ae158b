"""What a license file says: its license, when the whole text is exactly one SPDX License
List text, and its copyright notices.

The license is found by spdx-matcher: the SPDX License List's own templates (their
replaceable and optional parts) turned into patterns, the text normalised by the SPDX
matching guidelines (case, whitespace, punctuation, bullets, copyright notices). A file is
concluded only when the patterns of one license match its whole normalised text, start to
end; a file that carries a license among other text, or several, says nothing certain.
What was found is kept in the user's cache, keyed by the file's SHA-256, so that a second
scan of the same files does not match them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from ..documents.text import unsafe_character

MAX_LICENSE_SIZE = 64 << 10  # GPL-3.0 and AGPL-3.0, the longest common license texts, are about 35 KiB
MAX_COPYRIGHTS = 20
MAX_COPYRIGHT_LENGTH = 300
DETECTOR = f"spdx-matcher {version('spdx-matcher')}"
METHOD = (
    f"exact match of the whole text against the SPDX License List templates ({DETECTOR}, "
    "SPDX matching guidelines), else NOASSERTION"
)
MAX_REPLACEABLE = 120  # characters of one replaceable part of a template ("the authors or copyright holders")
MAX_TITLE = 40
_TITLE = re.compile(r"[\w ().,-]*\blicen[cs]e\b[\w ().,-]*")
_RULES = "2"  # bump when what is cached changes meaning

# "Copyright (c) 2001-2024 Name", "Copyright Name", "(c) 1995 Name", "© 2001 Name",
# "SPDX-FileCopyrightText: 2015 Name" (REUSE); not
# "copyright notice" nor "COPYRIGHT HOLDERS" in a disclaimer.
_COPYRIGHT = re.compile(
    r"\bSPDX-FileCopyrightText:[ \t]*(?=[0-9A-Z©(])"
    r"|(?:\bCopyright\b|\bCOPYRIGHT\b)(?:\s*(?:\([cC]\)|©))?[ \t]*(?:\n[ \t]*)?"
    r"(?!(?i:holders?|owners?|notices?|licen[cs]es?|law|act|statement)\b)(?=[0-9A-Z©(])"
    r"|(?:\([cC]\)|©)[ \t]*(?=\d{4})"
)
# Where a statement ends: a quote, a semicolon, a sentence's end, a blank line, or a line
# end not after a comma (a list of years or a name that goes on).
_END = re.compile(r'["<;]|\.(?:  |\s*\n|\s*$)|\n[ \t]*\n|(?<![,\n])\n')


# A line that is a copyright notice (or its "All rights reserved"), in a comment or not;
# not a license's own line such as Apache-2.0's "copyright license to reproduce" or
# "(c) You must retain" (a "(c)" notice gives a year).
_NOTICE_LINE = re.compile(
    r"(?im)^[ \t#*/;-]*(?:copyright\b|\(c\)[ \t]*(?=\d)|©|all rights reserved\b)"
    r"(?!\s+(?:holders?|owners?|notices?|licen[cs]es?)\b).*$"
)


@dataclass(frozen=True)
class Finding:
    expression: str | None  # an SPDX expression, only for an exact match of the whole text
    copyrights: tuple[str, ...]
    found: tuple[str, ...] = ()  # licenses found in part, when not exact
    problem: str | None = None  # why nothing could be said (too big, not text, a detector failure)


def copyrights(text: str) -> tuple[str, ...]:
    """The copyright statements of a text, each on one line, in order, without repeats."""
    found: list[str] = []
    for match in _COPYRIGHT.finditer(text):
        rest = text[match.start() : match.start() + 4 * MAX_COPYRIGHT_LENGTH]
        end = _END.search(rest, match.end() - match.start())
        statement = " ".join(rest[: end.start() if end else len(rest)].split()).rstrip(" ,.")
        if len(statement) > MAX_COPYRIGHT_LENGTH:
            statement = statement[:MAX_COPYRIGHT_LENGTH].rsplit(" ", 1)[0]
        if unsafe_character(statement) or statement in found:
            continue
        if any(c.isdigit() or c.isalpha() for c in statement.split(None, 1)[-1]):
            found.append(statement)
        if len(found) == MAX_COPYRIGHTS:
            break
    return tuple(found)


def _decode(content: bytes) -> str | None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _match(text: str) -> tuple[str | None, tuple[str, ...]]:
    """(the one license whose template matches the whole text, or None; the licenses whose
    template's fixed phrases all occur in it, in order).

    The templates' replaceable parts match anything up to thousands of characters (the
    copyright notice's up to 5,000): here the notices are taken out first and each
    replaceable part may hold a few words only, so that no text is one license's with
    other terms hidden inside it."""
    import spdx_matcher

    index, templates = spdx_matcher._load_license_analyser_cache()
    everything = spdx_matcher.normalize(text, remove_sections=spdx_matcher.REMOVE_NONE)
    terms = spdx_matcher.normalize(_NOTICE_LINE.sub("", text), remove_sections=spdx_matcher.REMOVE_NONE)
    found: list[str] = []
    exact: list[str] = []
    for license_id in dict.fromkeys(index["licenses"]):
        template = templates["licenses"][license_id][spdx_matcher.TextMatcher.name]["regexpForMatch"]
        phrases = template["finger_prints"]
        if not _in_order(phrases, everything):
            continue
        if phrases:  # a template of replaceable parts only is "found" in any text
            found.append(license_id)
        whole = re.fullmatch(_bounded("".join(template["regexps"])), terms, flags=re.IGNORECASE)
        if whole and all(_plausible(name, part or "") for name, part in whole.groupdict().items()):
            exact.append(license_id)
    return (exact[0] if len(exact) == 1 else None), tuple(sorted(found))


# A replaceable part: ".*", ".+" or ".{0,5000}" in the templates, but not an escaped "\.".
_ANY = re.compile(r"(?<!\\)\.(?:\*|\+|\{(\d*),(\d+)\})")
# A part that may be empty between spaces, "[ ]*.{0,40}[ ]*" or "[ ]*(?P<name>.*)[ ]*".
_SPACED = re.compile(r"\[ \]\*(\(\?P<\w+>)?(?<!\\)\.(?:\*|\{0?,(\d+)\})(?(1)\))(?=\[ \]\*)")


def _bounded(template: str) -> str:
    """The template with each replaceable part at most as long as ``_plausible`` allows:
    two unbounded parts side by side take time quadratic in the text when it fails to
    match (a crafted 64 KiB file took minutes). A part between spaces neither begins nor
    ends with one (the spaces around take them): else each such part splits the spaces
    around it two ways, and a text that fails late (CPython's CNRI section against PSF-2.0)
    is tried twice per part before it, exponentially; what matches is the same."""

    def spaced(part: re.Match[str]) -> str:
        high = min(int(part[2] or MAX_REPLACEABLE), MAX_REPLACEABLE)
        core = "[^ \\n]" + (f"(?:.{{0,{high - 2}}}[^ \\n])?" if high >= 2 else "")
        return f"[ ]*{part[1] or '(?:'}{core})?"

    def bound(part: re.Match[str]) -> str:
        low, high = part[1] or "0", min(int(part[2] or MAX_REPLACEABLE), MAX_REPLACEABLE)
        return f".{{{'1' if part[0] == '.+' else min(int(low), high)},{high}}}"

    return r"\s*" + _ANY.sub(bound, _SPACED.sub(spaced, template)) + r"\s*"


def _plausible(name: str, part: str) -> bool:
    """Whether a replaceable part holds what it is for: a name or a few words; where the
    notices were (taken out), at most a title."""
    if name == "copyright":
        return part.strip() == "" or (len(part) <= MAX_TITLE and _TITLE.fullmatch(part.strip()) is not None)
    return len(part) <= MAX_REPLACEABLE


def _in_order(phrases: list[str], text: str) -> bool:
    start = 0
    for phrase in phrases:
        start = text.find(phrase, start)
        if start < 0:
            return False
        start += len(phrase)
    return True


def detect(content: bytes) -> Finding:
    """What ``content`` says; never raises for what the content is."""
    if len(content) > MAX_LICENSE_SIZE:
        return Finding(None, (), problem=f"over {MAX_LICENSE_SIZE} bytes, not matched")
    text = _decode(content)
    if text is None:
        return Finding(None, (), problem="not UTF-8 text")
    statements = copyrights(text)
    try:
        expression, found = _match(text)
    except Exception as exc:  # noqa: BLE001 - a detector's failure on hostile text is a non-answer
        return Finding(None, statements, problem=f"the detector failed ({type(exc).__name__})")
    return Finding(_valid(expression), statements, found)


def _valid(expression: str | None) -> str | None:
    from ..model.licenses import spdx_expression

    return spdx_expression(expression) if expression else None


class FindingCache:
    """Findings by SHA-256 of the file, in ``folder``/licenses.sqlite3. Whatever cannot be
    read or written is simply not cached; what is read is checked like any input."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is None:
            from platformdirs import user_cache_dir

            folder = Path(user_cache_dir("sbomgen", appauthor=False))
        self.path = folder / "licenses.sqlite3"
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            with contextlib.suppress(OSError, sqlite3.Error):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=5)
                db.execute(
                    "CREATE TABLE IF NOT EXISTS findings (key TEXT PRIMARY KEY, finding TEXT NOT NULL)"
                )
                self._db = db
        return self._db

    def get(self, key: str) -> Finding | None:
        db = self._connect()
        if db is None:
            return None
        try:
            row = db.execute("SELECT finding FROM findings WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return _loaded(row[0]) if row and isinstance(row[0], str) else None

    def put(self, key: str, finding: Finding) -> None:
        db = self._connect()
        if db is None:
            return
        data = {"expression": finding.expression, "copyrights": finding.copyrights, "found": finding.found}
        with contextlib.suppress(sqlite3.Error), db:
            db.execute("INSERT OR REPLACE INTO findings VALUES (?, ?)", (key, json.dumps(data)))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _loaded(text: str) -> Finding | None:
    """A cached finding, or None where it is not one sbomgen would have written."""
    from ..documents.license_cache import load_row
    from ..errors import CacheError

    try:
        row = load_row(text)
    except CacheError:
        return None
    if row.expression is not None and _valid(row.expression) != row.expression:
        return None
    return Finding(row.expression, tuple(row.copyrights), tuple(row.found))


class Detector:
    """``detect`` through the cache."""

    def __init__(self, cache: FindingCache | None = None) -> None:
        self.cache = cache if cache is not None else FindingCache()

    def __call__(self, content: bytes) -> Finding:
        key = f"{_RULES}:{DETECTOR}:{hashlib.sha256(content).hexdigest()}"
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        finding = detect(content)
        if finding.problem is None:
            self.cache.put(key, finding)
        return finding
