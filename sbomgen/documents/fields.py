"""Value types the document models share: text that cannot inject lines or escapes into an
output, hex digests of a known length, and the strictness every model uses."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

# C0 controls, DEL and C1 controls: a newline in a name adds a line to a tag-value SBOM or a
# log, an ESC rewrites a terminal. Unicode's line and paragraph separators start new lines
# for some readers, and bidirectional controls make a line read otherwise than it is.
# Multi-line text may keep newline and tab.
_FORMAT = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_FORMAT}]")
_CONTROL_IN_TEXT = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_FORMAT}]")
MAX_LINE = 64 << 10
MAX_TEXT = 16 << 20


def control_character(value: str, multiline: bool = False) -> str | None:
    """The first control character of ``value`` as ``U+000A``, or None."""
    found = (_CONTROL_IN_TEXT if multiline else _CONTROL).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def printable(value: str) -> str:
    """``value`` with every character ``control_character`` refuses written as an escape."""
    return _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", value)


def _line(value: str) -> str:
    found = control_character(value)
    if found:
        raise ValueError(f"holds the control character {found}")
    return value


def _text(value: str) -> str:
    found = control_character(value, multiline=True)
    if found:
        raise ValueError(f"holds the control character {found}")
    if "</text>" in value.lower():
        raise ValueError("holds '</text>', which would end a tag-value text block")
    return value


# One line: names, versions, identifiers, URLs, checksums.
Line = Annotated[str, StringConstraints(max_length=MAX_LINE), AfterValidator(_line)]
NonEmptyLine = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LINE), AfterValidator(_line)]
# Free text that may span lines: comments, copyright notices, license texts.
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_text)]


def _hex(length: int) -> AfterValidator:
    pattern = re.compile(rf"[0-9a-fA-F]{{{length}}}")

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"expected {length} hexadecimal digits, not {value[:80]!r}")
        return value.lower()

    return AfterValidator(check)


Sha1 = Annotated[str, _hex(40)]
Sha256 = Annotated[str, _hex(64)]
Sha512 = Annotated[str, _hex(128)]
HEX_LENGTHS = {"SHA1": 40, "SHA224": 56, "SHA256": 64, "SHA384": 96, "SHA512": 128, "MD5": 32}


class Strict(BaseModel):
    """Every model: no coercion ("5" is not 5, 5 is not "5"), unknown keys ignored, frozen."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=False)
