"""Cross-check declared versions of bundled C libraries against their own headers.

``Misc/sbom.spdx.json`` is maintained by hand and can fall behind the code it describes
(CPython 3.13.5 declares expat 2.6.3 while ``Modules/expat/expat.h`` says 2.7.1). A
disagreement is reported as a warning; the declared version is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .interface import ScanContext, Scanner


def _expat(header: bytes) -> str | None:
    parts = [
        re.search(rb"#define\s+XML_%s_VERSION\s+(\d+)" % part, header)
        for part in (b"MAJOR", b"MINOR", b"MICRO")
    ]
    if not all(parts):
        return None
    return ".".join(m.group(1).decode() for m in parts if m)


def _mpdecimal(header: bytes) -> str | None:
    found = re.search(rb'#define\s+MPD_VERSION\s+"([^"]+)"', header)
    return found.group(1).decode() if found else None


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
