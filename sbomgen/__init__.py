"""sbomgen: SBOMs and signed provenance for CPython-style release artifacts.

``sbomgen.scan(path)`` reads an artifact once and returns its ``Inventory``.
"""

from __future__ import annotations

from .errors import SbomgenError
from .model import Inventory

# Binds the name ``scan`` to the function, over the subpackage of the same name.
from .scan import scan  # noqa: E402  (isort: skip)

__version__ = "0.1.0"
__all__ = ["Inventory", "SbomgenError", "__version__", "scan"]
