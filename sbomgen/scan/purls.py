"""Package URLs for what no package index names: the C libraries CPython bundles, and CPython.

The rule (purl-spec's ``github`` and ``generic`` types; packageurl-python encodes):

- A download location on GitHub of a known repository — a release asset
  (``github.com/OWNER/REPO/releases/download/TAG/…``) or an archive of a ref
  (``github.com/OWNER/REPO/archive/[refs/tags/]REF.{zip,tar.gz}``) — gives
  ``pkg:github/owner/repo@TAG-or-REF``: the repository's name, lowercased as the type asks,
  at the tag or commit the file was made from.
- Any other download location gives ``pkg:generic/NAME@VERSION?checksum=sha256:…&download_url=…``:
  the generic type names nothing on its own, so the file it was made from and that file's
  SHA-256 (the component's own checksum) identify it.
- Without a download location: ``pkg:generic/NAME@VERSION``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packageurl import PackageURL

from ..model import Checksum

_GITHUB = re.compile(
    r"https://github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<repo>[A-Za-z0-9._-]+)/"
    r"(?:releases/download/(?P<tag>[^/?#]+)/[^/?#]+|archive/(?:refs/tags/)?(?P<ref>[^/?#]+?)\.(?:zip|tar\.gz))"
)


def upstream_purl(
    name: str, version: str | None, download_location: str | None, checksums: Iterable[Checksum]
) -> str:
    """The PURL of a package by where it was downloaded from (the rule above)."""
    github = _GITHUB.fullmatch(download_location or "")
    if github is not None:
        owner, repo = github["owner"].lower(), github["repo"].lower()
        return PackageURL("github", owner, repo, github["tag"] or github["ref"]).to_string()
    qualifiers = {}
    if download_location:
        qualifiers["download_url"] = download_location
        sha256 = next((c.value for c in checksums if c.algorithm == "SHA256"), None)
        if sha256 is not None:
            qualifiers["checksum"] = f"sha256:{sha256}"
    return PackageURL("generic", None, name, version, qualifiers or None).to_string()
