"""Value types the document models share: text that cannot inject lines or escapes into an
output, hex digests of a known length, and the strictness every model uses."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from .text import control_character, tag_value_marker

MAX_LINE = 64 << 10
MAX_TEXT = 16 << 20


def check_line(value: str) -> str:
    """``value`` if it is one line no output format would read as markup or more lines."""
    found = control_character(value)
    if found:
        raise ValueError(f"holds the control character {found}")
    marker = tag_value_marker(value)
    if marker:
        raise ValueError(f"holds {marker!r}, which SPDX tag-value reads as a text block's edge")
    return value


def _text(value: str) -> str:
    found = control_character(value, multiline=True)
    if found:
        raise ValueError(f"holds the control character {found}")
    if "</text>" in value.lower():
        raise ValueError("holds '</text>', which would end a tag-value text block")
    return value


# One line: names, versions, identifiers, URLs, checksums.
Line = Annotated[str, StringConstraints(max_length=MAX_LINE), AfterValidator(check_line)]
NonEmptyLine = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LINE), AfterValidator(check_line)
]
# Free text that may span lines: comments, copyright notices, license texts.
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_text)]

_PURL = re.compile(r"pkg:[^/\s]+/\S+")


def check_purl(value: str) -> str:
    """``value`` if it is a package URL both the purl library and spdx-tools accept."""
    from packageurl import PackageURL

    if not _PURL.fullmatch(value):
        raise ValueError(f"not a package URL (pkg:TYPE/NAME, no spaces): {value[:80]!r}")
    try:
        PackageURL.from_string(value)
    except ValueError as exc:
        raise ValueError(f"not a package URL: {value[:80]!r} ({exc})") from None
    return value


def conforms(value: str, form: str) -> bool:
    """Whether ``value`` has the JSON-schema ``form`` (``iri-reference``, ``idn-email``) by
    the checker the CycloneDX writer validates its output with."""
    # Every URI reference is an IRI reference, and the checker's URI test (this one) is a
    # regular expression; its IRI grammar's parser takes milliseconds per value and importing
    # it most of a second (an index lists thousands of files). The two disagree on IP
    # literals ("https://[::1]"), so those go to the parser.
    if form == "idn-email":
        return "@" in value  # the checker's whole rule (jsonschema's is_email)
    if form == "iri-reference" and "[" not in value:
        from rfc3986_validator import validate_rfc3986

        if validate_rfc3986(value, rule="URI_reference"):
            return True
    import jsonschema

    return bool(jsonschema.FormatChecker().conforms(value, form))


# A package URL (pkg:pypi/pip@25.1.1), as the writers will accept it again.
Purl = Annotated[NonEmptyLine, AfterValidator(check_purl)]


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
