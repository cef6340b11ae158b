"""spdx3-validate's own checks (the SPDX 3.0.1 JSON schema and the SHACL shapes of the
model), run offline: the three files it would download from spdx.org are in schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "spdx-3.0.1"


def spdx3_problems(document: bytes) -> list[str]:
    """What spdx3-validate reports of an SPDX 3.0.1 JSON-LD document (empty: valid)."""
    import rdflib
    from spdx3_validate.core import check_graph, find_version, schema_validator

    data = json.loads(document)
    version = find_version(data["@context"])
    assert version is not None and version.pretty == "3.0.1", data.get("@context")
    schema = json.loads((SCHEMAS / "schema.json").read_text())
    problems = [f"schema: {e.message}" for e in schema_validator(schema).iter_errors(data)]
    context = json.loads((SCHEMAS / "spdx-context.jsonld").read_text())["@context"]
    inlined: dict[str, Any] = {**data, "@context": context}  # the same context, not fetched
    graph = rdflib.Graph().parse(data=json.dumps(inlined), format="json-ld")
    shapes = rdflib.Graph().parse(SCHEMAS / "spdx-model.ttl", format="turtle")
    return problems + [f"shacl: {m}" for m in check_graph(graph, shapes, version, True)]
