"""Writers: each turns an Inventory into bytes of one format."""

from __future__ import annotations

import json

from ..model import Component

# What the index listed for a component's release when the SBOM was made, as JSON
# ([{"filename": ..., "sha256": ...}]) under this name: SPDX writes it in a package
# annotation's comment, after the name and a space; CycloneDX in a component property.
# ``sbomgen check`` reads it back from either.
INDEX_FILES = "sbomgen:index-release-files"
# How a component's concluded license and copyright were found (SPDX: its licenseComments).
LICENSE_METHOD = "sbomgen:license-concluded-method"


def index_files_json(component: Component) -> str:
    files = [{"filename": name, "sha256": sha256} for name, sha256 in component.index_files]
    return json.dumps(files, separators=(",", ":"))
