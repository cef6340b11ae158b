"""Characters no name or value from outside may carry into an output (no dependencies, so
the reading pass can use it before anything heavy is imported).

C0 controls, DEL and C1 controls: a newline in a name adds a line to a tag-value SBOM or a
log, an ESC rewrites a terminal. Unicode's line and paragraph separators start new lines for
some readers, bidirectional controls make a line read otherwise than it is, and invisible
characters (zero-width, soft hyphen, tags) make two names look the same. The
noncharacters are not for interchange (U+FFFE and U+FFFF cannot be written in XML at all),
and a lone surrogate cannot be encoded. Multi-line text may keep newline and tab.
"""

from __future__ import annotations

import re

_FORMAT = (
    "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    # invisible: soft hyphen, zero-width space and joiners, word joiner, BOM, tag characters
    "\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff\U000e0000-\U000e007f"
)
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)
)
_OTHERS = f"\\x7f-\\x9f{_FORMAT}{_NONCHARACTERS}\\ud800-\\udfff"
_UNSAFE = re.compile(f"[\\x00-\\x1f{_OTHERS}]")
_UNSAFE_IN_TEXT = re.compile(f"[\\x00-\\x08\\x0b-\\x1f{_OTHERS}]")


def control_character(value: str, multiline: bool = False) -> str | None:
    """The first character of ``value`` no output may carry, as ``U+000A``; else None."""
    found = (_UNSAFE_IN_TEXT if multiline else _UNSAFE).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def unsafe_character(value: str) -> str | None:
    """What makes ``value`` unfit for one line of output, in words; else None."""
    found = _UNSAFE.search(value)
    if found is None:
        return None
    char = found.group()
    if char <= "\x9f":
        return "a control character"
    kind = "a noncharacter" if re.fullmatch(f"[{_NONCHARACTERS}]", char) else "a formatting character"
    if "\ud800" <= char <= "\udfff":
        kind = "a lone surrogate"
    return f"{kind} (U+{ord(char):04X})"


def tag_value_marker(value: str) -> str | None:
    """``<text>`` or ``</text>`` where ``value`` holds one: SPDX tag-value reads them as the
    start or end of a multi-line block wherever they stand, so a name holding one would
    swallow or end the lines around it."""
    lowered = value.lower()
    return next((marker for marker in ("<text>", "</text>") if marker in lowered), None)


def printable(value: str) -> str:
    """``value`` with every character ``control_character`` refuses written as an escape."""
    return _UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", value)
