"""A self-contained HTML report of an SBOM (and its provenance), from jinja2 templates."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from .. import __version__
from ..diff import load


def _statement(bundle: Path) -> dict[str, Any] | None:
    """The in-toto statement inside a bundle, envelope or plain statement file (unverified)."""
    try:
        document = json.loads(bundle.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(document, dict) and "_type" in document:
        return document
    envelope = document.get("dsseEnvelope", document) if isinstance(document, dict) else None
    if isinstance(envelope, dict) and "payload" in envelope:
        try:
            statement = json.loads(base64.b64decode(envelope["payload"]))
        except (ValueError, TypeError):
            return None
        return statement if isinstance(statement, dict) else None
    return None


def _provenance(bundle: Path, sbom: Path, artifact_sha256: str | None) -> dict[str, Any]:
    statement = _statement(bundle)
    if statement is None:
        return {"file": bundle.name, "readable": False}
    subjects = [s for s in statement.get("subject", []) if isinstance(s, dict)]
    predicate: dict[str, Any] = statement["predicate"] if isinstance(statement.get("predicate"), dict) else {}
    run: dict[str, Any] = predicate["runDetails"] if isinstance(predicate.get("runDetails"), dict) else {}
    sbom_sha256 = hashlib.sha256(sbom.read_bytes()).hexdigest()
    byproducts = run.get("byproducts", [])
    dependencies = (predicate.get("buildDefinition") or {}).get("resolvedDependencies") or []
    return {
        "file": bundle.name,
        "readable": True,
        "predicate_type": statement.get("predicateType"),
        "subjects": [s.get("name") for s in subjects],
        "subject_matches": artifact_sha256 is not None
        and any((s.get("digest") or {}).get("sha256") == artifact_sha256 for s in subjects),
        "binds_sbom": any(
            (b.get("digest") or {}).get("sha256") == sbom_sha256 for b in byproducts if isinstance(b, dict)
        ),
        "builder": (run.get("builder") or {}).get("id"),
        "sources": [d.get("uri") for d in dependencies if isinstance(d, dict)],
    }


def _link(purl: str | None) -> str | None:
    if purl and purl.startswith("pkg:pypi/"):
        name, _, version = purl.removeprefix("pkg:pypi/").partition("@")
        return f"https://pypi.org/project/{name}/{version}/"
    return None


def render(sbom: Path, provenance: Path | None = None) -> bytes:
    snapshot = load(sbom)
    root = snapshot.root or ""
    rows = []
    for key in sorted(snapshot.components, key=lambda k: (k != root, k.count("/"), k)):
        fields, details = snapshot.components[key], snapshot.details.get(key, {})
        declared, concluded = fields["license"]
        rows.append(
            {
                "key": key,
                "name": details.get("name") or key,
                "depth": 0 if key == root else key.count("/") + 1,
                "version": fields["version"],
                "license": declared or concluded,
                "purl": details.get("purl"),
                "link": _link(details.get("purl")),
                "download": fields["download location"],
                "supplier": fields["supplier"],
                "files": details.get("files", 0),
                "checksums": sorted(fields["checksums"]),
            }
        )
    checksums = sorted(snapshot.components.get(root, {}).get("checksums", []))
    artifact_sha256 = next((c.split(":", 1)[1] for c in checksums if c.startswith("SHA256:")), None)
    vendored: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if "/" in row["key"]:
            vendored.setdefault(row["key"].rsplit("/", 1)[0], []).append(row)
    environment = Environment(
        loader=PackageLoader("sbomgen", "write/templates"),
        autoescape=True,  # everything shown comes from an untrusted document
        keep_trailing_newline=True,
    )
    html = environment.get_template("report.html.j2").render(
        sbom=sbom.name,
        artifact=snapshot.details.get(root, {}).get("file name") or root,
        root=next((r for r in rows if r["key"] == root), None),
        checksums=checksums,
        rows=rows,
        vendored=vendored,
        total_files=len(snapshot.files),
        provenance=_provenance(provenance, sbom, artifact_sha256) if provenance else None,
        version=__version__,
    )
    return html.encode("utf-8")
