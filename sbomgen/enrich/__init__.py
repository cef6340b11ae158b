"""Fill in what an artifact cannot say about its Python packages, from the package index.

Download location, index SHA256 and declared license of every ``pkg:pypi`` component
(where the artifact states a location and SHA256 itself, as Misc/sbom.spdx.json does for
macholib, those stand, and the file they name is the recorded one), looked up
concurrently, stored in the verified cache, and taken from the cache alone when the index
cannot be reached or ``offline`` is set. A bundled wheel must be byte-for-byte the file
the index publishes under its name. The artifact itself (a wheel or sdist) is described
as it is: it gets the published file's URL only if it is that file, and keeps its own
checksum either way (a wheel with an SBOM embedded is not the published one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .index import IndexSettings


@dataclass(frozen=True)
class EnrichOptions:
    index: IndexSettings = field(default_factory=IndexSettings)
    cache_dir: Path | None = None
    offline: bool = False
    strict: bool = False


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sbomgen", appauthor=False))
