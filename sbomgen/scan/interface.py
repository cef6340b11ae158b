"""The scanner plug point: every scanner sees the same single pass over an artifact."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..model import Checksum, Component, Dependency
from ..model.files import FileTable
from ..read.archive import Limits


@dataclass
class ScanContext:
    """What the pass found, and what scanners add to it when they finish."""

    artifact_name: str
    top: str | None
    files: FileTable
    checksum_algorithms: tuple[str, ...]
    allow_mismatch: bool = False
    artifact_checksums: tuple[Checksum, ...] = ()
    is_directory: bool = False
    limits: Limits = field(default_factory=Limits)  # for the archives inside the artifact too
    components: list[Component] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    root_key: str = "cpython"
    document_name: str = "CPython SBOM"

    def add_component(self, component: Component, depended_on_by: str | None = None) -> None:
        self.components.append(component)
        self.files.claim(component.files, component.key)
        if depended_on_by is not None:
            self.dependencies.append(Dependency(depended_on_by, component.key))

    def notice(self, message: str) -> None:
        self.notices.append(message)


class Scanner(ABC):
    """One job. ``wants`` asks for a member's whole content; ``finish`` adds to the model."""

    def wants(self, path: str) -> bool:
        return False

    def visit(self, path: str, content: bytes) -> None:  # noqa: B027 - optional hook
        pass

    def head(self, path: str) -> int:
        """How many leading bytes of a member no scanner wants whole to see (0: none)."""
        return 0

    def keeps_head(self, head: bytes) -> bool:
        """Whether ``visit_head`` needs this head: asked in the reading process, so that
        the heads that cannot matter never cross to the scanners."""
        return True

    def visit_head(self, path: str, head: bytes) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    def finish(self, context: ScanContext) -> None: ...
