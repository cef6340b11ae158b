"""A self-contained HTML report of an SBOM (and its provenance), from jinja2 templates."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader

from .. import __version__
from ..documents.bundle import MAX_BUNDLE_BYTES, Kind, read_bundle
from ..documents.intoto import SlsaProvenanceV1, Statement
from ..documents.parse import MAX_DOCUMENT_BYTES, load_json, validate
from ..documents.source import read_bounded
from ..documents.text import control_character
from ..errors import ContentError, SbomgenError
from .diff import Snapshot, load


def _statement(path: Path) -> Statement | None:
    """The in-toto statement inside a bundle, envelope or plain statement file (unverified)."""
    try:
        bundle = read_bundle(read_bounded(path, str(path), ContentError, MAX_BUNDLE_BYTES), path.name)
        if bundle.kind is Kind.MESSAGE_SIGNATURE:
            return None
        payload = bundle.envelope.payload if bundle.envelope is not None else bundle.raw
        return load_json(Statement, payload, path.name, ContentError)
    except (OSError, SbomgenError):
        return None


def _provenance(bundle: Path, sbom: Path, artifact_sha256: str | None) -> dict[str, Any]:
    statement = _statement(bundle)
    if statement is None:
        return {"file": bundle.name, "readable": False}
    sbom_sha256 = hashlib.sha256(read_bounded(sbom, str(sbom), ContentError, MAX_DOCUMENT_BYTES)).hexdigest()
    try:
        provenance = validate(SlsaProvenanceV1, statement.predicate, bundle.name, ContentError)
    except ContentError:
        provenance = None
    run = provenance.runDetails if provenance else None
    dependencies = provenance.buildDefinition.resolvedDependencies if provenance else []
    subjects = statement.subject
    return {
        "file": bundle.name,
        "readable": True,
        "predicate_type": statement.predicateType,
        "subjects": [s.name for s in statement.subject],
        "subject_matches": any(s.digest.get("sha256", "").lower() == artifact_sha256 for s in subjects),
        "binds_sbom": run is not None
        and any(b.digest.get("sha256", "").lower() == sbom_sha256 for b in run.byproducts),
        "builder": run.builder.id if run else None,
        "sources": [d.uri for d in dependencies if d.uri],
    }


_WEB_URL = re.compile(r"https?://[^\s/?#\\][^\s\\]*", re.IGNORECASE | re.ASCII)


def web_url(value: object) -> str | None:
    """``value`` if it is an http or https URL, else None: only those become links.

    Everything else (``javascript:``, ``data:``, ``file:``, a relative path, a scheme with
    a tab or a leading space that browsers would drop) is shown as text.
    """
    if isinstance(value, str) and _WEB_URL.fullmatch(value) and not control_character(value):
        return value
    return None


def _link(purl: str | None) -> str | None:
    if purl and purl.startswith("pkg:pypi/"):
        name, _, version = purl.removeprefix("pkg:pypi/").partition("@")
        return web_url(f"https://pypi.org/project/{quote(name, safe='')}/{quote(version, safe='')}/")
    return None


def _tree(snapshot: Snapshot) -> list[tuple[str, int]]:
    """Every component's key and depth, depth first as the SBOM's relationships nest them:
    the root, each component followed by what it depends on; then what the root does not reach."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for key in sorted(snapshot.components):
        children[snapshot.parents.get(key)].append(key)
    top = sorted(children[None], key=lambda k: k != snapshot.root)
    order: list[tuple[str, int]] = []
    stack = [(key, 0) for key in reversed(top)]
    while stack:
        key, depth = stack.pop()
        order.append((key, depth))
        stack += [(child, depth + 1) for child in reversed(children[key])]
    return order


def render(sbom: Path, provenance: Path | None = None) -> bytes:
    snapshot = load(sbom)
    root = snapshot.root or ""
    rows = []
    for key, depth in _tree(snapshot):
        fields, details = snapshot.components[key], snapshot.details.get(key, {})
        declared, concluded = fields["license"]
        rows.append(
            {
                "key": key,
                "name": details.get("name") or key,
                "depth": depth,
                "version": fields["version"],
                "license": declared or concluded,
                "purl": details.get("purl"),
                "link": _link(details.get("purl")),
                "download": fields["download location"],
                "download_link": web_url(fields["download location"]),
                "supplier": fields["supplier"],
                "files": details.get("files", 0),
            }
        )
    checksums = sorted(snapshot.components.get(root, {}).get("checksums", []))
    artifact_sha256 = next((c.split(":", 1)[1] for c in checksums if c.startswith("SHA256:")), None)
    vendored: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        parent = snapshot.parents.get(row["key"])
        if parent is not None and parent != root:
            vendored.setdefault(parent, []).append(row)
    environment = Environment(
        loader=PackageLoader("sbomgen", "write/templates"),
        autoescape=True,  # everything shown comes from an untrusted document
        keep_trailing_newline=True,
    )
    root_row = next((r for r in rows if r["key"] == root), None)
    html = environment.get_template("report.html.j2").render(
        sbom=sbom.name,
        # The described package as the SBOM names it, the same whatever the format.
        artifact=f"{root_row['name']} {root_row['version'] or ''}".strip() if root_row else sbom.name,
        file_name=snapshot.details.get(root, {}).get("file name"),
        root=root_row,
        checksums=checksums,
        rows=rows,
        vendored=vendored,
        total_files=len(snapshot.files),
        provenance=_provenance(provenance, sbom, artifact_sha256) if provenance else None,
        version=__version__,
    )
    return html.encode("utf-8")
