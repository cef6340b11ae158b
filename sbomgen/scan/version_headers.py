"""Cross-check declared versions of bundled C libraries against their own headers.

``Misc/sbom.spdx.json`` is maintained by hand and can fall behind the code it describes
(CPython 3.13.5 declares expat 2.6.3 while ``Modules/expat/expat.h`` says 2.7.1). A
disagreement is reported as a warning; the declared version is kept. Headers are read
with their comments removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..documents.c_header import definitions
from .interface import ScanContext, Scanner


def _single(header: bytes, name: str, value: re.Pattern[bytes]) -> str | None:
    """The value of ``#define NAME`` outside comments, when defined once and well formed."""
    found = definitions(header, name)
    match = value.fullmatch(found[0]) if len(found) == 1 else None
    return match.group(1).decode() if match else None


_NUMBER = re.compile(rb"(\d{1,9})")
_QUOTED = re.compile(rb'"([0-9A-Za-z.+-]{1,40})"')


def _expat(header: bytes) -> str | None:
    parts = [_single(header, f"XML_{part}_VERSION", _NUMBER) for part in ("MAJOR", "MINOR", "MICRO")]
    return ".".join(p for p in parts if p is not None) if all(parts) else None


def _mpdecimal(header: bytes) -> str | None:
    return _single(header, "MPD_VERSION", _QUOTED)


# package name -> (header path, how to read its version)
HEADERS: dict[str, tuple[str, Callable[[bytes], str | None]]] = {
    "expat": ("Modules/expat/expat.h", _expat),
    "mpdecimal": ("Modules/_decimal/libmpdec/mpdecimal.h", _mpdecimal),
}


class VersionHeaderScanner(Scanner):
    def __init__(self) -> None:
        self.headers: dict[str, bytes] = {}

    def wants(self, path: str) -> bool:
        return any(path == header for header, _ in HEADERS.values())

    def visit(self, path: str, content: bytes) -> None:
        self.headers[path] = content

    def finish(self, context: ScanContext) -> None:
        for component in context.components:
            if component.name not in HEADERS:
                continue
            path, read_version = HEADERS[component.name]
            if path not in self.headers:
                continue
            found = read_version(self.headers[path])
            if found is not None and found != component.version:
                context.notice(
                    f"warning: Misc/sbom.spdx.json says {component.name} {component.version}, "
                    f"but {path} says {found}"
                )
