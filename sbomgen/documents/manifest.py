"""The release manifest (``release-manifest.json``): every file of a release folder with
its size and SHA256, and every symbolic link with what it points to (links are recorded,
never followed).

A name is a relative POSIX path inside the folder: no leading ``/``, no empty, ``.`` or
``..`` segment, no backslash, no control character, nothing that is not UTF-8. Names are
printed by ``release --check`` and joined to the folder, so the same rule applies to the
names found in the folder when a manifest is written.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from ..errors import ContentError
from .fields import NonEmptyLine, Sha256, Strict
from .parse import load_json
from .text import control_character

FORMAT = "sbomgen-release-manifest"
# A release folder holds hundreds of files (python.org's 3.13.5 folder: about 120); an entry
# is about 150 bytes, so 16 MiB is room for 100,000 of them.
MAX_MANIFEST_BYTES = 16 << 20


def text_problem(text: str) -> str | None:
    """Why ``text`` (a name, a link's target) cannot be printed or recorded, or None."""
    control = control_character(text)
    if control:
        return f"holds the control character {control}"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "is not UTF-8"
    return None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a file's name in a manifest, or None."""
    problem = text_problem(name)
    if problem:
        return problem
    if "\\" in name:
        return "holds a backslash"
    if name.startswith("/"):
        return "is absolute"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "has an empty, '.' or '..' segment"
    return None


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(f"{value[:200]!r} {problem}")
    return value


ReleaseName = Annotated[NonEmptyLine, AfterValidator(_name)]


class Entry(Strict):
    """A regular file (``size`` and ``sha256``) or a symbolic link (``link``)."""

    name: ReleaseName
    size: Annotated[int, Field(ge=0)] | None = None
    sha256: Sha256 | None = None
    link: NonEmptyLine | None = None

    @model_validator(mode="after")
    def _file_or_link(self) -> Entry:
        if self.link is not None:
            if self.size is not None or self.sha256 is not None:
                raise ValueError("a link has no size or sha256")
        elif self.sha256 is None:
            raise ValueError("missing sha256")
        elif self.size is None:
            raise ValueError("missing size")
        return self


def _unique(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise ValueError(f"the name {entry.name!r} appears twice")
        seen.add(entry.name)
    return entries


def _version(value: int) -> int:
    if value != 1:
        raise ValueError(f"version {value} is not known (1 is)")
    return value


class ReleaseManifest(Strict):
    format: Literal["sbomgen-release-manifest"]
    version: Annotated[int, AfterValidator(_version)]  # Literal[1] would take true and 1.0
    files: Annotated[list[Entry], AfterValidator(_unique)]


def load_manifest(data: bytes, source: str) -> ReleaseManifest:
    """The manifest in ``data``; a ContentError naming ``source`` and the place otherwise."""
    return load_json(ReleaseManifest, data, source, ContentError, MAX_MANIFEST_BYTES)
