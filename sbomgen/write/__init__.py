"""Writers: each turns an Inventory into bytes of one format."""

from __future__ import annotations

import json

from ..model import Component, Inventory

# What the index listed for a component's release when the SBOM was made, as JSON
# ([{"filename": ..., "sha256": ...}]) under this name: SPDX writes it in a package
# annotation's comment, after the name and a space; CycloneDX in a component property.
# ``sbomgen check`` reads it back from either.
INDEX_FILES = "sbomgen:index-release-files"
# A component whose index metadata came from a cache export imported unsigned says so
# under this name: an SPDX package annotation (the name, a space, the text), a CycloneDX property.
INDEX_UNSIGNED = "sbomgen:index-metadata-unsigned"
# The package index that answered for a component (its Simple API root), from the cache
# entry: an SPDX package annotation (the name, a space, the URL), a CycloneDX property.
INDEX_URL = "sbomgen:index-url"


def index_unsigned_text(component: Component) -> str:
    """What the SBOM says of index metadata taken from an unsigned cache export."""
    return (
        "this package's index metadata comes from a cache export imported without a signature "
        f"(--allow-unsigned), SHA256 {component.index_unsigned_export}"
    )


# How a component's concluded license and copyright were found (SPDX: its licenseComments).
LICENSE_METHOD = "sbomgen:license-concluded-method"


def index_files_json(component: Component) -> str:
    files = [{"filename": name, "sha256": sha256} for name, sha256 in component.index_files]
    return json.dumps(files, separators=(",", ":"))


def in_artifact(inventory: Inventory, component: Component) -> bool:
    """A bundled component whose files the artifact holds (the C libraries Misc/sbom.spdx.json
    lists): it is distributed in the artifact, whose file is its deployable form. A bundled
    wheel has its own file; a Windows build's libraries, compiled in, and a regenerated
    tree's system packages hold no files of the artifact."""
    return component.key != inventory.root and bool(component.files)
