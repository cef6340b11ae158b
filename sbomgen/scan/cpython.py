"""The CPython package itself: version, identity, and every file nobody else owns."""

from __future__ import annotations

import re
from dataclasses import replace

from ..documents.c_header import definitions
from ..errors import ContentError
from ..model import Component, Party, Purpose
from .interface import ScanContext, Scanner
from .purls import upstream_purl
from .wheels import cpe23

PATCHLEVEL = "Include/patchlevel.h"
PSF = Party("Organization", "Python Software Foundation", url="https://www.python.org")
_TOP_FOLDER = re.compile(r"^Python-(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)$")
_PY_VERSION = re.compile(rb'"([0-9A-Za-z.]+)\+?"')
_RELEASE_NAME = re.compile(r"^Python-(\d+\.\d+\.\d+)(?:(?:a|b|rc)\d+)?\.(?:tgz|tar\.xz)$")


class CPythonScanner(Scanner):
    """Must run last: it owns the files that no other scanner's component owns."""

    def __init__(self) -> None:
        self.patchlevel: bytes | None = None

    def wants(self, path: str) -> bool:
        return path == PATCHLEVEL

    def visit(self, path: str, content: bytes) -> None:
        self.patchlevel = content

    def finish(self, context: ScanContext) -> None:
        version = self._version(context)
        release = _RELEASE_NAME.match(context.artifact_name)
        download = (
            f"https://www.python.org/ftp/python/{release.group(1)}/{context.artifact_name}"
            if release and not context.is_directory
            else None
        )
        root = Component(
            key=context.root_key,
            name="CPython",
            version=version,
            purpose=Purpose.SOURCE,
            supplier=PSF,
            originator=PSF,
            download_location=download,
            checksums=context.artifact_checksums,
            # The artifact as python.org publishes it (not the git tag: the release is made
            # from it but is not its archive), named as its CPE names it.
            purl=upstream_purl("python", version, download, context.artifact_checksums),
            cpe=cpe23("python:python", version),
            license_concluded="PSF-2.0",
            file_name=None if context.is_directory else context.artifact_name,
            files=context.files.claim_rest(context.root_key),
        )
        # Everything bundled in the artifact is supplied by whoever ships the artifact.
        context.components = [
            c if c.supplier is not None else replace(c, supplier=PSF) for c in context.components
        ]
        context.components.insert(0, root)

    def _version(self, context: ScanContext) -> str:
        top = _TOP_FOLDER.match(context.top or "")
        from_top = top.group(1) if top else None
        from_header = None
        if self.patchlevel is not None:
            from_header = _py_version(self.patchlevel)
        if from_top and from_header and from_top != from_header:
            raise ContentError(
                f"top folder {context.top!r} says version {from_top}, but {PATCHLEVEL} says {from_header}"
            )
        version = from_top or from_header
        if version is None:
            raise ContentError(
                f"cannot tell the CPython version: the top folder {context.top!r} is not "
                f"Python-X.Y.Z and there is no {PATCHLEVEL}"
            )
        if from_header is None:
            context.notice(f"no {PATCHLEVEL}: version {version} taken from the top folder alone")
        return version


def _py_version(patchlevel: bytes) -> str:
    """PY_VERSION of patchlevel.h: defined once, outside comments, as a quoted version."""
    from packaging.version import InvalidVersion, Version

    from ..documents.spdx2 import MAX_VERSION

    values = definitions(patchlevel, "PY_VERSION")
    if not values:
        raise ContentError(f"{PATCHLEVEL}: no PY_VERSION definition")
    if len(values) > 1:
        raise ContentError(f"{PATCHLEVEL}: PY_VERSION is defined {len(values)} times")
    found = _PY_VERSION.fullmatch(values[0])
    try:
        if found is None or len(found.group(1)) > MAX_VERSION:
            raise InvalidVersion
        Version(found.group(1).decode())
    except ValueError:  # InvalidVersion, or a number too long for int()
        raise ContentError(f"{PATCHLEVEL}: PY_VERSION is not a quoted version: {values[0][:80]!r}") from None
    return found.group(1).decode()
