"""The neutral inventory model. No output format's vocabulary belongs here."""

from .files import FileTable
from .inventory import Inventory, content_id
from .parts import Artifact, Checksum, Component, Dependency, FileEntry, Party, Purpose, UpstreamDocument

__all__ = [
    "Artifact",
    "Checksum",
    "Component",
    "Dependency",
    "FileEntry",
    "FileTable",
    "Inventory",
    "Party",
    "Purpose",
    "UpstreamDocument",
    "content_id",
]
