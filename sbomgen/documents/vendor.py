"""``_vendor/vendor.txt``: the exact pins of the packages a distribution vendors.

Every form pip has used reads the same way: comments, blank lines, sub-dependencies
indented under what needs them, mixed case and underscores in names. Each other line must
be ``NAME==VERSION`` and nothing else, read by ``packaging``: a valid project name, a valid
PEP 440 version (no wildcard, no ``===`` arbitrary string, no extras, URL or marker).
"""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import SbomgenError
from .fields import MAX_LINE, control_character
from .metadata import check_version
from .parse import decode_text

MAX_VENDOR_TXT_BYTES = 1 << 20  # pip's lists 25 packages in under 1 KiB


def read_vendor_txt(content: bytes, source: str, error: type[SbomgenError]) -> list[tuple[str, str]]:
    """(canonical name, pinned version) for each pin of a vendor.txt, in its order."""
    text = decode_text(content, source, error, MAX_VENDOR_TXT_BYTES)
    return parse_vendor_txt(text, source, error)


def parse_vendor_txt(text: str, source: str, error: type[SbomgenError]) -> list[tuple[str, str]]:
    pins: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.split("\n"), start=1):
        where = f"{source}, line {number}"
        if len(raw) > MAX_LINE:
            raise error(f"{where}: longer than {MAX_LINE:,} characters")
        found = control_character(raw.removesuffix("\r").replace("\t", " "))
        if found:
            raise error(f"{where}: holds the control character {found}")
        line = raw.partition("#")[0].strip()
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            raise error(f"{where}: not a NAME==VERSION pin: {line[:80]!r}") from None
        specifiers = list(requirement.specifier)
        if (
            requirement.extras
            or requirement.url
            or requirement.marker
            or len(specifiers) != 1
            or specifiers[0].operator != "=="
        ):
            raise error(f"{where}: not a NAME==VERSION pin: {line[:80]!r}")
        version = specifiers[0].version
        try:
            check_version(version)
        except ValueError as exc:
            raise error(f"{where}: {exc}") from None
        name = canonicalize_name(requirement.name)
        if name in seen:
            raise error(f"{where}: {name} is listed twice")
        seen.add(name)
        pins.append((name, version))
    return pins
