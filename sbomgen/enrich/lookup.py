"""The lookup: index answers (or cached ones) applied to an inventory's components."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from packaging.utils import canonicalize_name
from packaging.version import Version

from ..documents.index import ProjectDocument, ReleaseData, ReleaseFile, download_url
from ..errors import EnrichmentError
from ..model import Checksum, Component, Inventory
from ..model.licenses import declared_license
from . import EnrichOptions, default_cache_dir
from .cache import Cache, Entry
from .index import IndexClient, IndexResponseError, IndexUnreachable


@dataclass(frozen=True)
class _Target:
    component: Component
    name: str
    version: str
    subject: str  # SHA256 of the file (bundled, or the artifact) the entry vouches for, or ""
    is_artifact: bool  # the SBOM's subject, not something bundled in it


def release_data(document: ProjectDocument, version: str) -> ReleaseData:
    """What the SBOM uses of one release of a project document."""
    wanted = _version(version)
    files = next((f for listed, f in document.releases.items() if _version(listed) == wanted), None)
    if files is None:
        raise IndexResponseError(f"version {version} is not on the index")
    for number, file in enumerate(files):
        try:
            download_url(file.url)
        except ValueError as exc:
            raise IndexResponseError(f"version {version}: files[{number}].url: {exc}") from None
    kept = [
        ReleaseFile(filename=f.filename, url=f.url, sha256=f.digests.sha256, packagetype=f.packagetype)
        for f in files
    ]
    info = document.info
    license_ = None
    # The project endpoint's "info" describes the newest release only.
    if info.version is not None and _version(info.version) == wanted:
        license_ = declared_license(info.license_expression, info.license, info.classifiers)
    return ReleaseData(files=sorted(kept, key=lambda f: f.filename), license=license_)


def pick_file(files: list[ReleaseFile]) -> ReleaseFile | None:
    """The pure-Python wheel, else the sdist: what vendoring takes a package's code from."""
    wheels = [f for f in files if f.packagetype == "bdist_wheel" and f.filename.endswith("-none-any.whl")]
    if wheels:
        return wheels[0]
    sdists = [f for f in files if f.packagetype == "sdist"]
    return sdists[0] if sdists else None


def looked_up(inventory: Inventory) -> list[Component]:
    """The components whose metadata comes from the package index: ``pkg:pypi`` ones whose
    origin the artifact does not state already (as Misc/sbom.spdx.json does)."""
    return [
        c
        for c in inventory.components
        if c.purl and c.purl.startswith("pkg:pypi/") and c.download_location is None
    ]


def enrich(inventory: Inventory, options: EnrichOptions) -> tuple[Inventory, list[str]]:
    """The inventory with index metadata filled in, and the notices to show."""
    targets = [_target(c, inventory.root) for c in looked_up(inventory)]
    if not targets:
        return inventory, []
    index_url = options.index.url
    cache = Cache(options.cache_dir or default_cache_dir())
    notices: list[str] = []
    try:
        found: dict[_Target, ReleaseData] = {}
        failures: dict[_Target, Exception] = {}
        if not options.offline:
            documents = IndexClient(options.index).projects(t.name for t in targets)
            fetched: list[Entry] = []
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            for target in targets:
                document = documents[target.name]
                if isinstance(document, Exception):
                    failures[target] = document
                    continue
                try:
                    data = release_data(document, target.version)
                except IndexResponseError as exc:
                    failures[target] = exc
                    continue
                found[target] = data
                fetched.append(Entry(index_url, target.name, target.version, target.subject, data, now))
            cache.put(fetched)
        from_cache = []
        unsigned: dict[_Target, str] = {}  # the SHA256 of the unsigned export an entry came from
        for target in targets:
            if target in found:
                continue
            entry = cache.get(index_url, target.name, target.version, target.subject)
            if entry is not None:
                found[target] = entry.data
                if entry.unsigned_from is not None:
                    unsigned[target] = entry.unsigned_from
                from_cache.append(f"{target.name} {target.version}")
        notices += cache.notices
        # Why the cache did not answer where the index was not asked or could not be reached.
        unasked = [
            t
            for t in targets
            if t not in found and (options.offline or isinstance(failures.get(t), IndexUnreachable))
        ]
        misses = _cache_misses(cache, index_url, unasked)
    finally:
        cache.close()

    unreachable = [problem for problem in failures.values() if isinstance(problem, IndexUnreachable)]
    if unreachable:
        notices.append(f"the index could not be reached ({unreachable[0]})")
    for target, problem in sorted(failures.items(), key=lambda item: item[0].name):
        if not isinstance(problem, IndexUnreachable):
            notices.append(f"warning: unusable index answer for {target.name} {target.version}: {problem}")
    if from_cache and not options.offline:
        notices.append(f"used cached index metadata for: {', '.join(sorted(from_cache))}")
    missing: dict[str, list[str]] = {}  # why the cache did not help ("": not asked) -> releases
    for target in sorted(targets, key=lambda t: f"{t.name} {t.version}"):
        if target not in found:
            missing.setdefault(misses.get(target, ""), []).append(f"{target.name} {target.version}")
    messages = [
        f"no index metadata for {', '.join(releases)}: their download location and checksum are NOASSERTION"
        + (f"; {why}" if why else "")
        for why, releases in sorted(missing.items())
    ]
    if messages and options.strict:
        raise EnrichmentError("; ".join(messages) + " (--strict)")
    notices += ["warning: " + message for message in messages]

    updated = {}
    for target in (t for t in targets if t in found):
        component, notice = _apply(target, found[target])
        component = replace(component, index_unsigned_export=unsigned.get(target))
        updated[component.key] = component
        if notice:
            notices.append(notice)
    components = tuple(updated.get(c.key, c) for c in inventory.components)
    return replace(inventory, components=components), notices


def _cache_misses(cache: Cache, index_url: str, targets: list[_Target]) -> dict[_Target, str]:
    """Why the cache holds nothing usable for each target, and what to do. A target whose
    entry failed its checksum is left out: that has been said."""
    where = f"the cache at {cache.path.parent}"
    warm = f"`sbomgen cache warm --index-url {index_url} ARTIFACT`"
    fill = f"{warm}, or `sbomgen cache import` an export"
    if cache.is_empty():
        return dict.fromkeys(targets, f"{where} is empty: fill it with {fill}")
    misses = {}
    for target in targets:
        held = cache.held(target.name, target.version)
        others = sorted(url for url, _ in held if url != index_url)
        if (index_url, target.subject) in held:
            continue
        if any(url == index_url for url, _ in held):
            misses[target] = f"{where} has them from this index only for another file than the bundled one"
        elif others:
            misses[target] = (
                f"{where} has them only from another index, {others[0]}: "
                f"run with --index-url {others[0]}, or {warm}"
            )
        else:
            misses[target] = f"{where} has no entry for them: add them with {fill}"
    return misses


def _target(component: Component, root: str) -> _Target:
    sha256 = next((c.value for c in component.checksums if c.algorithm == "SHA256"), "")
    is_file = component.file_name is not None
    return _Target(
        component,
        canonicalize_name(component.name),
        component.version or "",
        sha256 if is_file else "",
        component.key == root,
    )


def _apply(target: _Target, data: ReleaseData) -> tuple[Component, str | None]:
    """The component with the index's metadata, and a notice when the artifact itself is not
    the file the index publishes (a bundled file that is not is an EnrichmentError)."""
    component = replace(target.component, index_files=tuple((f.filename, f.sha256) for f in data.files))
    license_ = component.license_declared or data.license
    if target.subject:
        name = component.file_name
        chosen = next((f for f in data.files if f.filename == name), None)
        if chosen is not None and chosen.sha256 == target.subject:
            return replace(component, download_location=chosen.url, license_declared=license_), None
        if chosen is None:
            problem = f"{name} is not among the files the index publishes for {target.name} {target.version}"
        elif target.is_artifact:
            problem = (
                f"{name} is not the file the index publishes under that name "
                f"(its SHA256 is {target.subject}, the index's {chosen.sha256})"
            )
        else:
            problem = (
                f"the bundled {name} is not the published one: "
                f"its SHA256 is {target.subject}, the index says {chosen.sha256}"
            )
        if not target.is_artifact:
            raise EnrichmentError(problem)
        # The artifact is described as it is: its own checksum, and no one else's location.
        notice = f"{problem}: its download location is NOASSERTION"
        return replace(component, license_declared=license_), notice
    chosen = pick_file(data.files)
    if chosen is None:
        return replace(component, license_declared=license_), None
    return replace(
        component,
        download_location=chosen.url,
        checksums=(Checksum("SHA256", chosen.sha256),),
        license_declared=license_,
    ), None


def _version(text: str) -> Version | str:
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number too long for int(): compared as text
        return text
