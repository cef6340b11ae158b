"""Releases stay open: has the package index changed a release since the SBOM was made?

Any SBOM (SPDX 2 JSON, CycloneDX JSON or XML, sbomgen's or another tool's) names its PyPI
packages by PURL (``pkg:pypi/NAME@VERSION``) and says when it was made (SPDX
``creationInfo.created``, CycloneDX ``metadata.timestamp``). ``check`` asks the index again
(or the cache, offline) for each of those releases and reports every file uploaded after the
SBOM was made (PEP 700 ``upload-time``), every file yanked (PEP 592, with its reason), and a
file whose upload time the index does not say (it cannot tell). Where the SBOM recorded the
release's files (sbomgen's annotation or property), also the files added, removed or changed
since, with the wheel tags of an added file: a more specific wheel is what an installer
would pick. A file the SBOM recorded was there when it was made, whatever its upload time.
Where it recorded only the one file it took (another tool's download location and SHA256),
that file removed or changed since.
"""

from __future__ import annotations

import datetime
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from packageurl import PackageURL
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
    uploaded_after: list[tuple[str, str]] = field(default_factory=list)  # file name, upload time
    undated: list[str] = field(default_factory=list)  # no upload time: cannot tell
    yanked: list[tuple[str, str | None]] = field(default_factory=list)  # file name, reason
    missing: str | None = None  # why the index has no such release
    # --offline: the SHA256 of the unsigned export (--allow-unsigned) the cached answer came from
    unsigned_export: str | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.removed or self.changed or self.uploaded_after or self.undated
        ) and not (self.yanked or self.missing)


@dataclass(frozen=True)
class CheckResult:
    created: str | None
    releases: list[ReleaseDrift]
    skipped: list[str]  # packages not checked, each with why (another PURL type, no version)

    @property
    def changed(self) -> list[ReleaseDrift]:
        return [d for d in self.releases if not d.empty]


def recorded_in(data: bytes, sbom: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, version, {file name: SHA256}) for every package whose release files the SBOM
    (SPDX JSON, CycloneDX JSON or XML) in ``data`` recorded. The SBOM and each recorded list
    pass the gate; ContentError (exit 4), naming ``sbom``, names the value that does not."""
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


_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


def parse_time(value: str) -> datetime.datetime | None:
    """An RFC 3339 time with its offset (what SPDX, CycloneDX and PEP 700 write); None for
    anything else: a time without a zone is not guessed at."""
    match = _TIME.fullmatch(value)
    if not match:
        return None
    whole, fraction, zone = match.groups()
    try:
        return datetime.datetime.fromisoformat(
            whole + (fraction or "")[:7] + ("+00:00" if zone == "Z" else zone)
        )
    except ValueError:
        return None


def _created(document: spdx2.Document | cyclonedx.Bom, sbom: str) -> str | None:
    """The SBOM's creation time, or None when it gives none (CycloneDX's is optional)."""
    if isinstance(document, spdx2.Document):
        value, where = (
            (document.creationInfo.created if document.creationInfo else None),
            "creationInfo.created",
        )
    else:
        value, where = (document.metadata.timestamp if document.metadata else None), "metadata.timestamp"
    if value is not None and parse_time(value) is None:
        raise ContentError(f"{sbom}: {where}: not an RFC 3339 time with its zone: {value[:80]!r}")
    return value or None


def _purls(document: spdx2.Document | cyclonedx.Bom) -> Iterator[tuple[str, str]]:
    """(what names the package, PURL) of every package that gives one."""
    if isinstance(document, spdx2.Document):
        for package in document.packages:
            for ref in package.externalRefs:
                if ref.referenceType == "purl":
                    yield package.name, ref.referenceLocator
        return
    for component in document.all_components():
        if component.purl:
            yield component.name, component.purl


def _taken_file(package: spdx2.Package | cyclonedx.Component) -> tuple[str, str] | None:
    """(file name, SHA256) of the one file a package says it was taken from: its download
    location's last path segment (SPDX ``downloadLocation``, CycloneDX ``distribution``
    reference) and the SHA256 given beside it; None when either is missing."""
    if isinstance(package, spdx2.Package):
        url = package.downloadLocation
        sha256 = next((c.checksumValue for c in package.checksums if c.algorithm == "SHA256"), None)
    else:
        reference = next((r for r in package.externalReferences if r.type == "distribution"), None)
        url = reference.url if reference else None
        hashes = (reference.hashes if reference else []) or package.hashes
        sha256 = next((h.content for h in hashes if h.alg == "SHA-256"), None)
    if not url or not sha256 or "://" not in url:
        return None
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:  # e.g. an unclosed IPv6 host: names no file
        return None
    filename = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    return (filename, sha256.lower()) if filename else None


def _taken_files(document: spdx2.Document | cyclonedx.Bom) -> dict[tuple[str, str], dict[str, str]]:
    """{(name, version): {file name: SHA256}} of the file each PyPI package was taken from."""
    packages: list[spdx2.Package] | list[cyclonedx.Component]
    packages = document.packages if isinstance(document, spdx2.Document) else list(document.all_components())
    found: dict[tuple[str, str], dict[str, str]] = {}
    for package in packages:
        purl = package.reference("purl") if isinstance(package, spdx2.Package) else package.purl
        taken = _taken_file(package)
        if not purl or taken is None:
            continue
        parsed = PackageURL.from_string(purl)
        try:
            name = canonicalize_name(parsed.name, validate=True)
        except InvalidName:
            continue
        if parsed.type == "pypi" and parsed.version:
            found.setdefault((name, parsed.version), {}).update([taken])
    return found


def releases_named(
    document: spdx2.Document | cyclonedx.Bom,
) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, version) of each PyPI release the SBOM's PURLs name, and each package skipped
    with why. PURLs passed the gate: the purl library reads each."""
    found: set[tuple[str, str]] = set()
    skipped: list[str] = []
    for package, purl in _purls(document):
        parsed = PackageURL.from_string(purl)
        bare = PackageURL(parsed.type, parsed.namespace, parsed.name, parsed.version).to_string()
        shown = f"{package[:200]} ({bare[:200]})"
        if parsed.type != "pypi":
            skipped.append(f"{shown}: not a PyPI package")
        elif not parsed.version:
            skipped.append(f"{shown}: no version")
        else:
            try:
                found.add((canonicalize_name(parsed.name, validate=True), parsed.version))
            except InvalidName:
                skipped.append(f"{shown}: not a project name")
    return sorted(found), sorted(set(skipped))


def check(sbom: Path, options: EnrichOptions) -> CheckResult:
    """Every PyPI release the SBOM names, asked of the index (the cache, offline)."""
    data = read_bounded(sbom, str(sbom), ContentError, MAX_DOCUMENT_BYTES)
    document = load_sbom(data, str(sbom), ContentError)
    created = _created(document, str(sbom))
    then = {(name, version): files for name, version, files in recorded_in(data, str(sbom))}
    taken = _taken_files(document)
    named, skipped = releases_named(document)
    if created is None:
        skipped.append("files uploaded after the SBOM was made: it gives no creation time")
    wanted = sorted(set(named) | then.keys())
    if not wanted:
        raise ContentError(f"{sbom}: names no PyPI release (no pkg:pypi/NAME@VERSION PURL)")
    current: dict[tuple[str, str], list[ReleaseFile] | str] = {}
    reasons: dict[str, str] = {}
    unsigned: dict[tuple[str, str], str] = {}
    if options.offline:
        cache = Cache(options.cache_dir or default_cache_dir())
        try:
            for name, version in list(wanted):
                entry = cache.find(name, version)
                if entry is not None:
                    current[(name, version)] = entry.data.files
                    if entry.unsigned_from is not None:
                        unsigned[(name, version)] = entry.unsigned_from
                elif (name, version) in then:
                    raise EnrichmentError(f"no cached index metadata for {name} {version} (--offline)")
                else:  # named by a PURL only: sbomgen never looked it up, so never cached it
                    wanted.remove((name, version))
                    skipped.append(f"{name} {version}: no cached index metadata (--offline)")
        finally:
            cache.close()
    else:
        documents = IndexClient(options.index).projects(name for name, _ in wanted)
        for name, version in wanted:
            answer = documents[name]
            try:
                if isinstance(answer, IndexUnreachable):
                    raise EnrichmentError(f"cannot check {name} {version}: {answer}")
                if isinstance(answer, Exception):
                    raise answer
                current[(name, version)] = release_data(answer, version).files
                for files in answer.releases.values():
                    reasons.update((f.filename, f.yanked_reason) for f in files if f.yanked_reason)
            except IndexResponseError as exc:
                current[(name, version)] = str(exc)
    made = parse_time(created) if created else None
    drifts = []
    for name, version in wanted:
        now = current[(name, version)]
        if isinstance(now, str):
            drifts.append(ReleaseDrift(name, version, [], [], [], missing=now))
            continue
        recorded_files = then.get((name, version))
        after, undated = [], []
        for file in sorted(now, key=lambda f: f.filename):
            if made is None or (recorded_files is not None and file.filename in recorded_files):
                continue  # no time to compare with; or there when the SBOM was made
            uploaded = parse_time(file.upload_time) if file.upload_time else None
            if uploaded is None:
                undated.append(file.filename)
            elif uploaded > made:
                after.append((file.filename, file.upload_time or ""))
        hashes = {f.filename: f.sha256 for f in now}
        old = recorded_files if recorded_files is not None else taken.get((name, version), {})
        drifts.append(
            ReleaseDrift(
                name,
                version,
                added=[(f, _tags(f)) for f in sorted(hashes.keys() - old.keys())]
                if recorded_files is not None
                else [],
                removed=sorted(old.keys() - hashes.keys()),
                changed=sorted(f for f in old.keys() & hashes.keys() if old[f] != hashes[f]),
                uploaded_after=after,
                undated=undated,
                yanked=[
                    (f.filename, reasons.get(f.filename))
                    for f in sorted(now, key=lambda f: f.filename)
                    if f.yanked
                ],
                unsigned_export=unsigned.get((name, version)),
            )
        )
    return CheckResult(created, drifts, skipped)


def as_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "created": result.created,
        "releases": len(result.releases),
        "skipped": result.skipped,
        "changed": [
            {
                "name": d.name,
                "version": d.version,
                "missing": d.missing,
                "uploaded_after": [{"filename": f, "upload_time": t} for f, t in d.uploaded_after],
                "upload_time_unknown": d.undated,
                "yanked": [{"filename": f, "reason": r} for f, r in d.yanked],
                "added": [{"filename": f, "tags": t} for f, t in d.added],
                "removed": d.removed,
                "changed": d.changed,
            }
            for d in result.changed
        ],
    }
