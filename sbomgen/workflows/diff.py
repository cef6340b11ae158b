"""Compare two SBOMs, SPDX or CycloneDX in any mix: components and files.

Both documents are read through the gate into one form. A component is known by its
canonical name and its place in the dependency graph: the path of what depends on it from
the root (``pip/urllib3`` is what pip vendors; ``setuptools`` is what the release bundles
itself). CycloneDX nesting plays no part, so an SPDX document, a nested and a flat
CycloneDX BOM of one artifact read the same; two components the rule gives one key are an
error, never merged.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ..documents import cyclonedx, sbom, spdx2, spdx3, stream
from ..documents.parse import MAX_DOCUMENT_BYTES, parse_json
from ..documents.source import read_bounded
from ..errors import ContentError

FIELDS = ("version", "checksums", "license", "download location", "supplier")
_CDX_ALGORITHMS = {"SHA-1": "SHA1", "SHA-256": "SHA256", "SHA-512": "SHA512", "SHA-384": "SHA384"}
_NONE = ("", "NOASSERTION", "NONE")
# Keys are paths of names; each is a string of its own, so a long chain of dependencies
# would cost the square of its length. Real ones are a few names long (pip/urllib3).
MAX_KEY = 1024


@dataclass
class Snapshot:
    root: str | None = None
    components: dict[str, dict[str, Any]] = field(default_factory=dict)  # the compared fields
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # name, purl, files, originator…
    files: dict[str, frozenset[str]] = field(default_factory=dict)
    # Each component the root reaches, but the root: the key of what depends on it on its path.
    parents: dict[str, str] = field(default_factory=dict)


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
    """The SBOM at ``path`` (SPDX JSON, CycloneDX JSON or XML); ContentError (exit 4) when it
    is not one or does not fit its model."""
    return loads(read_bounded(path, str(path), ContentError, MAX_DOCUMENT_BYTES), str(path))


def loads(data: bytes, source: str) -> Snapshot:
    """The snapshot of the SBOM in ``data``; ``source`` names it in errors."""
    if b'"@context"' in data:  # JSON-LD: SPDX 3, or a document sbom.load refuses in its own words
        value = parse_json(data, source, ContentError)
        if spdx3.is_spdx3(value):
            return from_spdx3(spdx3.load_value(value, source, ContentError), source)
    items: list[_Item] = []
    streamed = stream.read_cyclonedx(data, lambda component: items.extend(_items(component, top=True)))
    if streamed is not None:
        return from_cyclonedx(streamed, source, items)
    document = sbom.load(data, source, ContentError)
    if isinstance(document, spdx2.Document):
        return from_spdx(document, source)
    return from_cyclonedx(document, source)


def compare(old: Snapshot, new: Snapshot) -> Difference:
    added = sorted((k, new.components[k]["version"]) for k in new.components.keys() - old.components.keys())
    removed = sorted((k, old.components[k]["version"]) for k in old.components.keys() - new.components.keys())
    changed = []
    for key in sorted(old.components.keys() & new.components.keys()):
        for name in FIELDS:
            before, after = old.components[key][name], new.components[key][name]
            if before != after and not (name == "checksums" and _same_digests(before, after)):
                changed.append((key, name, _plain(before), _plain(after)))
    common = old.files.keys() & new.files.keys()
    return Difference(
        added=added,
        removed=removed,
        changed=changed,
        files_added=sorted(new.files.keys() - old.files.keys()),
        files_removed=sorted(old.files.keys() - new.files.keys()),
        files_changed=sorted(p for p in common if not _same_digests(old.files[p], new.files[p])),
    )


def _same_digests(a: frozenset[str], b: frozenset[str]) -> bool:
    """One digest in common and none that disagrees: an algorithm only one side gives (the
    artifact's SHA-512 in CycloneDX, ``--checksum sha512``) is no change."""
    return bool(a & b) and not _conflict(a, b)


def _conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Checksums of one algorithm that disagree (algorithms only one side has are no change)."""
    left = dict(item.split(":", 1) for item in a)
    right = dict(item.split(":", 1) for item in b)
    return any(left[alg] != right[alg] for alg in left.keys() & right.keys())


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset) else value


def _none(value: str | None) -> str | None:
    return None if value is None or value in _NONE else value


def _graph_keys(
    root: str | None, names: dict[str, str], edges: dict[str, list[str]], source: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Each element's key: the canonical names on its shortest path of dependents from the
    root, the root itself left out (``pip/urllib3``). Of paths equally short the least key
    wins, so the key does not depend on how a format names its elements. Elements the root
    does not reach are known by their name alone. Also the parent of each key the root
    reaches: the key of the element before it on that path."""
    keys: dict[str, str] = {}
    parents: dict[str, str] = {}
    if root is not None:
        keys[root] = name_key(names[root])
        level = [root]
        while level:
            offers: dict[str, tuple[str, str]] = {}  # element -> (its key, its parent's key)
            for node in level:
                prefix = "" if node == root else keys[node] + "/"
                for child in edges.get(node, ()):
                    if child in keys or child not in names:
                        continue
                    key = prefix + name_key(names[child])
                    if child not in offers or key < offers[child][0]:
                        offers[child] = (key, keys[node])
            for child, (key, parent) in offers.items():
                if len(key) > MAX_KEY:
                    raise ContentError(
                        f"{source}: the component {names[child][:200]!r} ({child[:200]}) is known by its path"
                        f" from the root, and that is longer than {MAX_KEY:,} characters: {key[:200]}..."
                    )
                keys[child], parents[key] = key, parent
            level = sorted(offers)
    for element, name in names.items():
        keys.setdefault(element, name_key(name))
    _no_collision(((key, element, names[element]) for element, key in keys.items()), source, "components")
    return keys, parents


def name_key(name: str) -> str:
    """A name as one part of a key: canonical, with the "/" that joins the parts (and "%")
    escaped, so that a component named "pip/setuptools" is not what pip vendors."""
    return canonicalize_name(name).replace("%", "%25").replace("/", "%2F")


def _no_collision(entries: Iterable[tuple[str, str, str]], source: str, what: str) -> None:
    """ContentError naming both when two elements have one key: merging them would hide one."""
    seen: dict[str, tuple[str, str]] = {}
    for key, element, name in sorted(entries):
        if key in seen:
            other, other_name = seen[key]
            raise ContentError(
                f"{source}: the {what} {other_name[:200]!r} ({other[:200]}) and {name[:200]!r} "
                f"({element[:200]}) are both known as {key[:200]!r}: they cannot be told apart"
            )
        seen[key] = (element, name)


def _spdx_checksums(checksums: list[spdx2.Checksum]) -> frozenset[str]:
    return frozenset(f"{c.algorithm}:{c.value}" for c in checksums)


def from_spdx(document: spdx2.Document, source: str) -> Snapshot:
    """The snapshot of an SPDX document the gate accepted."""
    packages = {p.SPDXID: p for p in document.packages}
    described = [i for i in document.described() if i in packages]
    root = described[0] if described else next(iter(packages), None)
    edges: dict[str, list[str]] = defaultdict(list)
    file_counts: dict[str, int] = defaultdict(int)
    file_ids = {f.SPDXID for f in document.files}
    for r in document.relationships:
        if r.relationshipType == "DEPENDS_ON":
            edges[r.spdxElementId].append(r.relatedSpdxElement)
        elif r.relationshipType == "DEPENDENCY_OF":
            edges[r.relatedSpdxElement].append(r.spdxElementId)
        elif r.relationshipType == "CONTAINS" and r.relatedSpdxElement in file_ids:
            file_counts[r.spdxElementId] += 1
    keys, parents = _graph_keys(root, {i: p.name for i, p in packages.items()}, edges, source)
    snapshot = Snapshot(root=keys[root] if root is not None else None, parents=parents)
    for spdx_id, package in packages.items():
        snapshot.details[keys[spdx_id]] = {
            "name": package.name,
            "purl": package.reference("purl"),
            "files": file_counts.get(spdx_id, 0),
            "file name": package.packageFileName,
            "originator": _none(package.originator),
            "copyright": _none(package.copyrightText),
            "license comment": package.licenseComments,
            "annotations": [a.comment for a in package.annotations],
        }
        snapshot.components[keys[spdx_id]] = {
            "version": package.versionInfo,
            "checksums": _spdx_checksums(package.checksums),
            "license": (_none(package.licenseDeclared), _none(package.licenseConcluded)),
            "download location": _none(package.downloadLocation),
            "supplier": _none(package.supplier),
        }
    _no_collision(((f.path, f.SPDXID, f.fileName) for f in document.files), source, "files")
    for entry in document.files:
        snapshot.files[entry.path] = _spdx_checksums(entry.checksums)
    return snapshot


def _spdx3_actor(agent: Any) -> str | None:
    """An agent as SPDX 2 writes an actor: ``Organization: NAME (EMAIL)``."""
    if agent is None or not getattr(agent, "name", None):
        return None
    kind = "Person" if type(agent).__name__ == "Person" else "Organization"
    emails = [i.identifier for i in agent.externalIdentifier if i.externalIdentifierType.endswith("/email")]
    return f"{kind}: {agent.name}" + (f" ({emails[0]})" if emails else "")


def _spdx3_hashes(element: Any) -> frozenset[str]:
    return frozenset(
        f"{h.algorithm.rpartition('/')[2].upper()}:{h.hashValue.lower()}"
        for h in element.verifiedUsing
        if type(h).__name__ == "Hash"
    )


def from_spdx3(document: spdx3.Document, source: str) -> Snapshot:
    """The snapshot of an SPDX 3 document the bindings read: the packages, the files they
    contain, and what they depend on."""
    if document.problems:
        raise ContentError(f"{source}: not a valid SPDX 3.0.1 document: {document.problems[0]}")
    packages = {p.spdxId: p for p in document.of_type("software_Package")}
    unnamed = next((i for i, p in packages.items() if not p.name), None)
    if unnamed is not None:
        raise ContentError(f"{source}: the package {unnamed[:200]} has no name")
    root = None
    for spdx_document in document.of_type("SpdxDocument"):
        for element in map(document.by_id, spdx_document.rootElement):
            tops = element.rootElement if type(element).__name__ == "software_Sbom" else [element]
            root = next(
                (e.spdxId for e in map(document.by_id, tops) if e is not None and e.spdxId in packages), root
            )
    edges: dict[str, list[str]] = defaultdict(list)
    contained: dict[str, list[Any]] = defaultdict(list)
    related: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for relationship in document.of_type("Relationship"):
        kind = relationship.relationshipType.rpartition("/")[2]
        origin = document.by_id(relationship.from_)
        targets = [t for t in map(document.by_id, relationship.to) if t is not None]
        if origin is None:
            continue
        if kind == "dependsOn":
            edges[origin.spdxId] += [t.spdxId for t in targets]
        elif kind == "contains":
            contained[origin.spdxId] += [t for t in targets if type(t).__name__ == "software_File"]
        else:
            related[origin.spdxId, kind] += targets
    keys, parents = _graph_keys(root, {i: p.name for i, p in packages.items()}, edges, source)
    snapshot = Snapshot(root=keys[root] if root is not None else None, parents=parents)

    def license_of(spdx_id: str, kind: str) -> str | None:
        texts = [getattr(t, "simplelicensing_licenseExpression", None) for t in related[spdx_id, kind]]
        return _none(next((t for t in texts if t), None))

    for spdx_id, package in packages.items():
        purl = package.software_packageUrl or next(
            (
                i.identifier
                for i in package.externalIdentifier
                if i.externalIdentifierType.endswith("/packageUrl")
            ),
            None,
        )
        originators = [_spdx3_actor(document.by_id(a)) for a in package.originatedBy]
        snapshot.details[keys[spdx_id]] = {
            "name": package.name,
            "purl": purl,
            "files": len(contained.get(spdx_id, ())),
            "file name": next((f.name for f in related[spdx_id, "hasDistributionArtifact"]), None),
            "originator": next(iter(originators), None),
        }
        snapshot.components[keys[spdx_id]] = {
            "version": package.software_packageVersion,
            "checksums": _spdx3_hashes(package),
            "license": (
                license_of(spdx_id, "hasDeclaredLicense"),
                license_of(spdx_id, "hasConcludedLicense"),
            ),
            "download location": _none(package.software_downloadLocation),
            "supplier": _spdx3_actor(document.by_id(package.suppliedBy)),
        }
    files = {f.spdxId: f for found in contained.values() for f in found}
    _no_collision(((f.name, i, f.name) for i, f in files.items()), source, "files")
    for entry in files.values():
        snapshot.files[entry.name] = _spdx3_hashes(entry)
    return snapshot


def _cdx_hashes(component: cyclonedx.Component) -> frozenset[str]:
    return frozenset(f"{_CDX_ALGORITHMS.get(h.alg, h.alg)}:{h.content.lower()}" for h in component.hashes)


@dataclass(frozen=True, slots=True)
class _Item:
    """What a snapshot takes of one CycloneDX component (nested ones are items of their own):
    small, so that a BOM read a component at a time is not held typed."""

    file: bool
    top: bool  # in the BOM's components, not nested nor the metadata's
    ref: str | None
    name: str
    purl: str | None
    files: int  # its nested components of type file
    version: str | None
    checksums: frozenset[str]
    licenses: tuple[str | None, str | None]  # declared, concluded
    distributions: tuple[str, ...]
    source_distribution: str | None
    supplier: str | None


def _items(component: cyclonedx.Component, top: bool) -> Iterator[_Item]:
    """The items of ``component`` and those nested in it, in ``walk`` order."""
    for each in component.walk():
        licenses: dict[str, str | None] = {"declared": None, "concluded": None}
        for choice in each.stated_licenses:
            licenses[choice.kind] = choice.spdx
        references = each.externalReferences
        supplier = each.supplier.name if each.supplier is not None else None
        yield _Item(
            file=each.type == "file",
            top=top and each is component,
            ref=each.bom_ref,
            name=each.name,
            purl=each.purl,
            files=sum(1 for c in each.components if c.type == "file"),
            version=each.version,
            checksums=_cdx_hashes(each),
            licenses=(licenses["declared"], licenses["concluded"]),
            distributions=tuple(r.url for r in references if r.type == "distribution"),
            source_distribution=next((r.url for r in references if r.type == "source-distribution"), None),
            supplier=f"Organization: {supplier}" if supplier else None,
        )


def from_cyclonedx(bom: cyclonedx.Bom, source: str, components: Iterable[_Item] | None = None) -> Snapshot:
    """The snapshot of a CycloneDX BOM the gate accepted, nested or flat alike; ``components``:
    the items of its components when the BOM was read without them (``stream``)."""
    subject = bom.metadata.component if bom.metadata is not None else None
    head = list(_items(subject, top=False)) if subject is not None else []
    if components is None:
        components = (item for component in bom.components for item in _items(component, top=True))
    own = frozenset(head[0].distributions) if head else frozenset()
    root: str | None = None
    names: dict[str, str] = {}
    by_id: dict[str, tuple[_Item, frozenset[str]]] = {}  # with the subject's distributions it is not
    files: list[tuple[str, str, str]] = []
    top_files = 0
    snapshot = Snapshot()
    for number, item in enumerate(itertools.chain(head, components)):
        if item.file:
            files.append((item.name, item.ref or f"#{number}", item.name))
            snapshot.files[item.name] = item.checksums
            top_files += item.top
            continue
        element = item.ref if item.ref is not None else f"#{number}"
        if number == 0 and subject is not None:
            root = element
        names[element] = item.name
        by_id[element] = (item, frozenset() if number == 0 and subject is not None else own)
    _no_collision(files, source, "files")
    edges: dict[str, list[str]] = {}
    for number, dependency in enumerate(bom.dependencies):
        # Two entries are two lists of what one component depends on: which one holds?
        if dependency.ref in edges:
            raise ContentError(
                f"{source}: dependencies[{number}]: {dependency.ref[:200]!r} has more than one entry"
            )
        edges[dependency.ref] = dependency.dependsOn
    keys, snapshot.parents = _graph_keys(root, names, edges, source)
    snapshot.root = keys[root] if root is not None else None
    for element, (item, not_own) in by_id.items():
        _record(snapshot, keys[element], item, not_own)
    if subject is not None and snapshot.root is not None:
        snapshot.details[snapshot.root]["files"] += top_files
    return snapshot


def _record(snapshot: Snapshot, key: str, item: _Item, own: frozenset[str]) -> None:
    snapshot.details[key] = {
        "name": item.name,
        "purl": item.purl,
        "files": item.files,
        "file name": None,
        "originator": None,  # CycloneDX authors are not read
    }
    snapshot.components[key] = {
        "version": item.version,
        "checksums": item.checksums,
        "license": item.licenses,
        "download location": _download(item, own),
        "supplier": item.supplier,
    }


def _download(item: _Item, own: frozenset[str]) -> str | None:
    """``cyclonedx.Component.download``'s URL, ``own`` the subject's distributions."""
    found = next((url for url in item.distributions if url not in own), None)
    if found is not None or not item.distributions:
        return found
    return item.source_distribution


def as_text(difference: Difference, list_files: bool) -> str:
    """Plain text for a pipe or a file: one change a line, every value whole, to grep.

    ``+ KEY VERSION`` added, ``- KEY VERSION`` removed, ``~ KEY FIELD: OLD -> NEW`` changed
    (``Components: no change`` when none is), then the file counts and, with ``list_files``,
    each file as ``  + PATH`` (``-`` removed, ``~`` changed).
    """
    lines = [f"+ {k} {v or ''}".rstrip() for k, v in difference.added]
    lines += [f"- {k} {v or ''}".rstrip() for k, v in difference.removed]
    lines += [f"~ {k} {f}: {_text(f, o)} -> {_text(f, n)}" for k, f, o, n in difference.changed]
    lines = lines or ["Components: no change"]
    lines += file_lines(difference, list_files)
    return "\n".join(lines) + "\n"


def _text(name: str, value: Any) -> str:
    if name == "license":
        declared, concluded = value
        return f"declared {declared or '(none)'}, concluded {concluded or '(none)'}"
    if isinstance(value, list):
        return " ".join(value) or "(none)"
    return "(none)" if value is None else str(value)


def as_markdown(difference: Difference, old: str, new: str, files: bool) -> str:
    """Markdown for release notes. Every value comes from the SBOMs: each is escaped, so that
    none becomes a link, an image, an HTML tag or a table cell's edge where it is rendered."""
    lines = [f"## SBOM changes: {_code(old)} → {_code(new)}", ""]
    if difference.added:
        lines += (
            ["### Added", ""]
            + [f"- {_md(k, True)} {_md(v or '')}".rstrip() for k, v in difference.added]
            + [""]
        )
    if difference.removed:
        lines += ["### Removed", ""] + [
            f"- {_md(k, True)} {_md(v or '')}".rstrip() for k, v in difference.removed
        ]
        lines += [""]
    if difference.changed:
        lines += ["### Changed", "", "| component | field | old | new |", "| --- | --- | --- | --- |"]
        lines += [f"| {_md(k)} | {_md(f)} | {_cell(o)} | {_cell(n)} |" for k, f, o, n in difference.changed]
        lines += [""]
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
            lines += [f"- {_code(f'{label} {p}')}" for p in paths]
    return "\n".join(lines) + "\n"


# What CommonMark and GitHub's tables read as markup within a line: emphasis, code, links
# and images, HTML and autolinks, entities, cell edges, strikethrough; and, where a value
# begins a list item's text, headings, quotes and lists. A backslash makes each itself.
_INLINE = re.compile(r"[\\`*_\[\]<>!&|~]")
_BLOCK = re.compile(r"^(?:[#>+=-]|\d+[.)])")
# Spaces and tabs that begin a value there would indent it (a code block, or the marker
# after them read as one): each is written as its character reference, which is text.
_INDENT = re.compile(r"^[ \t]+")


def _md(value: Any, first: bool = False) -> str:
    """``value`` as Markdown text that renders as itself (``first``: at a line's start)."""
    text = _INLINE.sub(lambda found: "\\" + found.group(), str(value))
    if not first:
        return text
    text = _BLOCK.sub(lambda found: found.group()[:-1] + "\\" + found.group()[-1], text)
    return _INDENT.sub(lambda found: "".join(f"&#{ord(c)};" for c in found.group()), text)


def _code(text: str) -> str:
    """``text`` as a code span, where nothing is markup: fenced by more backticks than it holds
    in a row, and padded when it starts or ends with one."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "<br>".join(_md(v) for v in value if v is not None) or "—"
    return "—" if value is None else _md(value)


def diff(old: Path, new: Path) -> Difference:
    """What changed from the SBOM at ``old`` to the one at ``new`` (SPDX or CycloneDX JSON)."""
    return compare(load(old), load(new))


def file_lines(difference: Difference, list_files: bool) -> list[str]:
    """The files' summary line and, with ``list_files``, each file as ``  + PATH`` (``-``
    removed, ``~`` changed): the same in the plain text and the terminal's table."""
    lines = [
        f"Files: {len(difference.files_added)} added, {len(difference.files_removed)} removed, "
        f"{len(difference.files_changed)} changed"
    ]
    if list_files:
        for mark, paths in (
            ("+", difference.files_added),
            ("-", difference.files_removed),
            ("~", difference.files_changed),
        ):
            lines += [f"  {mark} {path}" for path in paths]
    return lines
