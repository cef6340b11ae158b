"""Whole releases: every artifact's SBOM and provenance, and a manifest of the folder.

A published release folder can gain files afterwards; the manifest (every file with its
size and SHA256) lets ``check`` name any file added, removed or changed since.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ContentError
from .jsonfile import read_json

MANIFEST = "release-manifest.json"
FORMAT = "sbomgen-release-manifest"
SOURCE_NAME = re.compile(r"^Python-\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?\.(?:tgz|tar\.xz)$")
CHUNK = 1 << 20


def find_artifacts(folder: Path) -> tuple[list[Path], list[Path]]:
    """Source tarballs and Windows artifacts in ``folder`` (not its subfolders)."""
    from .windows import is_windows_artifact

    files = sorted(p for p in folder.iterdir() if p.is_file())
    return (
        [p for p in files if SOURCE_NAME.match(p.name)],
        [p for p in files if is_windows_artifact(p.name)],
    )


def sbom_job(job: tuple[str, Any, Any]) -> tuple[str, bytes, list[str]]:
    """One artifact's SPDX SBOM (run in a worker process): name, bytes, notices.

    ``job`` is the artifact's path, the SourceParts of Windows artifacts (else None), and
    the enrichment options.
    """
    from .enrich import enrich
    from .scan import scan
    from .windows import windows_inventory
    from .write.spdx import SpdxWriter

    artifact, source, options = Path(job[0]), job[1], job[2]
    writer = SpdxWriter()
    if source is None:
        inventory = scan(artifact, on_file=writer.prepare_file)
    else:
        inventory = windows_inventory(artifact, source)
    inventory, notices = enrich(inventory, options)
    return artifact.name, writer.render(inventory), [*inventory.notices, *notices]


def _digest(path: Path) -> tuple[int, str]:
    sha256 = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            sha256.update(chunk)
    return size, sha256.hexdigest()


def manifest(folder: Path) -> bytes:
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        size, sha256 = _digest(path)
        files.append({"name": path.relative_to(folder).as_posix(), "size": size, "sha256": sha256})
    return (json.dumps({"format": FORMAT, "version": 1, "files": files}, indent=2) + "\n").encode()


@dataclass(frozen=True)
class Drift:
    added: list[str]
    removed: list[str]
    changed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def check(manifest_path: Path, folder: Path) -> Drift:
    document = read_json(manifest_path, "a release manifest")
    if (
        not isinstance(document, dict)
        or document.get("format") != FORMAT
        or not isinstance(document.get("files"), list)
    ):
        raise ContentError(f"{manifest_path}: not a release manifest")
    recorded = {f["name"]: (f["size"], f["sha256"]) for f in document["files"]}
    present = {
        p.relative_to(folder).as_posix(): p
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST and p.resolve() != manifest_path.resolve()
    }
    return Drift(
        added=sorted(present.keys() - recorded.keys()),
        removed=sorted(recorded.keys() - present.keys()),
        changed=sorted(
            n for n in present.keys() & recorded.keys() if _digest(present[n]) != tuple(recorded[n])
        ),
    )
