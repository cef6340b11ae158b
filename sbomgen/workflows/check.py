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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from packageurl import PackageURL
from packaging.utils import InvalidName, InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..documents import cyclonedx, spdx2, spdx3, stream
from ..documents.index import ReleaseFile
from ..documents.parse import MAX_DOCUMENT_BYTES, parse_json, validate
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
    (SPDX 2 or 3 JSON, CycloneDX JSON or XML) in ``data`` recorded. The SBOM and each recorded
    list pass the gate; ContentError (exit 4), naming ``sbom``, names the value that does not."""
    return _recorded(read_packages(data, sbom)[1])


def _recorded(packages: list[ListedPackage]) -> list[tuple[str, str, dict[str, str]]]:
    found: list[tuple[str, str, dict[str, str]]] = []
    for package in packages:
        for where, text in package.records:
            files = load_json_list(text, where)
            try:
                name = canonicalize_name(package.name, validate=True)
            except InvalidName:
                raise ContentError(f"{package.where}.name: not a project name: {package.name!r}") from None
            if not package.version:
                raise ContentError(
                    f"{package.where}.{package.version_field}: missing beside recorded release files"
                )
            listed = {f.filename: f.sha256 for f in files.root}
            if len(listed) != len(files.root):
                raise ContentError(f"{where}: a file is listed twice")
            found.append((name, package.version, listed))
    return found


class ListedPackage(NamedTuple):
    """What ``check`` reads of a package in any of the formats: its name, version and PURL,
    the file it says it was taken from (download location, SHA256), and the release files it
    recorded (``records``: where, their JSON), with where it is, for errors."""

    where: str
    name: str
    version: str | None
    version_field: str
    purl: str | None
    location: str | None
    sha256: str | None
    records: list[tuple[str, str]]


def read_packages(data: bytes, sbom: str) -> tuple[str | None, list[ListedPackage]]:
    """The SBOM's creation time (None when it gives none: CycloneDX's is optional) and its
    packages."""
    pending: list[_Pending] = []
    bom = stream.read_cyclonedx(data, lambda c: pending.extend(_pending(each, sbom) for each in c.walk()))
    if bom is not None:
        subject = bom.metadata.component if bom.metadata is not None else None
        head = [_cyclonedx_package(c, sbom, subject) for c in bom.all_components()]
        own = cyclonedx.distributions(subject) if subject is not None else set()
        timestamp = bom.metadata.timestamp if bom.metadata else None
        return _created(timestamp, sbom, "metadata.timestamp"), head + [p.resolved(own) for p in pending]
    if data.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{":
        value = parse_json(data, sbom, ContentError)
        if spdx3.is_spdx3(value):
            return _read_spdx3(spdx3.load_value(value, sbom, ContentError), sbom)
    document = load_sbom(data, sbom, ContentError)
    if isinstance(document, spdx2.Document):
        created, at = (
            (document.creationInfo.created if document.creationInfo else None),
            "creationInfo.created",
        )
        return _created(created, sbom, at), [
            _spdx2_package(p, n, sbom) for n, p in enumerate(document.packages)
        ]
    timestamp = document.metadata.timestamp if document.metadata else None
    return _created(timestamp, sbom, "metadata.timestamp"), [
        _cyclonedx_package(c, sbom, document.metadata.component if document.metadata else None)
        for c in document.all_components()
    ]


def _spdx2_package(package: spdx2.Package, number: int, sbom: str) -> ListedPackage:
    where = f"{sbom}: packages[{number}]"
    prefix = INDEX_FILES + " "
    return ListedPackage(
        where,
        package.name,
        package.versionInfo,
        "versionInfo",
        package.reference("purl"),
        package.downloadLocation,
        next((c.checksumValue for c in package.checksums if c.algorithm == "SHA256"), None),
        [
            (f"{where}.annotations[{index}].comment", annotation.comment[len(prefix) :])
            for index, annotation in enumerate(package.annotations)
            if annotation.comment.startswith(prefix)
        ],
    )


def _cyclonedx_package(
    component: cyclonedx.Component, sbom: str, subject: cyclonedx.Component | None
) -> ListedPackage:
    where = f"{sbom}: component {(component.bom_ref or component.name)[:200]!r}"
    reference = component.download(subject)
    hashes = (reference.hashes if reference else []) or component.hashes
    return ListedPackage(
        where,
        component.name,
        component.version,
        "version",
        component.purl,
        reference.url if reference else None,
        next((h.content for h in hashes if h.alg == "SHA-256"), None),
        [
            (f"{where}.properties[{index}].value", item.value or "")
            for index, item in enumerate(component.properties)
            if item.name == INDEX_FILES
        ],
    )


class _Pending(NamedTuple):
    """A component of a BOM read a component at a time, its package waiting for the subject
    (``metadata.component``, which may come after it) to say where it was downloaded from."""

    listed: ListedPackage  # its download location and SHA256 not yet known
    references: tuple[cyclonedx.ExternalReference, ...]  # its distributions and sources
    hashes: tuple[cyclonedx.Hash, ...]

    def resolved(self, own: set[str]) -> ListedPackage:
        reference = cyclonedx.download(self.references, own)
        hashes = (reference.hashes if reference else []) or self.hashes
        location = reference.url if reference else None
        sha256 = next((h.content for h in hashes if h.alg == "SHA-256"), None)
        return self.listed._replace(location=location, sha256=sha256)


def _pending(component: cyclonedx.Component, sbom: str) -> _Pending:
    kept = ("distribution", "source-distribution")
    return _Pending(
        _cyclonedx_package(component, sbom, None),
        tuple(r for r in component.externalReferences if r.type in kept),
        tuple(component.hashes),
    )


def _read_spdx3(document: spdx3.Document, sbom: str) -> tuple[str | None, list[ListedPackage]]:
    """SPDX 3 through the bindings: the SpdxDocument's creation time, each software_Package
    with its PURL (``software_packageUrl`` or a packageUrl identifier), download location and
    SHA256, and the Annotations whose subject it is."""
    if document.problems:
        raise ContentError(f"{sbom}: not a valid SPDX 3.0.1 document: {document.problems[0]}")
    info = document.of_type("SpdxDocument")[0].creationInfo
    created = getattr(document.by_id(info), "created", None)
    stamp = created.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z") if created else None
    notes: dict[str, list[tuple[str, str]]] = {}
    prefix = INDEX_FILES + " "
    for annotation in document.of_type("Annotation"):
        subject = document.by_id(annotation.subject)
        statement = annotation.statement or ""
        if subject is not None and statement.startswith(prefix):
            where = f"{sbom}: annotation {str(annotation.spdxId)[:200]!r}.statement"
            notes.setdefault(subject.spdxId, []).append((where, statement[len(prefix) :]))
    packages = []
    for package in document.of_type("software_Package"):
        identifiers = package.externalIdentifier
        purl = package.software_packageUrl or next(
            (i.identifier for i in identifiers if str(i.externalIdentifierType).endswith("/packageUrl")), None
        )
        sha256 = next(
            (
                h.hashValue
                for h in package.verifiedUsing
                if str(getattr(h, "algorithm", "")).endswith("/sha256")
            ),
            None,
        )
        where = f"{sbom}: package {str(package.spdxId)[:200]!r}"
        fields = validate(
            spdx3.PackageFields,
            {
                "name": package.name,
                "version": package.software_packageVersion,
                "purl": purl,
                "location": package.software_downloadLocation,
                "sha256": sha256,
            },
            where,
            ContentError,
        )
        packages.append(
            ListedPackage(
                where,
                fields.name or "",
                fields.version,
                "software_packageVersion",
                fields.purl if fields.purl and _is_purl(fields.purl) else None,
                fields.location,
                fields.sha256,
                notes.get(package.spdxId, []),
            )
        )
    return stamp, packages


def _is_purl(value: str) -> bool:
    try:
        PackageURL.from_string(value)
    except ValueError:
        return False
    return True


def load_json_list(text: str, where: str) -> spdx2.IndexReleaseFiles:
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


def _created(value: str | None, sbom: str, where: str) -> str | None:
    if value is not None and parse_time(value) is None:
        raise ContentError(f"{sbom}: {where}: not an RFC 3339 time with its zone: {value[:80]!r}")
    return value or None


def _taken_file(package: ListedPackage) -> tuple[str, str] | None:
    """(file name, SHA256) of the one file a package says it was taken from: its download
    location's last path segment (SPDX ``downloadLocation``, CycloneDX ``distribution``
    reference) and the SHA256 given beside it; None when either is missing."""
    url, sha256 = package.location, package.sha256
    if not url or not sha256 or "://" not in url:
        return None
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:  # e.g. an unclosed IPv6 host: names no file
        return None
    filename = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    return (filename, sha256.lower()) if filename else None


def _taken_files(packages: list[ListedPackage]) -> dict[tuple[str, str], dict[str, str]]:
    """{(name, version): {file name: SHA256}} of the file each PyPI package was taken from."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for package in packages:
        taken = _taken_file(package)
        if not package.purl or taken is None:
            continue
        parsed = PackageURL.from_string(package.purl)
        try:
            name = canonicalize_name(parsed.name, validate=True)
        except InvalidName:
            continue
        if parsed.type == "pypi" and parsed.version:
            found.setdefault((name, parsed.version), {}).update([taken])
    return found


def releases_named(packages: list[ListedPackage]) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, version) of each PyPI release the SBOM's PURLs name, and each package skipped
    with why. PURLs passed the gate: the purl library reads each."""
    found: set[tuple[str, str]] = set()
    skipped: list[str] = []
    for package, purl in ((p.name, p.purl) for p in packages if p.purl):
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
    created, packages = read_packages(data, str(sbom))
    then = {(name, version): files for name, version, files in _recorded(packages)}
    taken = _taken_files(packages)
    named, skipped = releases_named(packages)
    if created is None:
        skipped.append("files uploaded after the SBOM was made: it gives no creation time")
    wanted = sorted(set(named) | then.keys())
    if not wanted:
        raise ContentError(f"{sbom}: names no PyPI release (no pkg:pypi/NAME@VERSION PURL)")
    current: dict[tuple[str, str], list[ReleaseFile] | str] = {}
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
                    (f.filename, f.yanked_reason) for f in sorted(now, key=lambda f: f.filename) if f.yanked
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
