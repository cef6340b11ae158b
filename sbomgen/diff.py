"""Compare two SBOMs, SPDX or CycloneDX in any mix: components and files.

Both documents are read into one form. A component is known by its place in the
dependency tree (``pip/urllib3`` is what pip vendors; ``setuptools`` is what the release
bundles itself), with a canonical name, so the same package is matched across formats
and across releases.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from .errors import ContentError
from .jsonfile import read_json

FIELDS = ("version", "checksums", "license", "download location", "supplier")
_CDX_ALGORITHMS = {"SHA-1": "SHA1", "SHA-256": "SHA256", "SHA-512": "SHA512", "SHA-384": "SHA384"}


@dataclass
class Snapshot:
    root: str | None = None
    components: dict[str, dict[str, Any]] = field(default_factory=dict)  # the compared fields
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # name, purl, file counts
    files: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class Difference:
    added: list[tuple[str, str | None]]
    removed: list[tuple[str, str | None]]
    changed: list[tuple[str, str, Any, Any]]
    files_added: list[str]
    files_removed: list[str]
    files_changed: list[str]

    @property
    def empty(self) -> bool:
        return not any(
            (self.added, self.removed, self.changed, self.files_added, self.files_removed, self.files_changed)
        )

    def as_dict(self, files: bool) -> dict[str, Any]:
        result: dict[str, Any] = {
            "components": {
                "added": [{"component": k, "version": v} for k, v in self.added],
                "removed": [{"component": k, "version": v} for k, v in self.removed],
                "changed": [{"component": k, "field": f, "old": o, "new": n} for k, f, o, n in self.changed],
            },
            "files": {
                "added": len(self.files_added),
                "removed": len(self.files_removed),
                "changed": len(self.files_changed),
            },
        }
        if files:
            result["files"].update(
                {
                    "added_paths": self.files_added,
                    "removed_paths": self.files_removed,
                    "changed_paths": self.files_changed,
                }
            )
        return result


def load(path: Path) -> Snapshot:
    document = read_json(path, "JSON; diff reads SPDX JSON and CycloneDX JSON")
    if isinstance(document, dict) and "spdxVersion" in document:
        return _from_spdx(document)
    if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
        return _from_cyclonedx(document)
    raise ContentError(f"{path}: neither an SPDX nor a CycloneDX JSON document")


def compare(old: Snapshot, new: Snapshot) -> Difference:
    added = sorted((k, new.components[k]["version"]) for k in new.components.keys() - old.components.keys())
    removed = sorted((k, old.components[k]["version"]) for k in old.components.keys() - new.components.keys())
    changed = []
    for key in sorted(old.components.keys() & new.components.keys()):
        for name in FIELDS:
            before, after = old.components[key][name], new.components[key][name]
            if before != after:
                changed.append((key, name, _plain(before), _plain(after)))
    common = old.files.keys() & new.files.keys()
    return Difference(
        added=added,
        removed=removed,
        changed=changed,
        files_added=sorted(new.files.keys() - old.files.keys()),
        files_removed=sorted(old.files.keys() - new.files.keys()),
        files_changed=sorted(
            p for p in common if not old.files[p] & new.files[p] or _conflict(old.files[p], new.files[p])
        ),
    )


def _conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Checksums of one algorithm that disagree (algorithms only one side has are no change)."""
    left = dict(item.split(":", 1) for item in a)
    right = dict(item.split(":", 1) for item in b)
    return any(left[alg] != right[alg] for alg in left.keys() & right.keys())


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset) else value


def _none(value: Any) -> Any:
    return None if value in (None, "", "NOASSERTION", "NONE") else value


def _tree_keys(root: str, names: dict[str, str], edges: dict[str, list[str]]) -> dict[str, str]:
    """Each reachable element's key: canonical names along the shortest path from the root."""
    keys = {root: names[root]}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for child in sorted(edges.get(node, [])):
            if child in keys or child not in names:
                continue
            prefix = "" if node == root else keys[node] + "/"
            keys[child] = prefix + canonicalize_name(names[child])
            queue.append(child)
    for element, name in names.items():  # unreachable elements still count, by name
        keys.setdefault(element, canonicalize_name(name))
    return keys


def _from_spdx(document: dict[str, Any]) -> Snapshot:
    packages = {p["SPDXID"]: p for p in document.get("packages", []) if isinstance(p, dict) and "SPDXID" in p}
    relationships = [r for r in document.get("relationships", []) if isinstance(r, dict)]
    roots = [r.get("relatedSpdxElement") for r in relationships if r.get("relationshipType") == "DESCRIBES"]
    root: str = next((r for r in roots if isinstance(r, str) and r in packages), next(iter(packages), ""))
    edges: dict[str, list[str]] = defaultdict(list)
    for r in relationships:
        if r.get("relationshipType") == "DEPENDS_ON":
            edges[r.get("spdxElementId", "")].append(r.get("relatedSpdxElement", ""))
    keys = _tree_keys(root, {i: p.get("name", i) for i, p in packages.items()}, edges) if packages else {}
    snapshot = Snapshot(root=keys.get(root))
    file_counts: dict[str, int] = defaultdict(int)
    for r in relationships:
        if r.get("relationshipType") == "CONTAINS" and str(r.get("relatedSpdxElement", "")).startswith(
            "SPDXRef-FILE"
        ):
            file_counts[r.get("spdxElementId", "")] += 1
    for spdx_id, package in packages.items():
        purl = next(
            (
                x.get("referenceLocator")
                for x in package.get("externalRefs", [])
                if x.get("referenceType") == "purl"
            ),
            None,
        )
        snapshot.details[keys[spdx_id]] = {
            "name": package.get("name"),
            "purl": purl,
            "files": file_counts.get(spdx_id, 0),
            "file name": package.get("packageFileName"),
        }
        snapshot.components[keys[spdx_id]] = {
            "version": package.get("versionInfo"),
            "checksums": frozenset(
                f"{c['algorithm']}:{c['checksumValue'].lower()}" for c in package.get("checksums", [])
            ),
            "license": (_none(package.get("licenseDeclared")), _none(package.get("licenseConcluded"))),
            "download location": _none(package.get("downloadLocation")),
            "supplier": _none(package.get("supplier")),
        }
    for entry in document.get("files", []):
        snapshot.files[entry["fileName"].removeprefix("./")] = frozenset(
            f"{c['algorithm']}:{c['checksumValue'].lower()}" for c in entry.get("checksums", [])
        )
    return snapshot


def _from_cyclonedx(document: dict[str, Any]) -> Snapshot:
    snapshot = Snapshot()
    metadata = document.get("metadata") or {}
    root = metadata.get("component")
    top = document.get("components") or []

    def hashes(item: dict[str, Any]) -> frozenset[str]:
        return frozenset(
            f"{_CDX_ALGORITHMS.get(h['alg'], h['alg'])}:{h['content'].lower()}"
            for h in item.get("hashes", [])
        )

    def record(item: dict[str, Any], key: str) -> None:
        snapshot.details[key] = {
            "name": item.get("name"),
            "purl": item.get("purl"),
            "files": sum(1 for c in item.get("components", []) if c.get("type") == "file"),
            "file name": None,
        }
        licenses: dict[str, str | None] = {"declared": None, "concluded": None}
        for choice in item.get("licenses", []):
            value = choice.get("expression") or (choice.get("license") or {}).get("id")
            licenses[
                choice.get("acknowledgement")
                or (choice.get("license") or {}).get("acknowledgement")
                or "declared"
            ] = value
        download = next(
            (r.get("url") for r in item.get("externalReferences", []) if r.get("type") == "distribution"),
            None,
        )
        supplier = (item.get("supplier") or {}).get("name")
        snapshot.components[key] = {
            "version": item.get("version"),
            "checksums": hashes(item),
            "license": (licenses.get("declared"), licenses.get("concluded")),
            "download location": download,
            "supplier": f"Organization: {supplier}" if supplier else None,
        }

    def walk(items: list[dict[str, Any]], prefix: str) -> None:
        for item in items:
            if item.get("type") == "file":
                snapshot.files[item["name"]] = hashes(item)
                continue
            key = prefix + canonicalize_name(item["name"])
            record(item, key)
            walk(item.get("components", []), key + "/")

    if root:
        snapshot.root = root["name"]
        record(root, root["name"])
        walk(root.get("components", []), "")
    walk(top, "")
    if snapshot.root:
        snapshot.details[snapshot.root]["files"] += sum(1 for c in top if c.get("type") == "file")
    return snapshot


def as_markdown(difference: Difference, old: str, new: str, files: bool) -> str:
    lines = [f"## SBOM changes: `{old}` → `{new}`", ""]
    if difference.added:
        lines += ["### Added", ""] + [f"- {k} {v or ''}".rstrip() for k, v in difference.added] + [""]
    if difference.removed:
        lines += ["### Removed", ""] + [f"- {k} {v or ''}".rstrip() for k, v in difference.removed] + [""]
    if difference.changed:
        lines += ["### Changed", "", "| component | field | old | new |", "| --- | --- | --- | --- |"]
        lines += [f"| {k} | {f} | {_cell(o)} | {_cell(n)} |" for k, f, o, n in difference.changed] + [""]
    lines += [
        "### Files",
        "",
        f"{len(difference.files_added)} added, {len(difference.files_removed)} removed, "
        f"{len(difference.files_changed)} changed",
    ]
    if files:
        for label, paths in (
            ("+", difference.files_added),
            ("-", difference.files_removed),
            ("~", difference.files_changed),
        ):
            lines += [f"- `{label} {p}`" for p in paths]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "<br>".join(str(v) for v in value if v is not None) or "—"
    return "—" if value is None else str(value).replace("|", "\\|")
