"""Windows artifacts: installers (``python-X.Y.Z-amd64.exe``) and embeddable zips.

Their SBOM follows CPython's release tooling: the packages of the source's
``Misc/externals.spdx.json`` (what the Windows build downloads) and ``Misc/sbom.spdx.json``,
identified by name and version (mpdecimal can appear in both, in different versions),
all with purpose LIBRARY since they are compiled in; pip and what it vendors for
installers only. An embeddable zip's own files are scanned as well.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ContentError, UsageError
from ..model import Artifact, Checksum, Component, Dependency, Inventory, Purpose
from ..model.files import FileTable
from ..read.archive import ArchiveReader, Limits
from ..read.child import Summary, records
from ..scan import creation_time, scan
from ..scan.bundled import BUNDLED_DIR
from ..scan.cpython import PSF
from ..scan.cpython_sbom import EXTERNALS_PATH, SBOM_PATH, listed_components, listed_files, load_document
from ..scan.wheels import read_wheel

ARTIFACT_NAME = re.compile(
    r"^python-(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)t?(?:-(embed-)?(?:amd64|arm64|win32))?\.(exe|zip)$"
)
CHUNK = 1 << 20


def is_windows_artifact(name: str) -> bool:
    found = ARTIFACT_NAME.match(name)
    return found is not None and (found.group(3) == "exe" or bool(found.group(2)))


@dataclass(frozen=True)
class SourceParts:
    """What Windows SBOMs take from the source release: read once, shared by every artifact."""

    name: str
    documents: dict[str, bytes]  # Misc/sbom.spdx.json and Misc/externals.spdx.json
    wheels: dict[str, bytes]  # Lib/ensurepip/_bundled/*.whl


def read_source(source: Path, limits: Limits | None = None) -> SourceParts:
    """The members Windows SBOMs need, read by the pass ``tarball`` makes, under the same
    limits: each one at most ``--max-nested-size``, those behind links included."""

    def wanted(path: str) -> bool:
        return path in (SBOM_PATH, EXTERNALS_PATH) or (path.startswith(BUNDLED_DIR) and path.endswith(".whl"))

    found: dict[str, bytes] = {}
    # SHA256 of each member, so that one read again through a link must be what was read.
    for item in records(ArchiveReader(source, limits), ("SHA256",), wanted):
        if isinstance(item, Summary):
            found.update(item.through_links)
        elif item[6] is not None:
            found[item[0]] = item[6]
    documents = {path: found[path] for path in (SBOM_PATH, EXTERNALS_PATH) if path in found}
    wheels = {path: content for path, content in found.items() if path not in documents}
    if SBOM_PATH not in documents or EXTERNALS_PATH not in documents:
        raise ContentError(
            f"{source.name}: no {SBOM_PATH} and {EXTERNALS_PATH}: not a source for Windows SBOMs"
        )
    return SourceParts(source.name, documents, wheels)


def _read_pip(path: str, content: bytes, limits: Limits | None) -> tuple[Component, list[Component]]:
    """pip and what it vendors, concluded from the license files the wheel carries, as for a tarball."""
    from ..scan.license_files import concluded_or_noticed
    from ..scan.license_text import Detector

    detect = Detector()
    try:
        return read_wheel(
            path,
            content,
            ("SHA256",),
            (limits or Limits()).max_members,
            lambda c, files, notices: concluded_or_noticed(c, files, notices, detect, lambda message: None),
        )
    finally:
        detect.cache.close()


def windows_inventory(artifact: Path, source: SourceParts, limits: Limits | None = None) -> Inventory:
    found = ARTIFACT_NAME.match(artifact.name)
    if found is None or not is_windows_artifact(artifact.name):
        raise UsageError(f"{artifact.name}: not a Windows installer or embeddable zip name")
    version, embeddable = found.group(1), bool(found.group(2))
    release = re.sub(r"(a|b|rc)\d+$", "", version)  # the folder on python.org has no pre-release suffix
    components: list[Component] = []
    for path in (EXTERNALS_PATH, SBOM_PATH):
        document = load_document(path, source.documents[path])
        for component in listed_components(document, listed_files(document, path), path, ()):
            components.append(
                replace(
                    component,
                    key=f"{path}:{component.name}-{component.version}",
                    purpose=Purpose.LIBRARY,
                    supplier=component.supplier or PSF,
                    versioned_id=True,
                )
            )
    root_key = "cpython"
    dependencies = [Dependency(root_key, c.key) for c in components]
    if not embeddable:
        wheels = source.wheels
        pip_paths = [p for p in sorted(wheels) if p.rsplit("/", 1)[-1].startswith("pip-")]
        if not pip_paths:
            raise ContentError(f"{source.name}: no pip wheel in {BUNDLED_DIR}, which the installer bundles")
        if len(pip_paths) > 1:
            raise ContentError(f"{source.name}: {len(pip_paths)} wheels of pip: {' and '.join(pip_paths)}")
        pip_path = pip_paths[0]
        pip, vendored = _read_pip(pip_path, wheels[pip_path], limits)
        components.append(replace(pip, purpose=Purpose.LIBRARY, supplier=PSF))
        components += [replace(v, purpose=Purpose.LIBRARY, supplier=PSF) for v in vendored]
        dependencies.append(Dependency(root_key, pip.key))
        dependencies += [Dependency(pip.key, v.key) for v in vendored]

    if embeddable:  # its own files too, read by the same pass as any archive
        scanned = scan(artifact, scanners=[], top_folder=False, limits=limits)
        files, created = scanned.files, scanned.created
        checksums = tuple(c for c in scanned.artifact.checksums if c.algorithm == "SHA256")
    else:
        sha256 = hashlib.sha256()
        with artifact.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                sha256.update(chunk)
        files, checksums = FileTable(), (Checksum("SHA256", sha256.hexdigest()),)
        created = creation_time(int(artifact.stat().st_mtime))
    root = Component(
        key=root_key,
        name="CPython",
        version=version,
        purpose=Purpose.LIBRARY,
        supplier=PSF,
        originator=PSF,
        download_location=f"https://www.python.org/ftp/python/{release}/{artifact.name}",
        checksums=checksums,
        cpe=f"cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
        license_concluded="PSF-2.0",
        file_name=artifact.name,
        files=tuple(sorted(f.path for f in files)),
    )
    return Inventory(
        artifact=Artifact(artifact.name, artifact.stat().st_size, checksums),
        root=root_key,
        components=(root, *components),
        files=files,
        dependencies=tuple(dependencies),
        created=created,
    )
