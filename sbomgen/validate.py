"""Validate documents: SPDX 2.2/2.3 (spdx-tools), CycloneDX 1.4-1.6 (cyclonedx-python-lib),
in-toto statements (schemas/), and optionally the NTIA minimum elements. Every problem
comes with where it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_CDX_VERSIONS = {"1.4", "1.5", "1.6"}


def validate_file(path: Path, ntia: bool = False) -> tuple[str, list[str]]:
    """The kind of document and its problems (empty when valid)."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        return "unreadable", [f"cannot read: {exc.strerror}"]
    head = content.lstrip()[:1]
    if head == b"<":
        return _cyclonedx_xml(content)
    if head in (b"{", b"["):
        try:
            document = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return "JSON", [f"line {getattr(exc, 'lineno', '?')}: not valid JSON ({exc})"]
        if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
            return _cyclonedx_json(document, content)
        if isinstance(document, dict) and "_type" in document:
            return _statement(document)
        envelope = document.get("dsseEnvelope", document) if isinstance(document, dict) else None
        if isinstance(envelope, dict) and "payloadType" in envelope:
            return _envelope(envelope)
    return _spdx(path, ntia)


def _spdx(path: Path, ntia: bool) -> tuple[str, list[str]]:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.parse_anything import parse_file

    from .write.spdx import validate_document

    try:
        document = parse_file(str(path))
    except SPDXParsingError as exc:
        return "SPDX", [f"parsing: {message}" for message in exc.get_messages()]
    except Exception as exc:  # the parsers raise a variety of errors on garbage
        return "SPDX", [f"parsing: {exc}"]
    kind = f"SPDX {document.creation_info.spdx_version.removeprefix('SPDX-')}"
    problems = []
    for message in validate_document(document):
        context = message.context
        where = (context.spdx_id or context.parent_id or "") if context else ""
        element = context.element_type.name.lower() if context and context.element_type else "document"
        relationship = getattr(context, "full_element", None) if element == "relationship" else None
        if relationship is not None:
            kind = relationship.relationship_type.name
            where = f"{relationship.spdx_element_id} {kind} {relationship.related_spdx_element_id}"
        problems.append(
            f"{element} {where}: {message.validation_message}"
            if where
            else f"{element}: {message.validation_message}"
        )
    if ntia and not problems:
        problems += _ntia(path)
    return kind, problems


def _ntia(path: Path) -> list[str]:
    from ntia_conformance_checker.sbom_checker import SbomChecker

    checker = SbomChecker(str(path))
    if checker.compliant:
        return []
    problems = []
    for label, missing in (
        ("components without a name", getattr(checker, "components_without_names", [])),
        ("components without a version", getattr(checker, "components_without_versions", [])),
        ("components without a supplier", getattr(checker, "components_without_suppliers", [])),
        ("components without an identifier", getattr(checker, "components_without_identifiers", [])),
    ):
        if missing:
            problems.append(f"NTIA minimum elements: {label}: {', '.join(map(str, missing))}")
    if not getattr(checker, "doc_author", True):
        problems.append("NTIA minimum elements: no SBOM author")
    if not getattr(checker, "doc_timestamp", True):
        problems.append("NTIA minimum elements: no creation timestamp")
    if not getattr(checker, "dependency_relationships", True):
        problems.append("NTIA minimum elements: no dependency relationships")
    return problems or ["NTIA minimum elements: not conformant"]


def _cyclonedx_json(document: dict[str, Any], content: bytes) -> tuple[str, list[str]]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    version = str(document.get("specVersion"))
    if version not in _CDX_VERSIONS:
        return f"CycloneDX {version}", [
            f"specVersion: {version!r} is not one of {', '.join(sorted(_CDX_VERSIONS))}"
        ]
    schema = SchemaVersion.from_version(version)
    errors = JsonStrictValidator(schema).validate_str(content.decode(), all_errors=True)
    return f"CycloneDX {version}", [_located(e) for e in (errors or [])]


def _cyclonedx_xml(content: bytes) -> tuple[str, list[str]]:
    import re

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    found = re.search(rb"http://cyclonedx.org/schema/bom/(1\.\d)", content[:2000])
    version = found.group(1).decode() if found else "?"
    if version not in _CDX_VERSIONS:
        return "XML", [
            f"not a CycloneDX {'/'.join(sorted(_CDX_VERSIONS))} document (namespace says {version})"
        ]
    errors = XmlValidator(SchemaVersion.from_version(version)).validate_str(content.decode(), all_errors=True)
    return f"CycloneDX {version} XML", [_located(e) for e in (errors or [])]


def _located(error: Any) -> str:
    detail: Any = getattr(error, "data", None)
    path = getattr(detail, "json_path", None)
    if path is None and hasattr(detail, "absolute_path"):
        path = "/".join(map(str, detail.absolute_path)) or "(root)"
    if hasattr(detail, "line"):
        path = f"line {detail.line}"
    message = getattr(detail, "message", None) or str(error)
    return f"{path}: {message}" if path else str(message)


def _envelope(envelope: dict[str, Any]) -> tuple[str, list[str]]:
    import base64
    import binascii

    kind = "DSSE envelope"
    if envelope.get("payloadType") != "application/vnd.in-toto+json":
        return kind, [f"payloadType: {envelope.get('payloadType')!r} is not an in-toto statement"]
    try:
        statement = json.loads(base64.b64decode(envelope.get("payload", ""), validate=True))
    except (binascii.Error, ValueError) as exc:
        return kind, [f"payload: not a base64-encoded JSON statement ({exc})"]
    if not isinstance(statement, dict):
        return kind, ["payload: not a JSON object"]
    _, problems = _statement(statement)
    return f"{kind} of an in-toto statement", [f"payload: {p}" for p in problems]


def _statement(document: dict[str, Any]) -> tuple[str, list[str]]:
    from .errors import OutputValidationError
    from .provenance.statement import check_against_schema

    try:
        check_against_schema(document)
    except OutputValidationError as exc:
        return "in-toto statement", [
            str(exc).removeprefix("the provenance statement does not match its schema: ")
        ]
    return "in-toto statement", []
