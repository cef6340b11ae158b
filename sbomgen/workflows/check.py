"""Releases stay open: has the package index changed a release since the SBOM was made?

An SBOM made with index metadata records, per package, the files its release had then.
``check`` asks the index again (or the cache, offline) and reports files added to or
removed from each release since, with the wheel tags of an added file: a more specific
wheel is what an installer would pick.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from packaging.utils import InvalidName, InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..documents import cyclonedx, spdx2
from ..documents.index import ReleaseFile
from ..documents.parse import MAX_DOCUMENT_BYTES, validate
from ..documents.sbom import load as load_sbom
from ..documents.source import read_bounded
from ..enrich import EnrichOptions, default_cache_dir
from ..enrich.cache import Cache
from ..enrich.index import IndexClient, IndexResponseError, IndexUnreachable
from ..enrich.lookup import release_data
from ..errors import ContentError, EnrichmentError
from ..write import INDEX_FILES


@dataclass(frozen=True)
class ReleaseDrift:
    name: str
    version: str
    added: list[tuple[str, list[str]]]  # file name, wheel tags
    removed: list[str]
    changed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def recorded(sbom: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(name, version, {file name: SHA256}) for every package whose release files the SBOM
    recorded. The SBOM and each recorded list pass the gate; ContentError (exit 4) names
    the value that does not."""
    return recorded_in(read_bounded(sbom, str(sbom), ContentError, MAX_DOCUMENT_BYTES), str(sbom))


def recorded_in(data: bytes, sbom: str) -> list[tuple[str, str, dict[str, str]]]:
    """``recorded`` of the SBOM (SPDX JSON, CycloneDX JSON or XML) in ``data``, named
    ``sbom`` in errors."""
    found: list[tuple[str, str, dict[str, str]]] = []
    for record in _records(load_sbom(data, sbom, ContentError), sbom):
        files = load_json_list(record.text, record.where)
        try:
            name = canonicalize_name(record.name, validate=True)
        except InvalidName:
            raise ContentError(f"{record.package}.name: not a project name: {record.name!r}") from None
        if not record.version:
            raise ContentError(
                f"{record.package}.{record.version_field}: missing beside recorded release files"
            )
        listed = {f.filename: f.sha256 for f in files.root}
        if len(listed) != len(files.root):
            raise ContentError(f"{record.where}: a file is listed twice")
        found.append((name, record.version, listed))
    return found


class _Record(NamedTuple):
    """Release files a package records (``text``: their JSON), and where, for errors."""

    package: str
    name: str
    version: str | None
    version_field: str
    where: str
    text: str


def _records(document: spdx2.Document | cyclonedx.Bom, sbom: str) -> Iterator[_Record]:
    """What the writers record under INDEX_FILES: SPDX in a package annotation's comment,
    CycloneDX in a component property."""
    if isinstance(document, spdx2.Document):
        prefix = INDEX_FILES + " "
        for number, package in enumerate(document.packages):
            where = f"{sbom}: packages[{number}]"
            for index, annotation in enumerate(package.annotations):
                if annotation.comment.startswith(prefix):
                    text = annotation.comment[len(prefix) :]
                    at = f"{where}.annotations[{index}].comment"
                    yield _Record(where, package.name, package.versionInfo, "versionInfo", at, text)
        return
    for component in document.all_components():
        where = f"{sbom}: component {(component.bom_ref or component.name)[:200]!r}"
        for index, item in enumerate(component.properties):
            if item.name == INDEX_FILES:
                at = f"{where}.properties[{index}].value"
                yield _Record(where, component.name, component.version, "version", at, item.value or "")


def load_json_list(text: str, where: str) -> spdx2.IndexReleaseFiles:
    from ..documents.parse import parse_json

    return validate(spdx2.IndexReleaseFiles, parse_json(text, where, ContentError), where, ContentError)


def _tags(filename: str) -> list[str]:
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return []
    return sorted(str(tag) for tag in tags)


def check(sbom: Path, options: EnrichOptions) -> list[ReleaseDrift]:
    releases = recorded(sbom)
    if not releases:
        raise ContentError(f"{sbom}: records no release files (made without index metadata?)")
    current: dict[tuple[str, str], list[ReleaseFile]] = {}
    if options.offline:
        cache = Cache(options.cache_dir or default_cache_dir())
        try:
            for name, version, _ in releases:
                entry = cache.find(name, version)
                if entry is None:
                    raise EnrichmentError(f"no cached index metadata for {name} {version} (--offline)")
                current[(name, version)] = entry.data.files
        finally:
            cache.close()
    else:
        documents = IndexClient(options.index).projects(name for name, _, _ in releases)
        for name, version, _ in releases:
            document = documents[name]
            try:
                if isinstance(document, Exception):
                    raise document
                current[(name, version)] = release_data(document, version).files
            except (IndexUnreachable, IndexResponseError) as exc:
                raise EnrichmentError(f"cannot check {name} {version}: {exc}") from None
    drifts = []
    for name, version, then in releases:
        now = {f.filename: f.sha256 for f in current[(name, version)]}
        drifts.append(
            ReleaseDrift(
                name,
                version,
                added=[(f, _tags(f)) for f in sorted(now.keys() - then.keys())],
                removed=sorted(then.keys() - now.keys()),
                changed=sorted(f for f in then.keys() & now.keys() if then[f] != now[f]),
            )
        )
    return drifts


def as_dict(drifts: list[ReleaseDrift]) -> list[dict[str, Any]]:
    return [
        {
            "name": d.name,
            "version": d.version,
            "added": [{"filename": f, "tags": t} for f, t in d.added],
            "removed": d.removed,
            "changed": d.changed,
        }
        for d in drifts
        if not d.empty
    ]
