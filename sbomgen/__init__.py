"""sbomgen: SBOMs and signed provenance for CPython-style release artifacts.

Every job the command line does is one call here, taking the options the command takes
and returning what it writes (see the README's "Python API"):

    import sbomgen
    made = sbomgen.source_sbom("Python-3.13.5.tar.xz", sbomgen.SbomOptions(formats=("spdx-json",)))
    data = made.documents["spdx-json"].data  # the bytes `sbomgen tarball` writes

Names are imported when first used, so ``import sbomgen`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from .documents.deferred import defer_slow_imports
from .errors import SbomgenError
from .model import Inventory

# Binds the name ``scan`` to the function, over the subpackage of the same name.
from .scan import scan  # noqa: E402  (isort: skip)

defer_slow_imports()

__version__ = "0.1.0"

# Public name -> the module that defines it.
_API = {
    # making SBOMs
    "SbomOptions": "workflows.sbom",
    "Sbom": "workflows.sbom",
    "Document": "workflows.sbom",
    "FORMATS": "workflows.sbom",
    "source_sbom": "workflows.sbom",
    "distribution_sbom": "workflows.sbom",
    "embedded_wheel": "workflows.sbom",
    "windows_sbom": "workflows.sbom",
    "regenerated_sbom": "workflows.regenerate",
    "make_release": "workflows.release",
    "check_release": "workflows.release",
    "check_attested": "workflows.release",
    "Steps": "workflows.steps",
    # options of the stages
    "EnrichOptions": "enrich",
    "IndexSettings": "enrich.index",
    "Limits": "read.archive",
    # provenance, signing, verification
    "make_provenance": "workflows.trust",
    "sbom_attestation": "workflows.trust",
    "sign": "workflows.trust",
    "Signing": "provenance.signing",
    "build_context": "workflows.trust",
    "verify": "provenance.verify",
    "Request": "provenance.verify",
    # the index cache, carried to another machine
    "export_cache": "workflows.cache_transfer",
    "import_cache": "workflows.cache_transfer",
    # reading what others made
    "diff": "workflows.diff",
    "validate": "workflows.validate",
    "check_profile": "workflows.profiles",
    "check_index": "workflows.check",
    "report": "workflows.report",
}
# Where a public name differs from the name in its module.
_RENAMED = {
    "make_provenance": "provenance",
    "check_release": "check",
    "check_index": "check",
    "check_profile": "check",
    "validate": "validate_file",
    "report": "render",
}

__all__ = ["Inventory", "SbomgenError", "__version__", "scan", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'sbomgen' has no attribute {name!r}")
    module = importlib.import_module(f".{_API[name]}", __name__)
    value = getattr(module, _RENAMED.get(name, name))
    globals()[name] = value
    return value
