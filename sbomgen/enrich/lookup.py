"""The lookup: index answers (or cached ones) applied to an inventory's components."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from ..documents.index import Originator, ProjectDocument, ReleaseData, ReleaseFile, download_url
from ..documents.metadata import CoreMetadata, read_metadata
from ..errors import EnrichmentError
from ..model import Checksum, Component, Inventory, Party
from ..model.licenses import declared_license, spdx_expression
from . import EnrichOptions, default_cache_dir, distribution
from .cache import Cache, Entry
from .index import IndexClient, IndexResponseError, IndexUnreachable


@dataclass(frozen=True)
class _Target:
    component: Component
    name: str
    version: str
    subject: str  # SHA256 of the file (bundled, or the artifact) the entry vouches for, or ""
    is_artifact: bool  # the SBOM's subject, not something bundled in it
    stated: str = ""  # the file name the artifact's own download location names (Misc/sbom.spdx.json)


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
        ReleaseFile(
            filename=f.filename,
            url=f.url,
            sha256=f.digests.sha256,
            packagetype=f.packagetype,
            size=f.size,
            upload_time=f.upload_time,
            yanked=f.yanked,
            yanked_reason=f.yanked_reason,
            core_metadata=f.core_metadata,
            metadata_sha256=f.metadata_sha256,
        )
        for f in files
    ]
    info = document.info
    license_ = source = None
    # The JSON API's "info" describes the newest release only.
    if info.version is not None and _version(info.version) == wanted:
        license_ = declared_license(info.license_expression, info.license, info.classifiers)
        source = "the JSON API's project info" if license_ else None
    return ReleaseData(files=sorted(kept, key=lambda f: f.filename), license=license_, license_source=source)


# The gate's work in the index workers (release_data's URL checks reach jsonschema and its
# IRI grammar, first imported there) runs one at a time: only the network goes in parallel.
_ONE_AT_A_TIME = threading.Lock()
CHEAP_BYTES = 1 << 20  # a file without PEP 658 metadata is read for its own only up to this size


def with_core_metadata(
    data: ReleaseData,
    chosen: ReleaseFile | None,
    client: IndexClient,
    fetched: distribution.Fetched | None = None,
) -> ReleaseData:
    """``data`` with the declared license of the core metadata of ``chosen``, the very file
    whose location is recorded: as already fetched (``fetched``, its SHA256 checked), else
    its PEP 658 ``.metadata`` (its SHA256 checked where the index gives one), else the file
    itself when it is small; else ``metadata_note`` says why not. The SHA-512 of the file
    wherever it was fetched."""
    if chosen is None:
        return data
    try:
        if fetched is not None and fetched.metadata is not None:  # checked with the file: no request more
            where, content = chosen.filename, fetched.metadata
        elif chosen.core_metadata:
            where = f"{chosen.filename}.metadata"
            content = client.file(chosen.url + ".metadata")
            if chosen.metadata_sha256 and hashlib.sha256(content).hexdigest() != chosen.metadata_sha256:
                raise EnrichmentError(f"{where}: its SHA256 is not the one the index gives")
        elif fetched is None and (chosen.size is None or chosen.size <= CHEAP_BYTES):
            # Fetched only when small: a page without sizes (PEP 503) is read up to the cap.
            where = chosen.filename
            fetched = distribution.fetch(chosen, client, CHEAP_BYTES)
            if fetched.metadata is None:
                raise EnrichmentError(f"{chosen.filename}: no core metadata found in it")
            content = fetched.metadata
        elif fetched is not None:
            raise EnrichmentError(f"{chosen.filename}: no core metadata found in it")
        else:
            why = "no PEP 658 metadata, and the file is larger than 1 MiB"
            return data.model_copy(update={"metadata_note": f"{chosen.filename}: {why}"})
        with _ONE_AT_A_TIME:  # parsing, off the network: cheap, and kept out of races
            metadata = read_metadata(content, where, EnrichmentError)
    except (EnrichmentError, IndexResponseError, IndexUnreachable) as exc:
        # The release's files stand without it: only the license stays unknown.
        return data.model_copy(update={"metadata_note": str(exc)})
    originator = metadata.originator()
    update: dict[str, Any] = {
        "originator": Originator(**dataclasses.asdict(originator)) if originator else None,
        "repository": metadata.url("source"),
    }
    if fetched is not None:
        files = [f.model_copy(update={"sha512": fetched.sha512}) if f is chosen else f for f in data.files]
        update["files"] = files
    found = field_license(metadata)
    if found is not None:  # else it says nothing certain: NOASSERTION, nothing to warn about
        update.update(license=found[0], license_source=f"{found[1]} of {where}")
    return data.model_copy(update=update)


def field_license(metadata: CoreMetadata) -> tuple[str, str] | None:
    """(SPDX expression, the field it came from) of core metadata, where one is certain."""
    for name, value in (("License-Expression", metadata.license_expression), ("License", metadata.license)):
        found = spdx_expression(value)
        if found:
            return found, name
    classifier = declared_license(None, None, metadata.classifiers)
    return (classifier, "Classifier") if classifier else None


def license_disagreement(component: Component, index_license: str | None, source: str | None) -> str | None:
    """A warning when the license the artifact states and the one the index's core metadata
    declares differ (the artifact's is kept); None when they agree or one is unknown."""
    if component.license_declared and index_license and component.license_declared != index_license:
        return (
            f"warning: {component.name} {component.version}: the artifact says {component.license_declared}, "
            f"the index's core metadata ({source}) says {index_license}; keeping {component.license_declared}"
        )
    return None


def pick_file(files: list[ReleaseFile]) -> ReleaseFile | None:
    """The pure-Python wheel, else the sdist: what vendoring takes a package's code from."""
    wheels = [f for f in files if f.packagetype == "bdist_wheel" and f.filename.endswith("-none-any.whl")]
    if wheels:
        return wheels[0]
    sdists = [f for f in files if f.packagetype == "sdist"]
    return sdists[0] if sdists else None


def looked_up(inventory: Inventory) -> list[Component]:
    """The components whose metadata comes from the package index: the ``pkg:pypi`` ones.
    One whose origin the artifact states (Misc/sbom.spdx.json's macholib) keeps that download
    location and checksum; the index adds the rest, from the file that location names."""
    return [c for c in inventory.components if c.purl and c.purl.startswith("pkg:pypi/")]


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
        answered: dict[_Target, str] = {}  # the index each answer came from
        failures: dict[_Target, Exception] = {}
        if not options.offline:
            fetched: list[Entry] = []
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            read: dict[_Target, list[tuple[str, bytes]] | Exception] = {}
            answers = _ask(IndexClient(options.index), targets, read)
            with_file_licenses(answers, read, cache.path.parent, notices)
            for target, answer in answers.items():
                if isinstance(answer, Exception):
                    failures[target] = answer
                else:
                    found[target] = answer
                    answered[target] = index_url
                    fetched.append(Entry(index_url, target.name, target.version, target.subject, answer, now))
            cache.put(fetched)
        from_cache = []
        unsigned: dict[_Target, str] = {}  # the SHA256 of the unsigned export an entry came from
        for target in targets:
            if target in found:
                continue
            entry = cache.get(target.name, target.version, target.subject)
            if entry is not None:
                found[target] = entry.data
                answered[target] = entry.index_url
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
        misses = _cache_misses(cache, unasked)
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
    # (why the cache did not help, "": not asked; whether the artifact states the location) -> releases
    missing: dict[tuple[str, bool], list[str]] = {}
    for target in sorted(targets, key=lambda t: f"{t.name} {t.version}"):
        if target not in found:
            key = (misses.get(target, ""), bool(target.stated))
            missing.setdefault(key, []).append(f"{target.name} {target.version}")
    unknown = {
        False: "their download location and checksum are NOASSERTION",
        True: "their distribution file and declared license are not known (the location and checksum "
        "the artifact states stand)",
    }
    messages = [
        f"no index metadata for {', '.join(releases)}: {unknown[stated]}" + (f"; {why}" if why else "")
        for (why, stated), releases in sorted(missing.items())
    ]
    if messages and options.strict:
        raise EnrichmentError("; ".join(messages) + " (--strict)")
    notices += ["warning: " + message for message in messages]

    updated = {}
    for target in (t for t in targets if t in found):
        component, notice = _apply(target, found[target])
        # A cached answer's file licenses are those of a file this artifact may not state.
        named = not target.stated or _recorded_file(target, found[target].files) is not None
        component, differs = distribution.applied(component, found[target].file_licenses if named else None)
        component = replace(component, index_unsigned_export=unsigned.get(target), index_url=answered[target])
        notices += [differs] if differs else []
        updated[component.key] = component
        disagreement = license_disagreement(
            target.component, found[target].license, found[target].license_source
        )
        notices += [n for n in (notice, disagreement) if n]
    components = tuple(updated.get(c.key, c) for c in inventory.components)
    return replace(inventory, components=components), notices


def _ask(
    client: IndexClient, targets: list[_Target], read: dict[_Target, list[tuple[str, bytes]] | Exception]
) -> dict[_Target, ReleaseData | Exception]:
    """Every target's release from the index, in one concurrent round: a project's page, then
    the core metadata of each file it records, by the same worker; and into ``read``, the
    license files of that file for a release looked up by name (not a bundled file, whose
    own license files the artifact carries)."""
    by_name: dict[str, list[_Target]] = {}
    for target in targets:
        by_name.setdefault(target.name, []).append(target)

    def job(name: str) -> dict[_Target, ReleaseData | Exception]:
        document = client.project(name)
        result: dict[_Target, ReleaseData | Exception] = {}
        for target in by_name[name]:
            try:
                with _ONE_AT_A_TIME:
                    data = release_data(document, target.version)
            except IndexResponseError as exc:
                result[target] = exc
                continue
            chosen = _recorded_file(target, data.files)
            fetched = None
            if chosen is not None and not target.subject:
                try:
                    fetched = distribution.fetch(chosen, client)
                    read[target] = fetched.license_files
                except (EnrichmentError, IndexResponseError, IndexUnreachable) as exc:
                    read[target] = exc
            result[target] = with_core_metadata(data, chosen, client, fetched)
        return result

    answers: dict[_Target, ReleaseData | Exception] = {}
    for name, answer in client.each(by_name, job).items():
        for target in by_name[name]:
            answers[target] = answer if isinstance(answer, Exception) else answer[target]
    return answers


def with_file_licenses(
    answers: dict[_Target, ReleaseData | Exception],
    read: dict[_Target, list[tuple[str, bytes]] | Exception],
    cache_dir: Path,
    notices: list[str],
) -> None:
    """Each answer with what its recorded file's license files say (matched here, off the
    network's threads, through the license finding cache), to be kept in its cache entry."""
    from ..scan.license_text import Detector, FindingCache

    detect = Detector(FindingCache(cache_dir))
    try:
        for target, files in sorted(read.items(), key=lambda item: (item[0].name, item[0].version)):
            data = answers.get(target)
            chosen = _recorded_file(target, data.files) if isinstance(data, ReleaseData) else None
            if not isinstance(data, ReleaseData) or chosen is None:
                continue
            if isinstance(files, Exception):
                notices.append(
                    f"warning: {target.name} {target.version}: the license files of {chosen.filename} "
                    f"were not read ({files})"
                )
                found = distribution.unread(files)
            else:
                found = distribution.conclude(chosen, files, detect, notices.append)
            answers[target] = data.model_copy(update={"file_licenses": found})
    finally:
        detect.cache.close()


def _recorded_file(target: _Target, files: list[ReleaseFile]) -> ReleaseFile | None:
    """The file whose location the SBOM records: the bundled one by name; the one the
    artifact's own download location names, if its SHA256 is the one the artifact states;
    else the pick."""
    if target.subject:
        return next((f for f in files if f.filename == target.component.file_name), None)
    if target.stated:
        stated = {c.value for c in target.component.checksums if c.algorithm == "SHA256"}
        return next((f for f in files if f.filename == target.stated and f.sha256 in stated), None)
    return pick_file(files)


def _cache_misses(cache: Cache, targets: list[_Target]) -> dict[_Target, str]:
    """Why the cache holds nothing usable for each target, and what to do. A target whose
    entry failed its checksum is left out: that has been said."""
    where = cache.path.parent
    fill = "`sbomgen cache warm ARTIFACT` where the index can be reached, or `sbomgen cache import` an export"
    if not cache.existed or cache.is_empty():
        state = "no cache at" if not cache.existed else "an empty cache at"
        return dict.fromkeys(targets, f"{state} {where}: fill it with {fill}")
    misses = {}
    for target in targets:
        held = cache.held(target.name, target.version)
        if target.subject in held:
            continue
        release = f"{target.name} {target.version}"
        if held:
            misses[target] = (
                f"the cache at {where} has an entry for {release} for another file, not the bundled "
                f"{target.component.file_name} (SHA256 {target.subject[:12]}…): run "
                "`sbomgen cache warm` on this artifact where the index can be reached"
            )
        else:
            misses[target] = f"the cache at {where} has no entry for {release}: add it with {fill}"
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
        "" if is_file else _url_name(component.download_location),
    )


def _url_name(url: str | None) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.rpartition("/")[2] if url else ""


def _apply(target: _Target, data: ReleaseData) -> tuple[Component, str | None]:
    """The component with the index's metadata, and a notice when the artifact itself is not
    the file the index publishes (a bundled file that is not is an EnrichmentError)."""
    component = replace(
        target.component,
        index_files=tuple((f.filename, f.sha256) for f in data.files),
        originator=target.component.originator or _party(data.originator),
        source_url=next((f.url for f in data.files if f.packagetype == "sdist"), data.repository),
    )
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
    chosen = _recorded_file(target, data.files)
    if chosen is None and target.stated:
        # Not the published file: the release's license is not said to be that file's.
        stated = next((c.value for c in component.checksums if c.algorithm == "SHA256"), "none")
        return component, (
            f"warning: {target.name} {target.version}: {target.stated} (SHA256 {stated}), which the "
            "artifact's download location and checksum name, is not among the files the index publishes: "
            "its declared license is not taken from the index"
        )
    if chosen is None:
        return replace(component, license_declared=license_), None
    if target.stated:  # the artifact's own location and checksum stand: the file is the same
        return replace(component, distribution_sha512=chosen.sha512, license_declared=license_), None
    return replace(
        component,
        download_location=chosen.url,
        checksums=(Checksum("SHA256", chosen.sha256),),
        distribution_sha512=chosen.sha512,
        license_declared=license_,
    ), None


def _party(originator: Originator | None) -> Party | None:
    return Party(**originator.model_dump()) if originator is not None else None


def _version(text: str) -> Version | str:
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number too long for int(): compared as text
        return text
