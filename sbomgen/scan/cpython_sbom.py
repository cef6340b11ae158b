"""CPython's own SBOM data: ``Misc/sbom.spdx.json`` and ``Misc/externals.spdx.json``.

Each package listed in ``Misc/sbom.spdx.json`` becomes a component owning its listed
files, and every listed file's checksums are checked against the artifact's bytes.
``Misc/externals.spdx.json`` lists what the Windows build downloads; those packages are
not inside a source artifact, so only the files they list (if any) are cross-checked.
"""

from __future__ import annotations

import json
from collections.abc import Container
from typing import Any

from ..errors import ContentError
from ..model import Checksum, Component, Party, Purpose
from .interface import ScanContext, Scanner

SBOM_PATH = "Misc/sbom.spdx.json"
EXTERNALS_PATH = "Misc/externals.spdx.json"
_NOASSERTION = {"NOASSERTION", "NONE", ""}
_PURPOSES = {p.value.upper(): p for p in Purpose}


def parse_party(value: str | None, where: str) -> Party | None:
    """Parse an SPDX actor: ``Organization: Name (email)`` or ``Person: Name (email)``."""
    if value is None or value in _NOASSERTION:
        return None
    kind, sep, rest = value.partition(":")
    if not sep or kind.strip() not in ("Organization", "Person", "Tool"):
        raise ContentError(f"{where}: not an SPDX actor: {value!r}")
    rest = rest.strip()
    email = None
    if rest.endswith(")") and "(" in rest:
        rest, _, mail = rest[:-1].rpartition("(")
        rest, email = rest.strip(), mail.strip() or None
    return Party(kind.strip(), rest, email)


class CPythonSbomScanner(Scanner):
    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}

    def wants(self, path: str) -> bool:
        return path in (SBOM_PATH, EXTERNALS_PATH)

    def visit(self, path: str, content: bytes) -> None:
        self.documents[path] = content

    def finish(self, context: ScanContext) -> None:
        if SBOM_PATH not in self.documents:
            context.notice(
                f"{context.artifact_name} carries no SBOM data of its own ({SBOM_PATH}); "
                "bundled C libraries cannot be listed"
            )
        mismatches: list[str] = []
        for path in (SBOM_PATH, EXTERNALS_PATH):
            if path not in self.documents:
                continue
            document = load_document(path, self.documents[path])
            listed = listed_files(document, path)
            mismatches += _check_files(listed, context)
            if path == SBOM_PATH:
                for component in listed_components(document, listed, path, context.files):
                    context.add_component(component, depended_on_by=context.root_key)
        if mismatches:
            summary = (
                f"{len(mismatches)} file(s) listed in CPython's SBOM data do not match the artifact: "
                + "; ".join(mismatches[:10])
                + ("; ..." if len(mismatches) > 10 else "")
            )
            if not context.allow_mismatch:
                raise ContentError(summary + " (--allow-mismatch records them with their actual checksums)")
            context.notice("warning: " + summary)


def load_document(path: str, content: bytes) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContentError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ContentError(f"{path}: expected a JSON object at the top level")
    for key in ("packages", "files", "relationships"):
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise ContentError(f"{path}: '{key}' must be a list of objects")
    return document


def _field(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ContentError(f"{where}: missing or empty '{key}'")
    return value


def _checksums(item: dict[str, Any], where: str) -> tuple[Checksum, ...]:
    result = []
    for entry in item.get("checksums", []):
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: malformed checksum entry")
        algorithm = _field(entry, "algorithm", where).upper()
        value = _field(entry, "checksumValue", where).lower()
        result.append(Checksum(algorithm, value))
    return tuple(result)


def listed_files(document: dict[str, Any], path: str) -> dict[str, tuple[str, tuple[Checksum, ...]]]:
    """SPDXID -> (file name, checksums) for every file the document lists."""
    listed = {}
    for item in document.get("files", []):
        spdx_id = _field(item, "SPDXID", path)
        name = _field(item, "fileName", f"{path}: {spdx_id}").removeprefix("./")
        checksums = _checksums(item, f"{path}: {name}")
        if not any(c.algorithm == "SHA256" for c in checksums):
            raise ContentError(f"{path}: file {name!r} has no SHA256 checksum")
        listed[spdx_id] = (name, checksums)
    return listed


def _check_files(listed: dict[str, tuple[str, tuple[Checksum, ...]]], context: ScanContext) -> list[str]:
    """One problem per listed file that is missing or whose checksums differ (SHA256 first)."""
    problems = []
    for name, checksums in sorted(listed.values()):
        entry = context.files.get(name)
        if entry is None:
            problems.append(f"{name} is missing from the artifact")
            continue
        for checksum in sorted(checksums, key=lambda c: c.algorithm != "SHA256"):
            actual = entry.digest(checksum.algorithm)
            if actual is not None and actual != checksum.value:
                problems.append(f"{name}: {checksum.algorithm} is {actual}, listed as {checksum.value}")
                break
    return problems


def listed_components(
    document: dict[str, Any],
    listed: dict[str, tuple[str, tuple[Checksum, ...]]],
    path: str,
    present: Container[str],
) -> list[Component]:
    """The listed packages, each owning those of its listed files the artifact has."""
    contains: dict[str, list[str]] = {}
    for rel in document.get("relationships", []):
        if rel.get("relationshipType") == "CONTAINS" and rel.get("relatedSpdxElement") in listed:
            contains.setdefault(str(rel.get("spdxElementId")), []).append(
                listed[rel["relatedSpdxElement"]][0]
            )
    components = []
    for item in document.get("packages", []):
        spdx_id = _field(item, "SPDXID", path)
        where = f"{path}: {spdx_id}"
        purl = cpe = None
        for ref in item.get("externalRefs", []):
            if ref.get("referenceType") == "purl":
                purl = ref.get("referenceLocator")
            elif ref.get("referenceType") in ("cpe23Type", "cpe22Type"):
                cpe = ref.get("referenceLocator")
        download = item.get("downloadLocation")
        license_concluded = item.get("licenseConcluded")
        license_declared = item.get("licenseDeclared")
        purpose = _PURPOSES.get(str(item.get("primaryPackagePurpose", "SOURCE")).upper(), Purpose.SOURCE)
        components.append(
            Component(
                key=f"cpython-sbom:{spdx_id}",
                name=_field(item, "name", where),
                version=item.get("versionInfo") or None,
                purpose=purpose,
                originator=parse_party(item.get("originator"), where),
                supplier=parse_party(item.get("supplier"), where),
                download_location=None if download in _NOASSERTION else download,
                checksums=_checksums(item, where),
                purl=purl,
                cpe=cpe,
                license_concluded=None if license_concluded in _NOASSERTION else license_concluded,
                license_declared=None if license_declared in _NOASSERTION else license_declared,
                files=tuple(sorted(p for p in contains.get(spdx_id, []) if p in present)),
            )
        )
    return components
