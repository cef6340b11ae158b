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
from collections.abc import Callable
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
_MARKER = re.compile(r"(^[ \t]*)?(//|/\*|#)( +)(.*)", re.MULTILINE)  # spdx_matcher.COMMENTS_REGEX's
_WIDE = 3072  # spdx_matcher.MAX_LINE_SIZE (not imported here: the matcher loads its templates)
_TITLE = re.compile(r"[\w ().,-]*\blicen[cs]e\b[\w ().,-]*")
# How license_notices says a comment's license (kept in a cached finding).
NOTICE_STEWARD = "its license steward's notice"
NOTICE_REFERENCE = "a short reference naming it"
_RULES = "10"  # bump when what is cached changes meaning

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
# A notice ending in a comma goes on on the next line (CPython's CWI notice); a line that
# begins "All rights reserved" is one only when nothing follows (not the PSF agreement's
# 'All Rights Reserved" are retained in Python').
_NOTICE_LINE = re.compile(
    r"(?im)^[ \t#*/;-]*(?:(?:copyright\b|\(c\)[ \t]*(?=\d)|©)"
    r"(?!\s+(?:holders?|owners?|notices?|licen[cs]es?)\b).*$(?:(?<=,)\n.*$)*"
    r"|all rights reserved\b[ \t.]*$)"
)

_SEPARATORS = "\"'`;,. \t\n#*/-"
# Words of terms, not of a notice's years and names: a notice's line holding one is terms.
# The verbs only in lower case ("Copyright (c) 2020 Will McGugan" is a name).
_TERM_WORDS = (
    "not no never nor only except excepting excluding unless but however if provided subject without "
    "permitted permit permits prohibited forbidden restricted restriction restrictions allowed allow "
    "use used using uses license licensed licence licences licenses grant granted grants revocable "
    "revoke revoked terms term condition conditions commercial commercially noncommercial "
    "non-commercial military purpose purposes solely required requires pay fee fees royalty "
    "permission distribute distributed redistribute redistribution modify modified sell sold copy "
    "copies liable liability warranty warranties agree agreement"
)
_TERMS = frozenset(_TERM_WORDS.split())
_VERB_WORDS = "may must shall should will can cannot might is are be been being"
_VERBS = frozenset(_VERB_WORDS.split())
_TITLE_TERMS = {word for word in _TERMS if not word.startswith("licen")}  # "MIT License" is a title


def is_term(word: str) -> bool:
    """Whether ``word`` (punctuation around it aside) is a word of terms or a verb."""
    word = word.strip(_SEPARATORS + "()[]{}<>:!?")
    return word.lower() in _TERMS or word in _VERBS


def _unless_terms(notice: re.Match[str]) -> str:
    """Nothing where ``notice`` is notices only; else the line as it is, so that terms
    written on a notice's line ("Copyright 2020 X. No commercial use.") or on the line
    after one ending in a comma are matched like any other text, not taken out with it."""
    return notice[0] if any(map(is_term, notice[0].split())) else ""


def without_notices(text: str, kept: Callable[[str], bool] | None = None) -> str:
    """``text`` without the lines of its copyright notices (those without words of terms,
    nor anything else ``kept`` says of a line)."""
    if kept is None:
        return _NOTICE_LINE.sub(_unless_terms, text)
    return _NOTICE_LINE.sub(lambda line: line[0] if kept(line[0]) else _unless_terms(line), text)


@dataclass(frozen=True)
class Finding:
    expression: str | None  # an SPDX expression, only for an exact match of the whole text
    copyrights: tuple[str, ...]
    found: tuple[str, ...] = ()  # licenses found in part, when not exact
    problem: str | None = None  # why nothing could be said (too big, not text, a detector failure)
    header: bool = False  # the expression is that of the license's standard header, not its text
    notice: str | None = None  # how a comment's notice said it (license_notices), where one did


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


def _match(text: str) -> tuple[str | None, tuple[str, ...], bool]:
    """(the one license whose text or standard header template matches the whole text, or
    None; the licenses whose template's fixed phrases all occur in it, in order; whether
    it was the header).

    The templates' replaceable parts match anything up to thousands of characters (the
    copyright notice's up to 5,000): here the notices are taken out first and each
    replaceable part may hold a few words only, so that no text is one license's with
    other terms hidden inside it."""
    import spdx_matcher

    index, templates = spdx_matcher._load_license_analyser_cache()
    # spdx-matcher takes "# ", "// " or "/* " and the rest of its line for a comment and drops
    # it: here such a marker is text like any other (a license file is not source code).
    text = _MARKER.sub(_unless_title, text)
    everything = spdx_matcher.normalize(text, remove_sections=spdx_matcher.REMOVE_NONE)
    terms = spdx_matcher.normalize(without_notices(text), remove_sections=spdx_matcher.REMOVE_NONE)
    found: list[str] = []
    exact: dict[str, bool] = {}
    for license_id in dict.fromkeys(index["licenses"]):
        for kind in ("text", "header"):
            template = templates["licenses"][license_id][kind].get("regexpForMatch")
            if template is None or not _in_order(template["finger_prints"], everything):
                continue
            if (
                template["finger_prints"] and kind == "text"
            ):  # a template of replaceable parts only is "found" anywhere
                found.append(license_id)
            pattern = _bounded(_guidelines("".join(template["regexps"])))
            whole = re.fullmatch(pattern, terms, flags=re.IGNORECASE)
            if whole and all(_plausible(name, part or "") for name, part in whole.groupdict().items()):
                exact.setdefault(license_id, kind == "header")
    if len(exact) != 1:
        return None, tuple(sorted(found)), False
    ((one, header),) = exact.items()
    return one, tuple(sorted(found)), header


# Where spdx-matcher's templates are narrower than the SPDX matching guidelines:
_GUIDELINES = (
    # B.11, copyright notices are ignored: they were taken out of the text, so a template's
    # own "Copyright <holder>" line (Apache-2.0's appendix, the GPL headers) may be absent.
    ("copyright[ ]*(?P<copyright>.+)", "(?:copyright[ ]*(?P<copyright>.+))?"),
    # B.11 again: the PSF agreement quotes PSF's notice, "Copyright (c) 2001-2024 ...";
    # Python-2.0.1's template admits only years listed one by one, not a range.
    (
        r"(?P<exampleCopyrightYears>([0-9]{4},\s)*[0-9]{4})",
        r"(?P<exampleCopyrightYears>[0-9]{4}(?:(?:,\s?|\s?-\s?)[0-9]{4})*)",
    ),
    # B.13, the text after "END OF TERMS AND CONDITIONS" is extraneous: Apache-2.0's
    # appendix as the Apache Software Foundation first published it marks fields "{}", not "[]".
    # The list's Python-2.0 marks the CNRI agreement's click-through "ACCEPT" optional;
    # Python-2.0.1, the same stack with CNRI's later agreement (CPython's LICENSE), omits it.
    (r"agreement\.[ ]*(|cwi license agreement", r"agreement\.[ ]*(|accept)[ ]*(|cwi license agreement"),
    (r"brackets '\[\]' replaced", r"brackets '(?:\[\]|\{\})' replaced"),
)


def _guidelines(template: str) -> str:
    for narrow, wide in _GUIDELINES:
        template = template.replace(narrow, wide)
    return template


# A replaceable part: ".*", ".+" or ".{0,5000}" in the templates, but not an escaped "\.".
_ANY = re.compile(r"(?<!\\)\.(?:\*|\+|\{(\d*),(\d+)\})")
# A part that may be empty between spaces, "[ ]*.{0,40}[ ]*" or "[ ]*(?P<name>.*)[ ]*".
_SPACED = re.compile(r"\[ \]\*(\(\?P<\w+>)?(?<!\\)\.(?:\*|\{0?,(\d+)\})(?(1)\))(?=\[ \]\*)")


def _bounded(template: str) -> str:
    """The template with each replaceable part at most as long as ``_plausible`` allows:
    two unbounded parts side by side take time quadratic in the text when it fails to
    match (a crafted 64 KiB file took minutes). A part between spaces neither begins nor
    ends with one, and the spaces before it go with it: else each such part, or its
    absence, splits the spaces around it two ways, and a text that fails late (CPython's
    CNRI section against PSF-2.0, its whole stack with a sentence more against Python-2.0.1)
    is tried twice per part before it, exponentially; what matches is the same."""

    def spaced(part: re.Match[str]) -> str:
        high = min(int(part[2] or MAX_REPLACEABLE), MAX_REPLACEABLE)
        core = "[^ \\n]" + (f"(?:.{{0,{high - 2}}}[^ \\n])?" if high >= 2 else "")
        return f"(?:[ ]*{part[1] or '(?:'}{core}))?"

    def bound(part: re.Match[str]) -> str:
        low, high = part[1] or "0", min(int(part[2] or MAX_REPLACEABLE), MAX_REPLACEABLE)
        return f".{{{'1' if part[0] == '.+' else min(int(low), high)},{high}}}"

    return r"\s*" + _ANY.sub(bound, _SPACED.sub(spaced, _optional_once(template))) + r"\s*"


_SPACES = "[ ]*"


def _optional_once(template: str) -> str:
    """Each optional part between spaces, ``[ ]*(|title)[ ]*`` or ``[ ]*(version)?[ ]*``, as
    ``(?:[ ]*(title))?[ ]*``: the same texts match, but when the part is absent the spaces
    around it are one run, not two that split it every way (Python-2.0.1's twenty optional
    versions made a failed match of CPython's LICENSE exponential)."""
    out: list[str] = []
    at = 0
    while (start := template.find(_SPACES + "(", at)) >= 0:
        close = _closing(template, start + len(_SPACES))
        body = template[start + len(_SPACES) + 1 : close]
        after = template[close + 1 :]
        if close < 0 or body.startswith("?"):
            out.append(template[at : start + len(_SPACES) + 1])
            at = start + len(_SPACES) + 1
            continue
        if body.startswith("|") and "|" not in _top_level(body[1:]) and after.startswith(_SPACES):
            out.append(f"{template[at:start]}(?:{_SPACES}(?:{body[1:]}))?")
            at = close + 1
        elif after.startswith("?" + _SPACES):
            out.append(f"{template[at:start]}(?:{_SPACES}({body}))?")
            at = close + 2
        else:
            out.append(template[at : start + len(_SPACES) + 1])
            at = start + len(_SPACES) + 1
    return "".join(out) + template[at:]


def _closing(pattern: str, opening: int) -> int:
    """Where the group opened at ``opening`` closes, or -1."""
    depth, at, in_class = 0, opening, False
    while at < len(pattern):
        char = pattern[at]
        if char == "\\":
            at += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return -1


def _top_level(body: str) -> str:
    """``body`` without its nested groups (to find its own alternatives)."""
    out, at = [], 0
    while at < len(body):
        if body[at] == "(" and (at == 0 or body[at - 1] != "\\") and (end := _closing(body, at)) > 0:
            at = end + 1
            continue
        out.append(body[at])
        at += 2 if body[at] == "\\" else 1
    return "".join(out)


def _unless_title(marker: re.Match[str]) -> str:
    """A comment marker and the rest of its line as the matcher drops them where they are a
    heading of their own ("# This is the MIT license"); else the marker made text, kept."""
    rest = marker[4]
    title = len(rest) <= MAX_TITLE and _TITLE.fullmatch(rest.strip()) is not None
    if marker[1] is not None and title and not _TITLE_TERMS.intersection(re.findall(r"[\w-]+", rest.lower())):
        return marker[0]
    return f"{marker[1] or ''}{marker[2]}{chr(0xA0) * len(marker[3])}{rest}"


def _plausible(name: str, part: str) -> bool:
    """Whether a replaceable part holds what it is for: a name or a few words; where the
    notices were (taken out), at most a title or a separator."""
    if name == "copyright":  # a heading's underline is a separator (guideline B.6)
        return part.strip(" -=*") == "" or (
            len(part) <= MAX_TITLE
            and _TITLE.fullmatch(part.strip()) is not None
            and not any(word in _TITLE_TERMS or word in _VERBS for word in re.findall(r"[\w-]+", part))
        )
    return name == "exampleCopyrightYears" or len(part) <= MAX_REPLACEABLE  # that one holds years only


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
    if max(map(len, text.split("\n"))) >= _WIDE:  # spdx-matcher drops such lines unread: terms unseen
        return Finding(None, statements, problem=f"a line of {_WIDE} characters or more, not matched")
    try:
        expression, found, header = _match(text)
    except Exception as exc:  # noqa: BLE001 - a detector's failure on hostile text is a non-answer
        return Finding(None, statements, problem=f"the detector failed ({type(exc).__name__})")
    statements = _not_the_licenses_own(statements, {expression, *found} - {None})
    return Finding(_valid(expression), statements, found, header=header)


def _not_the_licenses_own(statements: tuple[str, ...], licenses: set[str | None]) -> tuple[str, ...]:
    """The statements that are not the notice of a found license document itself: the FSF's
    atop the GPL family's texts ("Copyright (C) 1991, 1999 Free Software Foundation, Inc.
    Everyone is permitted to copy and distribute verbatim copies of this license document"),
    and that text's own sample lines. A license written for one work (the Python stack,
    whose CNRI and CWI notices are the software's) keeps its notices."""
    import spdx_matcher

    templates = spdx_matcher._load_license_analyser_cache()[1]["licenses"]
    texts = [
        " ".join(templates[i]["metadata"].get("licenseText", "").split()) for i in licenses if i in templates
    ]
    documents = [text for text in texts if "verbatim copies of this license document" in text]
    return tuple(s for s in statements if not any(s in text for text in documents))


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
        data = {
            "expression": finding.expression,
            "copyrights": finding.copyrights,
            "found": finding.found,
            "header": finding.header,
            "notice": finding.notice,
        }
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
    if row.notice not in (None, NOTICE_STEWARD, NOTICE_REFERENCE):
        return None
    return Finding(
        row.expression, tuple(row.copyrights), tuple(row.found), header=row.header, notice=row.notice
    )


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

    def notice(self, comment: str, match: Callable[[str], tuple[str, str] | None]) -> tuple[str, str] | None:
        """``match`` (``license_notices.match``) through the cache: a warm run never loads the
        matcher it needs."""
        # The matcher's version too: its spellings and license ids are part of the answer.
        key = f"{_RULES}:notice:{DETECTOR}:{hashlib.sha256(comment.encode()).hexdigest()}"
        cached = self.cache.get(key)
        if cached is None:
            known = match(comment)
            cached = Finding(known[0], (), notice=known[1]) if known else Finding(None, ())
            self.cache.put(key, cached)
        return (cached.expression, cached.notice) if cached.expression and cached.notice else None
