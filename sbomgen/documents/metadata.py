"""Core metadata: a distribution's ``*.dist-info/METADATA`` or ``PKG-INFO``.

Read as UTF-8, strictly (the specification's encoding): a header of other bytes would reach
string methods as an ``email.header.Header``. Only the header block is parsed, only the
fields sbomgen uses are kept, each at most ``MAX_LINE`` characters and free of control
characters (``License`` excepted: see ``LicenseText``), folded lines unfolded. ``Name``
must be a valid project name and ``Version`` a valid PEP 440 version, as ``packaging``
says. Single-use fields given twice are refused: one document, one answer.
"""

from __future__ import annotations

import re
import string
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses
from typing import Annotated

from packaging.utils import InvalidName, canonicalize_name
from packaging.version import Version
from pydantic import AfterValidator, Field, StringConstraints

from ..errors import SbomgenError
from ..model import Party
from .creators import is_email, is_web_url
from .fields import MAX_TEXT, Line, NonEmptyLine, Strict
from .parse import decode_text, validate

# The largest METADATA on the index (a long description inline) is well under 1 MiB.
MAX_METADATA_BYTES = 4 << 20
MAX_VERSION_CHARS = 200  # real versions are under 40; longer ones only make int() slow
_SINGLE = (
    "Name",
    "Version",
    "License",
    "License-Expression",
    "Author",
    "Author-email",
    "Maintainer",
    "Maintainer-email",
)


def check_name(value: str) -> str:
    """``value`` if it is a valid project name (PEP 508, as ``packaging`` reads it)."""
    try:
        canonicalize_name(value, validate=True)
    except InvalidName:
        raise ValueError(f"not a valid project name: {value[:80]!r}") from None
    return value


def check_version(value: str) -> str:
    """``value`` if it is a valid PEP 440 version, as written (no white space around it)."""
    try:
        valid = len(value) <= MAX_VERSION_CHARS and value == value.strip() and bool(Version(value))
    except ValueError:  # InvalidVersion, or a number too long for int()
        valid = False
    if not valid:
        raise ValueError(f"not a valid PEP 440 version: {value[:80]!r}")
    return value


# A license field may hold a whole license text, form feeds and all (the GPL's): it is only
# ever read through licenses.spdx_expression, which takes nothing but a valid SPDX expression.
LicenseText = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
ProjectName = Annotated[NonEmptyLine, AfterValidator(check_name)]
ProjectVersion = Annotated[NonEmptyLine, AfterValidator(check_version)]


class CoreMetadata(Strict):
    """Named by the header fields, so that an error names the field as the file does."""

    name: ProjectName = Field(alias="Name")
    version: ProjectVersion = Field(alias="Version")
    license_expression: Line | None = Field(None, alias="License-Expression")
    license: LicenseText | None = Field(None, alias="License")
    classifiers: tuple[Line, ...] = Field((), alias="Classifier")
    author: Line | None = Field(None, alias="Author")
    author_email: Line | None = Field(None, alias="Author-email")
    maintainer: Line | None = Field(None, alias="Maintainer")
    maintainer_email: Line | None = Field(None, alias="Maintainer-email")
    home_page: Line | None = Field(None, alias="Home-page")
    project_urls: tuple[Line, ...] = Field((), alias="Project-URL")  # "LABEL, URL"

    def originator(self) -> Party | None:
        """Who made the release, reachable: the first address of ``Author-email``, else of
        ``Maintainer-email`` (named by its display name, else ``Author``/``Maintainer``),
        with the project's home page (``Project-URL`` Homepage, else ``Home-page``, else
        ``Project-URL`` Source); without an address, the author named with that URL. Core
        metadata does not say whether an author is a person or a group: a ``Person``."""
        home = _stated(self.home_page)
        url = self.url("homepage") or (home if home and is_web_url(home) else None) or self.url("source")
        for name, addresses in ((self.author, self.author_email), (self.maintainer, self.maintainer_email)):
            for display, address in _addresses(addresses or ""):
                if is_email(address):
                    return Party("Person", _named(display) or _named(name) or address, address, url)
        name = _named(self.author) or _named(self.maintainer)
        return Party("Person", name, url=url) if name and url else None

    def url(self, label: str) -> str | None:
        """The http(s) URL of ``Project-URL`` ``label`` (compared as PEP 753 normalises labels)."""
        for entry in self.project_urls:
            given, _, value = entry.partition(",")
            if _label(given) == label and is_web_url(value.strip()):
                return value.strip()
        return None


def _addresses(value: str) -> list[tuple[str, str]]:
    """``getaddresses`` of ``value``; none where comments nest deeper than any address needs
    (the parser recurses once a level: thousands of '(' would exhaust the stack)."""
    depth = deepest = 0
    for c in value:
        depth = depth + 1 if c == "(" else max(depth - 1, 0) if c == ")" else depth
        deepest = max(deepest, depth)
    return [] if deepest > 16 else getaddresses([value])


def _named(value: str | None) -> str | None:
    """A stated name that SPDX 2's ``Person: NAME (CONTACT)`` cannot read another way: a
    name holding brackets ("Kim (kim@evil.example)") would read as a contact."""
    value = _stated(value)
    return value if value and not any(c in value for c in "()<>") else None


def _label(text: str) -> str:
    return "".join(c for c in text.lower() if c not in string.punctuation and not c.isspace())


def _stated(value: str | None) -> str | None:
    """A field's value, unless empty or the old tools' placeholder UNKNOWN."""
    value = (value or "").strip()
    return value if value and value != "UNKNOWN" else None


def _unfold(value: str) -> str:
    # A long header may continue on lines that start with white space (RFC 5322 folding).
    return re.sub(r"\r?\n[ \t]+", " ", value)


def read_metadata(content: bytes, source: str, error: type[SbomgenError]) -> CoreMetadata:
    """The fields sbomgen uses of a METADATA / PKG-INFO file, or ``error`` naming ``source``."""
    text = decode_text(content, source, error, MAX_METADATA_BYTES)
    headers = HeaderParser(policy=compat32).parsestr(text, headersonly=True)
    fields: dict[str, object] = {}
    for field in _SINGLE:
        values = headers.get_all(field) or []
        if len(values) > 1:
            raise error(f"{source}: {field} appears {len(values)} times")
        if values:
            value = str(values[0])
            fields[field] = value if field == "License" else _unfold(value)
    for many in ("Classifier", "Project-URL"):
        fields[many] = tuple(_unfold(str(value)) for value in headers.get_all(many) or [])
    # Only a link to whoever made it, not worth refusing a document for: the first is kept.
    home_pages = headers.get_all("Home-page") or []
    if home_pages:
        fields["Home-page"] = _unfold(str(home_pages[0]))
    for required in ("Name", "Version"):
        if required not in fields:
            raise error(f"{source}: no {required}")
    return validate(CoreMetadata, fields, source, error)
