"""Any SBOM sbomgen reads whole: SPDX 2 JSON, CycloneDX JSON or CycloneDX XML, told apart by
content, each through its own model (``spdx2``, ``cyclonedx``)."""

from __future__ import annotations

from typing import Any

from ..errors import SbomgenError
from . import cyclonedx, spdx2
from .parse import parse_json, validate


def kind(value: Any) -> str | None:
    """``"spdx"`` or ``"cyclonedx"`` for a parsed JSON value that claims to be one, else None."""
    if isinstance(value, dict) and "spdxVersion" in value:
        return "spdx"
    if isinstance(value, dict) and value.get("bomFormat") == "CycloneDX":
        return "cyclonedx"
    return None


def load(
    data: bytes, source: str, error: type[SbomgenError], xml: bool = True
) -> spdx2.Document | cyclonedx.Bom:
    """The SBOM in ``data``; ``error`` naming ``source`` when it is none of the kinds or
    does not fit its model. What cannot be parsed as one of the kinds is, by the message,
    no SBOM sbomgen reads, and the message says which kinds those are."""
    kinds = "SPDX JSON, CycloneDX JSON or CycloneDX XML" if xml else "SPDX JSON or CycloneDX JSON"
    not_one = f"{source}: not an SBOM sbomgen reads ({kinds})"
    if xml and data.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<":
        _, shape = cyclonedx.parse_xml(data, not_one, error)
        bom: cyclonedx.Bom = validate(cyclonedx.Bom, shape, source, error)
        cyclonedx.unique_refs(bom, source, error)
        return bom
    value = parse_json(data, not_one, error)
    found = kind(value)
    if found == "spdx":
        document: spdx2.Document = validate(spdx2.Document, value, source, error)
        spdx2.unique_ids(document, source, error)
        return document
    if found == "cyclonedx":
        bom = validate(cyclonedx.Bom, value, source, error)
        cyclonedx.unique_refs(bom, source, error)
        return bom
    raise error(f'{not_one}: JSON without "spdxVersion" or "bomFormat": "CycloneDX"')


def subject_claims(document: spdx2.Document | cyclonedx.Bom) -> list[tuple[str | None, dict[str, str]]]:
    """(file name, digests) of each thing the SBOM says it describes: SPDX's described
    packages (checksums, packageFileName), CycloneDX's subject component (hashes)."""
    if isinstance(document, cyclonedx.Bom):
        subject = document.metadata.component if document.metadata else None
        if subject is None:
            return []
        return [(None, {h.alg.replace("SHA-", "sha"): h.content.lower() for h in subject.hashes})]
    described = set(document.described())
    return [
        (package.packageFileName, {c.algorithm.lower(): c.value for c in package.checksums})
        for package in document.packages
        if package.SPDXID in described
    ]
