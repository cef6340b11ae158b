"""An artifact's inventory: what every writer renders and every workflow builds."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from .files import FileTable
from .parts import Artifact, Component, Dependency, UpstreamDocument


@dataclass(frozen=True)
class Inventory:
    artifact: Artifact
    root: str  # key of the component the artifact is
    components: tuple[Component, ...]
    files: FileTable  # given as any iterable of FileEntry, kept as a FileTable
    dependencies: tuple[Dependency, ...]
    created: datetime.datetime
    notices: tuple[str, ...] = field(default=())
    derived_from: UpstreamDocument | None = None
    changes: tuple[str, ...] = ()  # what differs from the upstream document, one statement each
    name: str = "CPython SBOM"  # the SBOM document's name

    def __post_init__(self) -> None:
        if not isinstance(self.files, FileTable):
            object.__setattr__(self, "files", FileTable(self.files))

    def component(self, key: str) -> Component:
        for component in self.components:
            if component.key == key:
                return component
        raise KeyError(key)


def content_id(inventory: Inventory) -> str:
    """A digest naming this exact content: the artifact's SHA256, else one over its files."""
    for checksum in inventory.artifact.checksums:
        if checksum.algorithm == "SHA256":
            return checksum.value
    listing = hashlib.sha256()
    for path, _, _, sha256, _ in inventory.files.rows_by_path():
        listing.update(f"{sha256}  {path}\n".encode())
    return listing.hexdigest()
