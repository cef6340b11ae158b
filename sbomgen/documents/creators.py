"""The SBOM's creators as the command line names them (``--creator``, ``SBOMGEN_CREATOR``).

``Person: NAME <E-MAIL>``, ``Organization: NAME (https://URL)`` (the contact in angle
brackets or parentheses, either an e-mail address or an http(s) URL, optional) or
``Tool: NAME``. Refused with one line: anything else, control characters, brackets in the
name, a contact that is neither an address nor an http(s) URL with a host.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from ..errors import UsageError
from ..model import Party
from .text import control_character

FORMS = "'Person: NAME <E-MAIL>', 'Organization: NAME (https://URL)' or 'Tool: NAME'"
MAX_CHARS = 500
_SHAPE = re.compile(r"(Person|Organization|Tool):\s*([^()<>]*?)\s*(?:\(([^()<>]*)\)|<([^()<>]*)>)?")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\.]+(\.[^\s@<>()\[\],;:\"\\.]+)+")


def parse_creator(text: str) -> Party | str:
    """A person or organization as a ``Party``, a tool as its name; else ``UsageError``."""
    shown = repr(text[:80])
    # Unicode's line and paragraph separators are not category C, yet start a line for many readers.
    unsafe = control_character(text) or any(unicodedata.category(c).startswith("C") for c in text)
    if len(text) > MAX_CHARS or unsafe:
        raise UsageError(f"not a creator: {shown} (too long, or with control characters); expected {FORMS}")
    match = _SHAPE.fullmatch(text.strip())
    if match is None or not match[2]:
        raise UsageError(f"not a creator: {shown}; expected {FORMS}")
    kind, name = match[1], match[2]
    contact = match[3] if match[3] is not None else match[4]
    if contact is None:
        return name if kind == "Tool" else Party(kind, name)
    contact = contact.strip()
    if kind == "Tool":
        raise UsageError(f"not a creator: {shown}: a tool has no contact; expected {FORMS}")
    if is_email(contact):
        return Party(kind, name, email=contact)
    if is_web_url(contact):
        return Party(kind, name, url=contact)
    raise UsageError(
        f"not a creator: {shown}: {contact[:80]!r} is neither an e-mail address nor an http(s) URL"
    )


def is_email(value: str) -> bool:
    return bool(_EMAIL.fullmatch(value)) and value.isprintable()


def is_web_url(value: str) -> bool:
    """An http(s) URL with a host that every writer takes as a URI."""
    from .spdx2 import cyclonedx_uri

    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(host)
        and not any(c.isspace() for c in value)
        and value.isascii()
        and cyclonedx_uri(value)
    )


def spdx2_creator(creator: Party | str) -> str:
    """The SPDX 2 ``creators`` entry: ``KIND: NAME (CONTACT)``."""
    if isinstance(creator, str):
        return f"Tool: {creator}"
    contact = creator.email or creator.url
    return f"{creator.kind}: {creator.name}" + (f" ({contact})" if contact else "")
