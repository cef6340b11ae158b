"""sbomgen: SBOMs and signed provenance for CPython-style release artifacts.

``sbomgen.scan(path)`` reads an artifact once and returns its ``Inventory``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Inventory", "SbomgenError", "__version__", "scan"]

if TYPE_CHECKING:
    from .errors import SbomgenError
    from .model import Inventory
    from .scan import scan


def __getattr__(name: str) -> Any:
    # Imported on first use, so that the command line starts quickly.
    if name == "scan":
        from .scan import scan

        return scan
    if name == "Inventory":
        from .model import Inventory

        return Inventory
    if name == "SbomgenError":
        from .errors import SbomgenError

        return SbomgenError
    raise AttributeError(name)
