"""CPython's own SBOM data: ``Misc/sbom.spdx.json`` and ``Misc/externals.spdx.json``.

Each package listed in ``Misc/sbom.spdx.json`` becomes a component owning its listed
files, and every listed file's checksums are checked against the artifact's bytes.
``Misc/externals.spdx.json`` lists what the Windows build downloads; those packages are
not inside a source artifact, so only the files they list (if any) are cross-checked.
"""

from __future__ import annotations

from collections.abc import Collection, Container
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from ..errors import ContentError
from ..model import Checksum, Component, Party, Purpose
from .interface import ScanContext, Scanner
from .purls import upstream_purl

# The gate's document models are imported where they are used: scanners are made before
# the reading child starts, and it should not wait for them.
if TYPE_CHECKING:
    from ..documents import spdx2

SBOM_PATH = "Misc/sbom.spdx.json"
EXTERNALS_PATH = "Misc/externals.spdx.json"
_NOASSERTION = {"NOASSERTION", "NONE", ""}
_PURPOSES = {p.value.upper(): p for p in Purpose}


def parse_party(value: str | None) -> Party | None:
    """An SPDX actor the document model accepted: ``Organization: Name (email)``."""
    from ..documents.spdx2 import actor_parts

    parts = actor_parts(value) if value is not None else None
    return Party(*parts) if parts is not None else None


def reachable(originator: Party | None, download: str | None) -> Party | None:
    """``originator`` with the URL its download location names, where it gives no e-mail:
    a GitHub release's repository (``https://github.com/OWNER/REPO``, as the PURL says), or
    the download host's site when the originator is named by that host (``bytereef.org``
    for ``https://www.bytereef.org/…``). Nothing is inferred from any other host."""
    from ..documents.creators import is_web_url

    if originator is None or originator.email or originator.url or not download:
        return originator
    try:
        parts = urlsplit(download)
        host = (parts.hostname or "").lower()
    except ValueError:
        return originator
    if parts.scheme != "https":
        return originator
    segments = [s for s in parts.path.split("/") if s]
    if host == "github.com" and len(segments) >= 2:
        url = f"https://github.com/{segments[0]}/{segments[1]}"
    elif host and originator.name.lower() in (host, host.removeprefix("www.")):
        url = f"https://{host}/"
    else:
        return originator
    return replace(originator, url=url) if is_web_url(url) else originator


class CPythonSbomScanner(Scanner):
    """``replaced``: canonical names of listed packages the system provides instead (a
    redistributor's build); their files are expected to be gone."""

    def __init__(self, replaced: Collection[str] = ()) -> None:
        self.contents: dict[str, bytes] = {}
        self.replaced = replaced

    def wants(self, path: str) -> bool:
        return path in (SBOM_PATH, EXTERNALS_PATH)

    def visit(self, path: str, content: bytes) -> None:
        # Parsed once the pass is over: an error of the archive itself (a link out of it, a
        # duplicate) is the one reported, and the document models (pydantic, spdx-tools) are
        # loaded once the reading process has ended, not beside it.
        self.contents[path] = content

    def finish(self, context: ScanContext) -> None:
        documents = {
            path: load_document(path, self.contents[path])
            for path in (SBOM_PATH, EXTERNALS_PATH)
            if path in self.contents
        }
        if SBOM_PATH not in documents:
            context.notice(
                f"{context.artifact_name} carries no SBOM data of its own ({SBOM_PATH}); "
                "bundled C libraries cannot be listed"
            )
        mismatches: list[str] = []
        for path in (SBOM_PATH, EXTERNALS_PATH):
            if path not in documents:
                continue
            document = documents[path]
            listed = listed_files(document, path)
            gone = _files_of(document, listed, self.replaced, pip_and_its_dependencies(document))
            mismatches += _check_files(listed, context, gone)
            if path == SBOM_PATH:
                for component in listed_components(document, listed, path, context.files):
                    context.add_component(component, depended_on_by=context.root_key)
        if mismatches:
            summary = (
                f"{len(mismatches)} file(s) listed in CPython's SBOM data do not match the artifact: "
                + "; ".join(mismatches[:10])
                + ("; ..." if len(mismatches) > 10 else "")
            )
            if not context.allow_mismatch:
                raise ContentError(summary + " (--allow-mismatch records them with their actual checksums)")
            context.notice("warning: " + summary)


def load_document(path: str, content: bytes) -> spdx2.Document:
    """``Misc/sbom.spdx.json`` or ``Misc/externals.spdx.json`` through the gate (exit 4)."""
    from ..documents.spdx2 import load

    return load(content, path, ContentError)


def _checksums(checksums: list[spdx2.Checksum]) -> tuple[Checksum, ...]:
    # The model's names are SPDX's (SHA3-256); the inventory's are the writers' (SHA3_256).
    return tuple(Checksum(c.algorithm.upper().replace("-", "_"), c.value) for c in checksums)


def listed_files(document: spdx2.Document, path: str) -> dict[str, tuple[str, tuple[Checksum, ...]]]:
    """SPDXID -> (file name, checksums) for every file the document lists."""
    listed = {}
    for item in document.files:
        checksums = _checksums(item.checksums)
        if not any(c.algorithm == "SHA256" for c in checksums):
            raise ContentError(f"{path}: file {item.path!r} has no SHA256 checksum")
        listed[item.SPDXID] = (item.path, checksums)
    return listed


def _files_of(
    document: spdx2.Document,
    listed: dict[str, tuple[str, tuple[Checksum, ...]]],
    names: Collection[str],
    ids: Collection[str],
) -> set[str]:
    """The paths of the listed files that the packages called ``names`` or ``ids`` contain."""
    ids = {p.SPDXID for p in document.packages if canonicalize_name(p.name) in names} | set(ids)
    return {
        listed[r.relatedSpdxElement][0]
        for r in document.relationships
        if r.relationshipType == "CONTAINS" and r.spdxElementId in ids and r.relatedSpdxElement in listed
    }


def _check_files(
    listed: dict[str, tuple[str, tuple[Checksum, ...]]], context: ScanContext, gone: Container[str]
) -> list[str]:
    """One problem per listed file that is missing (unless expected ``gone``) or whose
    checksums differ (SHA256 first)."""
    problems = []
    for name, checksums in sorted(listed.values()):
        entry = context.files.get(name)
        if entry is None:
            if name not in gone:
                problems.append(f"{name} is missing from the artifact")
            continue
        for checksum in sorted(checksums, key=lambda c: c.algorithm != "SHA256"):
            actual = entry.digest(checksum.algorithm)
            if actual is not None and actual != checksum.value:
                problems.append(f"{name}: {checksum.algorithm} is {actual}, listed as {checksum.value}")
                break
    return problems


def listed_components(
    document: spdx2.Document,
    listed: dict[str, tuple[str, tuple[Checksum, ...]]],
    path: str,
    present: Container[str],
) -> list[Component]:
    """The listed packages, each owning those of its listed files the artifact has."""
    contains: dict[str, list[str]] = {}
    for rel in document.relationships:
        if rel.relationshipType == "CONTAINS" and rel.relatedSpdxElement in listed:
            contains.setdefault(rel.spdxElementId, []).append(listed[rel.relatedSpdxElement][0])
    components = []
    replaced = pip_and_its_dependencies(document)
    numbers: dict[str, int | None] = {
        "cpython": None
    }  # canonical name -> where first listed: one name, one component
    for number, item in enumerate(document.packages):
        if item.SPDXID in replaced:
            continue
        first = numbers.setdefault(canonicalize_name(item.name), number)
        if first != number:
            where = "as CPython itself" if first is None else f"as packages[{first}]"
            raise ContentError(
                f"{path}: packages[{number}] is named {item.name[:200]!r}, {where}: "
                "the SBOM could not tell them apart"
            )
        for field in ("licenseConcluded", "licenseDeclared"):
            _license_expression(getattr(item, field), f"{path}: packages[{number}].{field}")
        purpose = _PURPOSES.get((item.primaryPackagePurpose or "SOURCE").upper(), Purpose.SOURCE)
        download, checksums = _known(item.downloadLocation), _checksums(item.checksums)
        components.append(
            Component(
                key=f"cpython-sbom:{item.SPDXID}",
                name=item.name,
                version=item.versionInfo or None,
                purpose=purpose,
                originator=reachable(parse_party(item.originator), download),
                supplier=parse_party(item.supplier),
                download_location=download,
                checksums=checksums,
                # Where CPython's data names none, the upstream identity gives one (purls.py).
                purl=item.reference("purl")
                or upstream_purl(item.name, item.versionInfo, download, checksums),
                # sbomgen writes a CPE as cpe23Type: a CPE 2.2 name would not fit there.
                cpe=item.reference("cpe23Type"),
                license_concluded=_known(item.licenseConcluded),
                license_declared=_known(item.licenseDeclared),
                files=tuple(sorted(p for p in contains.get(item.SPDXID, []) if p in present)),
            )
        )
    return components


def pip_and_its_dependencies(document: spdx2.Document) -> set[str]:
    """The SPDX IDs of pip and the packages it depends on, where CPython's data lists them (as
    its generator did in early 2024): what the bundled wheel says replaces them, and without
    the wheel they are gone, as in CPython's release tooling. A package pip depends on that
    holds files of the tree (those pip vendors hold none) is CPython's own: it stays."""
    pip = {p.SPDXID for p in document.packages if canonicalize_name(p.name) == "pip"}
    holders = {r.spdxElementId for r in document.relationships if r.relationshipType == "CONTAINS"}
    depended_on = {
        r.relatedSpdxElement
        for r in document.relationships
        if r.relationshipType == "DEPENDS_ON" and r.spdxElementId in pip
    }
    return pip | (depended_on - holders)


def _license_expression(value: str | None, where: str) -> None:
    """Refuse here, naming the input, what the SPDX writer would refuse as a license."""
    from license_expression import ExpressionError

    from ..model.licenses import parse

    expression = _known(value)
    if expression is None:
        return
    try:
        parse(expression)
    except ExpressionError as exc:
        problem = f"{expression[:200]!r} ({str(exc)[:200]})"
        raise ContentError(f"{where}: not an SPDX license expression: {problem}") from None


def _known(value: str | None) -> str | None:
    return None if value is None or value in _NOASSERTION else value
