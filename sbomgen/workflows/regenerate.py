"""The SBOM of a modified source tree, derived from its upstream SBOM, offline.

A redistributor removes bundled copies (the pip wheel, expat, mpdecimal) and patches
files. The tree is scanned as it is; a package whose files are all gone is dropped (with
what it vendors); what upstream knew about a package that remains (download location,
checksums, licenses, supplier) is kept, so no network is needed; every difference from
upstream is stated; and the upstream document is referenced with its checksum.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ..documents import spdx2
from ..documents.fields import check_line, check_purl
from ..documents.parse import MAX_DOCUMENT_BYTES
from ..documents.source import read_bounded
from ..errors import ContentError, UsageError
from ..model import Checksum, Component, Dependency, Inventory, Party, Purpose, UpstreamDocument
from ..read.archive import Limits
from ..scan import DEFAULT_CHECKSUMS, default_scanners, scan
from ..scan.cpython_sbom import parse_party
from . import diff
from .sbom import Sbom
from .steps import SILENT, Steps


@dataclass(frozen=True)
class SystemPackage:
    """A bundled library the build takes from the system: its version, and, when the
    redistributor says, the system package's PURL and supplier."""

    version: str
    purl: str | None = None
    supplier: Party | None = None


_SYSTEM_PACKAGE_FORM = "NAME=VERSION[,purl=PURL][,supplier=SUPPLIER]"


def parse_system_packages(values: Sequence[str]) -> dict[str, SystemPackage]:
    """``expat=2.7.1,purl=pkg:deb/debian/libexpat1@2.7.1,supplier=Debian`` (UsageError, exit 2,
    for anything else). A supplier is an organization unless written as an SPDX actor
    (``Person: Jane Doe (jane@example.org)``)."""
    found: dict[str, SystemPackage] = {}
    for value in values:
        head, *fields = value.split(",")
        name, sep, version = head.partition("=")
        if not sep or not name.strip() or not version.strip():
            raise UsageError(f"--system-package: expected {_SYSTEM_PACKAGE_FORM}, not {value[:200]!r}")
        extra: dict[str, str] = {}
        for field_ in fields:
            key, sep, text = field_.partition("=")
            key, text = key.strip(), text.strip()
            if not sep or key not in ("purl", "supplier") or key in extra or not text:
                raise UsageError(f"--system-package: expected {_SYSTEM_PACKAGE_FORM}, not {value[:200]!r}")
            extra[key] = text
        try:
            if len(version.strip()) > spdx2.MAX_VERSION:  # what CycloneDX holds
                raise ValueError(f"a version of at most {spdx2.MAX_VERSION:,} characters")
            package = SystemPackage(
                version=check_line(version.strip()),
                purl=check_purl(check_line(extra["purl"])) if "purl" in extra else None,
                supplier=_supplier(extra["supplier"]) if "supplier" in extra else None,
            )
        except ValueError as exc:
            raise UsageError(f"--system-package {value[:200]!r}: {exc}") from None
        key = canonicalize_name(check_line(name.strip()))
        if key in found:
            raise UsageError(
                f"--system-package {value[:200]!r}: {key} is named twice; name each system package once"
            )
        found[key] = package
    return found


def _supplier(text: str) -> Party:
    check_line(text)
    if text.startswith(("Organization:", "Person:")):
        party = parse_party(text)
        if party is None:
            raise ValueError(f"not an SPDX actor: {text[:200]!r}")
        return party
    if "(" in text or ")" in text:  # the actor form's e-mail brackets
        raise ValueError(f"a supplier's name holds no parentheses: {text[:200]!r}")
    return Party("Organization", text)


def _keys(inventory: Inventory) -> dict[str, str]:
    """The same keys ``diff`` gives: canonical names, vendored as parent/child."""
    by_key = {c.key: c for c in inventory.components}
    keys: dict[str, str] = {}
    for component in inventory.components:
        if component.key == inventory.root:
            keys[component.key] = diff.name_key(component.name)
        elif component.vendored_in in by_key:
            parent = by_key[component.vendored_in]
            keys[component.key] = f"{diff.name_key(parent.name)}/{diff.name_key(component.name)}"
        else:
            keys[component.key] = diff.name_key(component.name)
    return keys


def load_upstream(data: bytes, source: str) -> spdx2.FullDocument:
    """The upstream SBOM through the gate: a whole SPDX JSON document, for the derived one
    refers to it by name and namespace (ContentError, exit 4, otherwise)."""
    return spdx2.load_full(data, source, ContentError)


def regenerate(
    upstream_path: Path,
    source: Path,
    system_packages: Mapping[str, SystemPackage],
    checksums: Sequence[str] = DEFAULT_CHECKSUMS,
    limits: Limits | None = None,
) -> Inventory:
    raw = read_bounded(upstream_path, str(upstream_path), ContentError, MAX_DOCUMENT_BYTES)
    upstream_document = load_upstream(raw, str(upstream_path))
    upstream = diff.from_spdx(upstream_document, str(upstream_path))
    _bundled_upstream(upstream, system_packages, upstream_path.name)
    inventory = scan(
        source,
        checksums=checksums,
        allow_mismatch=True,
        scanners=default_scanners(replaced=system_packages),
        limits=limits,
    )

    # Packages Misc/sbom.spdx.json lists, all of whose files are gone, are gone themselves.
    gone = {c.key for c in inventory.components if c.key.startswith("cpython-sbom:") and not c.files}
    keys = _keys(inventory)
    kept = []
    for component in inventory.components:
        if component.key in gone:
            continue
        known = upstream.components.get(keys[component.key])
        details = upstream.details.get(keys[component.key], {})
        if known is not None and known["version"] == component.version:
            component = _with_upstream_facts(component, known, details, str(upstream_path))
        kept.append(component)
    root = inventory.root
    kept += [_system_package(name, package, upstream) for name, package in sorted(system_packages.items())]
    present = {c.key for c in kept}
    dependencies = [d for d in inventory.dependencies if d.source in present and d.target in present]
    dependencies += [Dependency(root, f"system:{name}") for name in sorted(system_packages)]

    derived = replace(inventory, components=tuple(kept), dependencies=tuple(dependencies))
    return replace(
        derived,
        derived_from=UpstreamDocument(
            name=upstream_document.name,
            namespace=upstream_document.documentNamespace,
            sha1=hashlib.sha1(raw).hexdigest(),
        ),
        changes=tuple(_changes(upstream, derived, system_packages)),
    )


def _bundled_upstream(
    upstream: diff.Snapshot, system_packages: Mapping[str, SystemPackage], source: str
) -> None:
    """A system package replaces a library bundled upstream (UsageError, exit 2, otherwise)."""
    bundled = sorted(k for k in upstream.components if k != upstream.root and "/" not in k)
    for name, package in sorted(system_packages.items()):
        if name not in bundled:
            listed = ", ".join(bundled[:10]) + (", ..." if len(bundled) > 10 else "")
            raise UsageError(
                f"--system-package {name}={package.version}: --system-package names a library bundled "
                f"in UPSTREAM, and {source} bundles no {name} (it bundles: {listed or 'nothing'})"
            )


def _system_package(name: str, package: SystemPackage, upstream: diff.Snapshot) -> Component:
    """The system's copy of a library bundled upstream: the same software at another version,
    so upstream's originator stays; the supplier is the one the redistributor names, else the
    originator, being who releases it (upstream's supplier when it names no originator)."""
    bundled = upstream.components[name]
    originator = parse_party(upstream.details[name]["originator"])
    return Component(
        key=f"system:{name}",
        name=name,
        version=package.version,
        purpose=Purpose.LIBRARY,
        originator=originator,
        supplier=package.supplier or originator or parse_party(bundled["supplier"]),
        purl=package.purl,
        comment=f"Provided by the system in place of the {_named(name, bundled['version'])} "
        f"bundled upstream; {name} {package.version}.",
    )


def _named(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


def _with_upstream_facts(
    component: Component, known: dict[str, Any], details: dict[str, Any], source: str
) -> Component:
    """What upstream found out about the same package and version stands, with how it was
    found: its license comment goes with its concluded license, and its copyright text and
    originator (from the index, the network this run does without) with them."""
    declared, concluded = known["license"]
    # diff names algorithms as SPDX does (SHA3-256); the inventory as the writers do (SHA3_256).
    checksums = tuple(
        Checksum(algorithm.upper().replace("-", "_"), value)
        for algorithm, value in (item.split(":", 1) for item in sorted(known["checksums"]))
    )
    upstream_license = concluded is not None or component.license_concluded is None
    return replace(
        component,
        **_index_facts(
            details.get("annotations", []), f"{source}: {_named(component.name, component.version)}"
        ),
        download_location=known["download location"] or component.download_location,
        checksums=checksums or component.checksums,
        license_declared=declared or component.license_declared,
        license_concluded=concluded if upstream_license else component.license_concluded,
        license_comment=details.get("license comment") if upstream_license else component.license_comment,
        copyright_text=details.get("copyright") or component.copyright_text,
        originator=component.originator or parse_party(details.get("originator")),
        file_name=details.get("file name") or component.file_name,
    )


def _index_facts(annotations: list[str], where: str) -> dict[str, Any]:
    """What upstream recorded of the index's answer for this release (its files, the index,
    an unsigned cache export it came from), for ``check`` and the reader of the derived SBOM."""
    from ..write import INDEX_FILES, INDEX_UNSIGNED, INDEX_URL
    from .check import load_json_list

    facts: dict[str, Any] = {}
    for comment in annotations:
        name, _, text = comment.partition(" ")
        if name == INDEX_FILES:
            files = load_json_list(text, f"{where}: its annotation {INDEX_FILES}")
            facts["index_files"] = tuple((f.filename, f.sha256) for f in files.root)
        elif name == INDEX_URL and _URL.fullmatch(text) and "<" not in text:
            facts["index_url"] = text
        elif name == INDEX_UNSIGNED:
            # Index metadata that came unsigned stays marked so: never laundered by a rewrite.
            digest = text.rsplit(" ", 1)[-1]
            facts["index_unsigned_export"] = digest if _SHA256.fullmatch(digest) else "unknown"
    return facts


_SHA256 = re.compile(r"[0-9a-f]{64}")
_URL = re.compile(r"https?://[!-~]{1,2000}")


def _changes(
    upstream: diff.Snapshot, derived: Inventory, system_packages: Mapping[str, SystemPackage]
) -> list[str]:
    keys = _keys(derived)
    present = {keys[c.key] for c in derived.components}
    statements = []
    for key in sorted(upstream.components.keys() - present):
        version = upstream.components[key]["version"]
        statements.append(f"Removed package {key} {version}: its files are not in the tree.")
    for name, package in sorted(system_packages.items()):
        bundled = _named(name, upstream.components[name]["version"])
        statements.append(f"Bundled {bundled} replaced by the system's {name} {package.version}.")
    files = {f.path: f for f in derived.files}
    for path in sorted(upstream.files.keys() - files.keys()):
        statements.append(f"Removed file {path}.")
    for path in sorted(files.keys() - upstream.files.keys()):
        statements.append(f"Added file {path} (SHA256 {files[path].digest('SHA256')}).")
    for path in sorted(files.keys() & upstream.files.keys()):
        before = dict(item.split(":", 1) for item in upstream.files[path])
        now = files[path].digest("SHA256")
        if before.get("SHA256") not in (None, now):
            statements.append(f"Changed file {path}: SHA256 was {before['SHA256']}, is {now}.")
    return statements


def regenerated_sbom(
    upstream: Path,
    source: Path,
    system_packages: Sequence[str] = (),
    formats: Sequence[str] = ("spdx-json",),
    steps: Steps = SILENT,
    limits: Limits | None = None,
    cyclonedx_version: str = "1.7",
    creators: Sequence[str] = (),
) -> Sbom:
    """What ``sbomgen regenerate`` writes: the SBOM of ``source`` (a modified tree or its
    archive) derived from the SBOM at ``upstream``; ``system_packages``: each bundled library
    the build replaced by the system's copy, ``NAME=VERSION[,purl=PURL][,supplier=SUPPLIER]``;
    ``limits``: on reading ``source``; ``creators``: who made the SBOM (``--creator``)."""
    from .sbom import Document, SbomOptions, render

    options = SbomOptions(
        formats=tuple(formats), cyclonedx_version=cyclonedx_version, creators=tuple(creators)
    )
    with steps.step(f"Reading {source.name}", forks=True):
        inventory = regenerate(upstream, source, parse_system_packages(system_packages), limits=limits)
    documents = {}
    for output_format in options.formats:
        with steps.step(f"Writing {output_format}"):
            made = render(output_format, inventory, None, options.cyclonedx_version, options.creators)
            documents[output_format] = Document(output_format, made)
    return Sbom(inventory, inventory.notices, documents)
