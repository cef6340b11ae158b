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
from email.parser import HeaderParser
from email.policy import compat32
from typing import Annotated

from packaging.utils import InvalidName, canonicalize_name
from packaging.version import Version
from pydantic import AfterValidator, Field, StringConstraints

from ..errors import SbomgenError
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
    fields["Classifier"] = tuple(_unfold(str(value)) for value in headers.get_all("Classifier") or [])
    for required in ("Name", "Version"):
        if required not in fields:
            raise error(f"{source}: no {required}")
    return validate(CoreMetadata, fields, source, error)
