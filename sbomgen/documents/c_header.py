"""C headers sbomgen takes a version from (``Include/patchlevel.h``, expat's and
mpdecimal's headers), read as the preprocessor reads them: lines joined at a backslash
before the newline, comments removed (string and character literals kept whole, so a
``/*`` inside one opens nothing), so that a definition inside a comment does not count.
"""

from __future__ import annotations

import re

_LITERAL_OR_COMMENT = re.compile(
    rb'"(?:\\.|[^"\\\n])*"'  # a string literal
    rb"|'(?:\\.|[^'\\\n])*'"  # a character literal
    rb"|/\*.*?(?:\*/|\Z)"  # a block comment (unclosed: to the end)
    rb"|//[^\n]*",  # a line comment
    re.DOTALL,
)


def without_comments(source: bytes) -> bytes:
    """``source`` with every comment replaced by one space, as in C."""
    spliced = source.replace(b"\\\r\n", b"").replace(b"\\\n", b"")
    return _LITERAL_OR_COMMENT.sub(lambda m: m[0] if m[0][:1] in b"\"'" else b" ", spliced)


def definitions(source: bytes, name: str) -> list[bytes]:
    """The replacement text of each ``#define NAME`` in ``source`` (comments removed),
    stripped; several when the header defines the name more than once."""
    pattern = re.compile(
        rb"^[ \t]*#[ \t]*define[ \t]+" + re.escape(name.encode()) + rb"(?![A-Za-z0-9_(])(.*)$",
        re.MULTILINE,
    )
    return [match[1].strip() for match in pattern.finditer(without_comments(source))]
