"""Attestations: in-toto statements whose predicate is an SBOM, or a whole release.

An SBOM attestation's subject is the artifact and its predicate the SBOM document itself,
typed by its format (as GitHub's attest action and ``syft attest`` publish them). The SBOM
must say it describes the artifact: a checksum it records for the described package (SPDX
2), root element (SPDX 3) or subject component (CycloneDX) is the artifact's.

A release attestation (in-toto Release v0.2) lists every file of a release by name with
its digests; its predicate names the release by purl.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..documents.parse import parse_json
from ..errors import ContentError, OutputValidationError, SbomgenError

SPDX2 = "https://spdx.dev/Document/v2.3"
SPDX3 = "https://spdx.dev/Document/v3"
CYCLONEDX = "https://cyclonedx.org/bom"
SBOM_PREDICATES = (SPDX2, SPDX3, CYCLONEDX)
RELEASE_V02 = "https://in-toto.io/attestation/release/v0.2"
# The part of an SBOM attestation's file name that says its format: X.tar.xz.spdx.intoto.json.
SBOM_STEMS = {SPDX2: ".spdx", SPDX3: ".spdx3", CYCLONEDX: ".cdx"}
# The SBOM formats sbomgen writes that are attested, and as what (spdx3-json when it is written).
FORMAT_PREDICATES = {"spdx-json": SPDX2, "spdx3-json": SPDX3, "cyclonedx-json": CYCLONEDX}
RELEASE_STEM = "release-attestation"
_VERSION = re.compile(r"^[Pp]ython-(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)[.-]")


def content_digests(content: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(content).hexdigest(), "sha512": hashlib.sha512(content).hexdigest()}


def _spdx3_claims(document: dict[str, Any]) -> list[tuple[str | None, dict[str, str]]]:
    """The hashes each root element of an SPDX 3 document (JSON-LD) is verified by."""
    graph = document.get("@graph")
    elements = [e for e in graph if isinstance(e, dict)] if isinstance(graph, list) else []
    roots: set[str] = set()
    for element in elements:
        if element.get("type") in ("SpdxDocument", "software_Sbom"):
            named = element.get("rootElement")
            roots |= {r for r in named if isinstance(r, str)} if isinstance(named, list) else set()
    claims: list[tuple[str | None, dict[str, str]]] = []
    for element in elements:
        spdx_id, verified = element.get("spdxId"), element.get("verifiedUsing")
        if isinstance(spdx_id, str) and spdx_id in roots and isinstance(verified, list):
            hashes = {
                str(h.get("algorithm", "")).lower(): str(h.get("hashValue", "")).lower()
                for h in verified
                if isinstance(h, dict) and h.get("type") == "Hash"
            }
            claims.append((None, hashes))
    return claims


def _is_spdx3(document: Any) -> bool:
    context = document.get("@context") if isinstance(document, dict) else None
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and c.startswith("https://spdx.org/rdf/3.") for c in contexts)


def read_sbom(content: bytes, where: str, error: type[SbomgenError] = ContentError) -> tuple[str, Any, list]:
    """The predicate type, parsed JSON and subject claims of the SBOM in ``content``:
    SPDX 2.3 JSON, SPDX 3 JSON-LD or CycloneDX JSON; ``error`` naming ``where`` otherwise."""
    from ..documents import sbom, spdx2
    from ..documents.sbom import subject_claims

    start = content.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if start != b"{":
        raise error(
            f"{where}: not a JSON SBOM (SPDX 2.3, SPDX 3 or CycloneDX JSON): an attestation carries JSON"
        )
    value = parse_json(content, where, error)
    if _is_spdx3(value):
        return SPDX3, value, _spdx3_claims(value)
    document = sbom.load(content, where, error, xml=False)
    if isinstance(document, spdx2.Document):
        if document.spdxVersion != "SPDX-2.3":
            raise error(f"{where}: {document.spdxVersion} is not SPDX-2.3, the version attested as {SPDX2}")
        return SPDX2, value, subject_claims(document)
    return CYCLONEDX, value, subject_claims(document)


def describes(claims: list[tuple[str | None, dict[str, str]]], name: str, ours: Mapping[str, str]) -> bool:
    """Whether a claim gives a digest sbomgen computes, all such are ``ours``, and any file
    name it gives is ``name``."""
    for claimed_name, found in claims:
        known = {alg: value for alg, value in found.items() if alg in ours}
        if known and claimed_name in (None, name) and all(ours[a] == v for a, v in known.items()):
            return True
    return False


def check_describes(claims: list, where: str, name: str, ours: Mapping[str, str]) -> None:
    if not claims:
        raise ContentError(f"{where} describes no package, so not {name}")
    if not describes(claims, name, ours):
        raise ContentError(
            f"{where} does not describe {name}: no checksum it records for what it describes is its"
        )


def _statement(
    subjects: Sequence[tuple[str, Mapping[str, str]]], predicate_type: str, predicate: Any
) -> bytes:
    """A Statement v1, checked against schemas/, as compact JSON (the predicate's keys in
    the order they came)."""
    from sigstore.dsse import DigestSet, StatementBuilder, Subject

    from .statement import check_against_schema

    built = (
        StatementBuilder()
        .subjects([Subject(name=n, digest=DigestSet(root=dict(d))) for n, d in subjects])  # type: ignore[arg-type]
        .predicate_type(predicate_type)
        .predicate(predicate)
        .build()
    )
    document = parse_json(built._contents, "the attestation", OutputValidationError)
    check_against_schema(document)
    return (json.dumps(document, separators=(",", ":")) + "\n").encode()


def sbom_statement(
    name: str, artifact_digests: Mapping[str, str], sbom: bytes, where: str
) -> tuple[str, bytes]:
    """The predicate type and statement of the SBOM attestation of ``sbom`` for the artifact
    ``name``; ContentError when the SBOM is not JSON or does not describe it."""
    predicate_type, document, claims = read_sbom(sbom, where)
    check_describes(claims, where, name, artifact_digests)
    return predicate_type, _statement([(name, artifact_digests)], predicate_type, document)


def sbom_stem(artifact: str, predicate_type: str) -> str:
    return f"{artifact}{SBOM_STEMS[predicate_type]}"


def release_version(names: Sequence[str]) -> str | None:
    """The CPython version the artifacts' names share (Python-3.13.5.tar.xz,
    python-3.13.5-amd64.exe); None when they give none or several."""
    versions = {m.group(1) for m in map(_VERSION.match, names) if m}
    return versions.pop() if len(versions) == 1 else None


def release_statement(files: Mapping[str, Mapping[str, str]], version: str) -> bytes:
    """The in-toto Release v0.2 statement over ``files`` (name: digests) of CPython ``version``."""
    subjects = [(name, files[name]) for name in sorted(files)]
    return _statement(subjects, RELEASE_V02, {"purl": f"pkg:generic/python@{version}"})
