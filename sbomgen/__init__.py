"""sbomgen: SBOMs and signed provenance for CPython-style release artifacts."""

from __future__ import annotations

from .errors import SbomgenError
from .model import Inventory
from .scan import scan

__version__ = "0.1.0"
__all__ = ["Inventory", "SbomgenError", "__version__", "scan"]
