"""Whole releases: every artifact's SBOMs, provenance and SBOM attestations, a release
attestation, and a manifest of the folder.

A published release folder can gain files afterwards; the manifest (every file with its
size and SHA256) lets ``check`` name any file added, removed or changed since. The release
attestation (in-toto Release v0.2) lists the same files with their digests, signed, so the
list itself cannot be forged; ``check_attested`` verifies it before comparing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..documents.manifest import (
    FORMAT,
    MAX_MANIFEST_BYTES,
    ReleaseManifest,
    load_manifest,
    name_problem,
    text_problem,
)
from ..errors import ContentError, SbomgenError, UsageError, VerificationFailed
from ..provenance.attest import FORMAT_PREDICATES, RELEASE_STEM, release_version, sbom_stem
from .steps import SILENT, Steps

MANIFEST = "release-manifest.json"
SOURCE_NAME = re.compile(r"^Python-\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?\.(?:tgz|tar\.xz)$")
CHUNK = 1 << 20


def find_artifacts(folder: Path) -> tuple[list[Path], list[Path]]:
    """Source tarballs and Windows artifacts in ``folder`` (not its subfolders)."""
    from .windows import is_windows_artifact

    files = sorted(p for p in folder.iterdir() if p.is_file())
    return (
        [p for p in files if SOURCE_NAME.match(p.name)],
        [p for p in files if is_windows_artifact(p.name)],
    )


def sbom_job(job: tuple[str, Any, Any]) -> tuple[str, dict[str, bytes], list[str]]:
    """One artifact's SBOMs (run in a worker process): name, bytes by format, notices.

    ``job`` is the artifact's path, the source tarball of Windows artifacts (else None),
    and the SbomOptions.
    """
    from .sbom import source_sbom, windows_sbom

    artifact, source, options = Path(job[0]), job[1], job[2]
    made = source_sbom(artifact, options) if source is None else windows_sbom(artifact, source, options)
    return artifact.name, {f: d.data for f, d in made.documents.items()}, list(made.notices)


@dataclass(frozen=True)
class Release:
    """What ``release`` makes, by file name: every artifact's SBOM in every format asked
    for, and its provenance, signed as asked; and the notices of each artifact's job."""

    outputs: dict[str, bytes]
    notices: list[str]
    artifacts: list[Path]


def release_outputs(
    folder: Path, source: Path | None, signing: str | None, suffix: str, formats: tuple[str, ...]
) -> tuple[list[Path], list[Path], Path | None, list[str]]:
    """The artifacts of ``folder`` (sources, Windows), the source the Windows ones were built
    from, and the names of everything ``make_release`` will write."""
    from ..errors import UsageError
    from .sbom import FORMATS

    sources, windows = find_artifacts(folder)
    if not sources and not windows:
        raise UsageError(
            f"{folder}: no release artifacts (Python-X.Y.Z.tgz/.tar.xz, python-X.Y.Z*.exe/-embed-*.zip)"
        )
    if windows and source is None:
        if not sources:
            raise UsageError("Windows artifacts need --source: the source tarball they were built from")
        source = sources[-1]
    names = [f"{a.name}{FORMATS[f]}" for a in sources + windows for f in formats]
    names += [f"{a.name}{suffix}" for a in sources + windows]
    names += [
        f"{sbom_stem(a.name, FORMAT_PREDICATES[f])}{suffix}"
        for a in sources + windows
        for f in formats
        if f in FORMAT_PREDICATES
    ]
    if release_version([a.name for a in sources + windows]) is not None:
        names.append(f"{RELEASE_STEM}{suffix}")
    return sources, windows, source, names


def make_release(
    folder: Path,
    source: Path | None,
    options: Any,
    context: Any,
    signing: Any,
    jobs: int | None = None,
    steps: Steps = SILENT,
    out: Path | None = None,
) -> Release:
    """Every artifact's SBOMs (in parallel worker processes), provenance (recording its
    SPDX JSON SBOM, or the first format asked for, as a byproduct) and SBOM attestations
    (of each JSON SBOM), and the release attestation over every file of ``folder`` and every
    file made (to be written into ``out``, default ``folder``), signed as ``signing`` says
    (a provenance.signing.Signing)."""
    from concurrent.futures import ProcessPoolExecutor

    from ..provenance.attest import content_digests, release_statement, sbom_statement
    from ..provenance.statement import digests, statement
    from .sbom import FORMATS, MEDIA_TYPES

    sources, windows, source, _ = release_outputs(
        folder, source, signing.method, signing.suffix, options.formats
    )
    artifacts = sources + windows
    work: list[tuple[str, Any, Any]] = [(str(p), None, options) for p in sources]
    work += [(str(p), source, options) for p in windows]
    outputs: dict[str, bytes] = {}
    notices: list[str] = []
    by_artifact: dict[str, dict[str, bytes]] = {}
    workers = min(jobs or os.cpu_count() or 1, len(work))
    with steps.step("SBOMs", total=len(work), forks=True) as update, ProcessPoolExecutor(workers) as pool:
        for done, (name, documents, found) in enumerate(pool.map(sbom_job, work), start=1):
            by_artifact[name] = documents
            notices += [f"{name}: {message}" for message in found]
            if update is not None:
                update(done)
    recorded = "spdx-json" if "spdx-json" in options.formats else options.formats[0]
    for artifact in artifacts:
        for output_format, data in by_artifact[artifact.name].items():
            outputs[f"{artifact.name}{FORMATS[output_format]}"] = data
    statements = [
        statement(
            [a],
            context,
            (f"{a.name}{FORMATS[recorded]}", by_artifact[a.name][recorded], MEDIA_TYPES[recorded]),
        )
        for a in artifacts
    ]
    stems = [a.name for a in artifacts]
    for artifact in artifacts:
        artifact_digests = digests(artifact)
        for output_format in (f for f in options.formats if f in FORMAT_PREDICATES):
            sbom_name = f"{artifact.name}{FORMATS[output_format]}"
            data = by_artifact[artifact.name][output_format]
            predicate_type, body = sbom_statement(artifact.name, artifact_digests, data, sbom_name)
            stems.append(sbom_stem(artifact.name, predicate_type))
            statements.append(body)
    with steps.step("Signing"):
        outputs.update(signing.sign_statements(stems, statements))
        version = release_version([a.name for a in artifacts])
        if version is None:
            notices.append(
                f"{folder}: no release attestation: its artifacts' names give no one CPython version"
            )
            return Release(outputs, notices, artifacts)
        made = {name: content_digests(body) for name, body in outputs.items()}
        files, unlisted = attested_files(folder, out or folder)
        present = {name: digests(path, name) for name, path in files.items()}
        notices += [
            f"{folder / name}: a link to a folder or to nothing; not in the release attestation "
            "(the manifest records it as a link)"
            for name in unlisted
        ]
        # As the manifest records them: what the folder holds wins over what is written elsewhere.
        listed = (
            {**present, **made} if out is None or out.resolve() == folder.resolve() else {**made, **present}
        )
        outputs.update(signing.sign_statements([RELEASE_STEM], [release_statement(listed, version)]))
    return Release(outputs, notices, artifacts)


def _digest(path: Path) -> tuple[int, str]:
    sha256 = hashlib.sha256()
    size = 0
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ContentError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            sha256.update(chunk)
    return size, sha256.hexdigest()


def _place(path: Path) -> str:
    """Where ``path`` itself is (its folder resolved, not the path: a link stays a link)."""
    return os.path.join(os.path.realpath(path.parent), path.name)


def contents(folder: Path, manifest_path: Path, skip_also: tuple[Path, ...] = ()) -> dict[str, Path]:
    """Every regular file and symbolic link under ``folder`` by its manifest name, but the
    manifest itself (and ``skip_also``). Links are not followed, to files or folders, inside
    or out: a link is recorded as a link. Anything else (a FIFO, a device, a socket) is refused."""
    skip = {_place(folder / MANIFEST), _place(manifest_path), *map(_place, skip_also)}
    found: dict[str, Path] = {}
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise ContentError(f"cannot read {current}: {exc.strerror}") from None
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                pending.append(path)
                continue
            if not (entry.is_symlink() or entry.is_file(follow_symlinks=False)):
                raise ContentError(f"{path}: neither a file, a folder nor a symbolic link")
            name = path.relative_to(folder).as_posix()
            problem = name_problem(name)
            if problem:
                raise ContentError(f"{folder}: the name {name!r} {problem}")
            if _place(path) not in skip:
                found[name] = path
    return found


def attested_files(folder: Path, out: Path, given: Path | None = None) -> tuple[dict[str, Path], list[str]]:
    """What a release attestation lists of ``folder``: every file, and every link to a file
    (by what it holds), but the manifest and the release attestations (in ``folder``,
    ``out``, or ``given``), which cannot list themselves; and the names of the links it
    cannot list, to a folder or to nothing (the manifest records those as links)."""
    own = [
        place / f"{RELEASE_STEM}{end}"
        for place in (folder, out)
        for end in (".intoto.json", ".intoto.sigstore.json")
    ]
    found = contents(folder, out / MANIFEST, (*own, *([given] if given else [])))
    unlisted = sorted(name for name, path in found.items() if path.is_symlink() and not path.is_file())
    return {name: path for name, path in found.items() if name not in unlisted}, unlisted


def _entry(name: str, path: Path) -> dict[str, Any]:
    if not path.is_symlink():
        size, sha256 = _digest(path)
        return {"name": name, "size": size, "sha256": sha256}
    target = os.readlink(path)
    problem = text_problem(target)
    if problem:
        raise ContentError(f"{path}: the link's target {target!r} {problem}")
    return {"name": name, "link": target}


def manifest(
    folder: Path, manifest_path: Path | None = None, written: dict[str, Path] | None = None
) -> bytes:
    """The manifest of ``folder``, to be written at ``manifest_path`` (default: in it), and
    of the files ``written`` elsewhere (by name) for the release."""
    found = {**(written or {}), **contents(folder, manifest_path or folder / MANIFEST)}
    files = [_entry(name, found[name]) for name in sorted(found)]
    return (json.dumps({"format": FORMAT, "version": 1, "files": files}, indent=2) + "\n").encode()


@dataclass(frozen=True)
class Drift:
    added: list[str]
    removed: list[str]
    changed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def read_manifest(path: Path) -> ReleaseManifest:
    """The manifest at ``path``, through the gate (ContentError naming the place)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not hold the command
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ContentError(f"{path}: not a regular file")
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ContentError(f"cannot read {path}: {exc.strerror}") from None
    return load_manifest(data, str(path))


def check(manifest_path: Path, folder: Path) -> Drift:
    """What changed in ``folder`` since the manifest at ``manifest_path`` was made."""
    return compare(read_manifest(manifest_path), folder, manifest_path)


def compare(document: ReleaseManifest, folder: Path, manifest_path: Path) -> Drift:
    recorded = {entry.name: entry for entry in document.files}
    present = contents(folder, manifest_path)

    def changed(name: str) -> bool:
        entry, now = recorded[name], _entry(name, present[name])
        if entry.link is not None:
            return now.get("link") != entry.link
        return (now.get("size"), now.get("sha256")) != (entry.size, entry.sha256)

    return Drift(
        added=sorted(present.keys() - recorded.keys()),
        removed=sorted(recorded.keys() - present.keys()),
        changed=sorted(n for n in present.keys() & recorded.keys() if changed(n)),
    )


def check_attested(attestation: Path, folder: Path, request: Any) -> Drift:
    """What changed in ``folder`` since the release attestation at ``attestation`` was
    signed: its signature and signer are verified first (``request``, a
    provenance.verify.Request), VerificationFailed naming the first check that failed.
    Links to files are followed: the attestation records what a file holds; links to a
    folder or to nothing are not in it."""
    from dataclasses import replace

    from ..provenance.attest import RELEASE_V02
    from ..provenance.statement import subject_digests
    from ..provenance.verify import digests_match, verify

    result = verify(None, attestation, replace(request, predicate_type=RELEASE_V02))
    if not result.ok or result.statement is None:
        failure = result.first_failure
        raise VerificationFailed(str(failure) if failure else "no check was made")
    recorded = {subject.name: subject.digest for subject in result.statement.subject}
    if len(recorded) != len(result.statement.subject):
        raise VerificationFailed(f"{attestation.name}: the release attestation lists a file twice")
    present, _ = attested_files(folder, folder, attestation)

    def changed(name: str) -> bool:
        try:
            claimed = recorded[name]
            return digests_match(claimed, subject_digests(present[name], name, claimed)) is not True
        except SbomgenError:  # a link that points nowhere now, a file that became a FIFO
            return True

    return Drift(
        added=sorted(present.keys() - recorded.keys()),
        removed=sorted(recorded.keys() - present.keys()),
        changed=sorted(n for n in present.keys() & recorded.keys() if changed(n)),
    )


def check_any(path: Path, folder: Path, request: Any) -> tuple[Drift, str]:
    """``check`` with a manifest, ``check_attested`` with a release attestation (``request``
    says whose signature it must carry; None: nothing was said); and which it was."""
    from ..documents.parse import kind_of, parse_json
    from ..documents.source import read_bounded

    document = parse_json(read_bounded(path, "--check", ContentError, 64 << 20), str(path), ContentError)
    if not isinstance(document, dict):  # a manifest, an envelope and a bundle are objects
        raise ContentError(f"{path}: (top level): expected an object, not {kind_of(document)}")
    if "format" in document:
        if request is not None:
            raise UsageError(
                f"{path} is a manifest, which is not signed: the signer options verify a release attestation"
            )
        return check(path, folder), "manifest"
    if request is None:
        raise UsageError(
            f"{path} is not a manifest; a release attestation is verified first: say who signed it "
            "(--key PUB.pem, or --identity and --issuer)"
        )
    return check_attested(path, folder, request), "release attestation"
