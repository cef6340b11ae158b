"""Python distributions: wheels and sdists, their vendored packages and PEP 770 SBOMs.

The project comes from the distribution's own metadata (``*.dist-info/METADATA`` or
``PKG-INFO``). A wheel's every file is checked against its RECORD: a hash that does not
match the content is an error naming the file. Vendored packages come from
``_vendor/vendor.txt`` pins and ``_vendor/*.dist-info`` metadata. SBOMs the distribution
carries under ``*.dist-info/sboms/`` (PEP 770) are read and their components merged,
without duplicating what sbomgen found itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from ..documents.index import FileLicenses
from ..documents.metadata import MAX_METADATA_BYTES, CoreMetadata, read_metadata
from ..documents.record import read_record, record_hash
from ..documents.spdx2 import actor_parts
from ..documents.vendor import read_vendor_txt
from ..errors import ContentError
from ..model import Component, Party, Purpose
from ..model.licenses import declared_license
from .interface import ScanContext, Scanner
from .wheels import named_alike, pypi_purl, shipped_vendored

if TYPE_CHECKING:
    from .license_text import Finding

# Notices: their copyrights are kept, but they are not license texts to match.
_NOTICE_NAME = re.compile(r"(?i)(?:notice|authors)(?:[.-][a-z0-9.-]{1,20})?")
_LICENSE_FIELD = re.compile(r"^License-File:[ \t]*(\S[^\n]*?)[ \t]*$", re.MULTILINE)
_MAX_FILES = 100


class LicenseMembers:
    """The license and notice files of a distribution: a wheel's in its ``*.dist-info``
    (``licenses/**`` and license or notice names); an sdist's top-level ones and those its
    ``PKG-INFO`` names as ``License-File`` (PEP 639). Each is kept up to the size matched."""

    def __init__(self, wheel: bool) -> None:
        self.wheel = wheel
        self.found: dict[str, bytes] = {}
        self.declared: set[str] = set()

    def wants(self, path: str) -> bool:
        return len(self.found) < _MAX_FILES and _candidate(path.split("/"), self.wheel)

    def most(self, path: str) -> int:
        """How many leading bytes of ``path`` are read."""
        from .license_text import MAX_LICENSE_SIZE

        return MAX_METADATA_BYTES if path == "PKG-INFO" else MAX_LICENSE_SIZE + 1  # more is not matched

    def visit(self, path: str, content: bytes) -> None:
        if not self.wheel and path == "PKG-INFO":
            text = content[:MAX_METADATA_BYTES].decode("utf-8", "replace")
            self.declared = set(_LICENSE_FIELD.findall(text))
        elif self.wants(path):
            self.found[path] = content[: self.most(path)]

    def kept(self) -> list[tuple[str, bytes]]:
        # An sdist's PKG-INFO may come after the files it names: they were kept as candidates.
        wheel, declared = self.wheel, self.declared
        return sorted((p, c) for p, c in self.found.items() if wheel or "/" not in p or p in declared)


def _candidate(parts: list[str], wheel: bool) -> bool:
    from .license_files import is_license_file

    name = parts[-1]
    named = is_license_file(name) or _NOTICE_NAME.fullmatch(name) is not None
    if wheel:
        if not parts[0].endswith(".dist-info") or len(parts) < 2:
            return False
        # licenses/ (PEP 639), license_files/ (older hatchling), or the folder itself
        return (len(parts) > 2 and parts[1] == "licenses") or named
    return named or any(part.lower() in ("license", "licenses") for part in parts[:-1])


def is_license_text(path: str) -> bool:
    """A license file to match, not a notice whose copyrights alone are kept."""
    from .license_files import is_license_file

    return (
        is_license_file(path)
        or "/licenses/" in path.lower()
        and not _NOTICE_NAME.fullmatch(path.rsplit("/", 1)[-1])
    )


def file_licenses(
    files: Sequence[tuple[str, bytes]],
    where: str,
    detect: Callable[[bytes], Finding],
    notice: Callable[[str], None],
) -> FileLicenses:
    """The license (exact matches of every license file only) and copyrights of a
    distribution's license and notice ``files``, with how they were found; ``where`` follows
    each path in what is said (" in FILE")."""
    from .license_files import concluded, is_stack, sections
    from .license_text import MAX_COPYRIGHTS

    # A copy of CPython's LICENSE (distlib, typing-extensions) is read as CPython's is.
    texts = [
        (f"{part}{where}", text)
        for path, content in files
        if is_license_text(path)
        for part, text in (sections(path, content) if is_stack(content) else [(path, content)])
    ]
    if not texts:
        return FileLicenses(comment=f"Concluded license: no license file{where}.")
    found = concluded(Component(key="", name="", version=None), texts, detect, notice)
    statements = found.copyright_text.split("\n") if found.copyright_text else []
    for path, content in files:
        if not is_license_text(path):
            statements += [s for s in detect(content).copyrights if s not in statements]
    return FileLicenses(
        license=found.license_concluded,
        copyrights=statements[:MAX_COPYRIGHTS],
        comment=found.license_comment or "",
    )


def _with(component: Component, found: FileLicenses) -> Component:
    return replace(
        component,
        license_concluded=found.license,
        copyright_text="\n".join(found.copyrights) or None,
        license_comment=found.comment,
    )


def _supplier(metadata: CoreMetadata) -> Party | None:
    for field, person in (("Maintainer", metadata.maintainer), ("Author", metadata.author)):
        if person:
            try:  # as the SPDX reader will read it back: "(x)" alone would be an email, no name
                actor_parts(f"Organization: {person.strip()}")
            except ValueError:
                raise ContentError(f"METADATA: {field} {person[:80]!r} is not a supplier name") from None
            return Party("Organization", person.strip())
    for address in (metadata.maintainer_email, metadata.author_email):
        if address:
            name = address.split("<", 1)[0].strip().strip('"')
            if name:
                return Party("Organization", name)
    return None


def _one_dist_info(context: ScanContext, name: str) -> None:
    """A wheel has one ``.dist-info`` folder, its project's, as installers require: with two,
    which METADATA and RECORD speak for the wheel would be the archive's order's choice."""
    tops = (p.split("/", 1)[0] for p in context.files.paths() if "/" in p)
    folders = sorted({top for top in tops if top.endswith(".dist-info")})
    if len(folders) != 1:
        raise ContentError(
            f"{context.artifact_name}: {len(folders)} .dist-info folders "
            f"({', '.join(folders)}); a wheel has one"
        )
    if canonicalize_name(folders[0].split("-", 1)[0]) != canonicalize_name(name):
        raise ContentError(f"{context.artifact_name}: {folders[0]} is not the .dist-info folder of {name}")


class DistributionScanner(Scanner):
    def __init__(self, wheel: bool, cache_dir: Path | None = None) -> None:
        self.wheel = wheel
        self.cache_dir = cache_dir  # of the license findings
        self.licenses = LicenseMembers(wheel)
        self.metadata: tuple[str, bytes] | None = None
        self.record: tuple[str, bytes] | None = None
        self.vendor_txt: dict[str, bytes] = {}
        self.vendored_metadata: dict[str, bytes] = {}
        self.sboms: dict[str, bytes] = {}

    def wants(self, path: str) -> bool:
        if self.licenses.wants(path):
            return True
        parts = PurePosixPath(path).parts
        if (
            self.wheel
            and len(parts) == 2
            and parts[0].endswith(".dist-info")
            and parts[1] in ("METADATA", "RECORD")
        ):
            return True
        if not self.wheel and path == "PKG-INFO":
            return True
        if "_vendor" in parts:
            at = parts.index("_vendor")
            tail = parts[at + 1 :]
            if tail == ("vendor.txt",) or (
                len(tail) == 2 and tail[0].endswith(".dist-info") and tail[1] == "METADATA"
            ):
                return True
        return self.wheel and len(parts) >= 3 and parts[0].endswith(".dist-info") and parts[1] == "sboms"

    def visit(self, path: str, content: bytes) -> None:
        if path == "PKG-INFO" or self.licenses.wants(path):
            self.licenses.visit(path, content)
            if path != "PKG-INFO":
                return
        parts = PurePosixPath(path).parts
        if path == "PKG-INFO" or (len(parts) == 2 and parts[1] == "METADATA" and "_vendor" not in parts):
            self.metadata = (path, content)
        elif len(parts) == 2 and parts[1] == "RECORD":
            self.record = (path, content)
        elif parts[-1] == "vendor.txt":
            self.vendor_txt[path] = content
        elif "sboms" in parts[:2]:
            self.sboms[path] = content
        else:
            self.vendored_metadata[path] = content

    def finish(self, context: ScanContext) -> None:
        if self.metadata is None:
            what = "*.dist-info/METADATA" if self.wheel else "PKG-INFO"
            raise ContentError(f"{context.artifact_name}: no {what}: not a Python distribution")
        metadata_path, content = self.metadata
        metadata = read_metadata(content, f"{context.artifact_name}:{metadata_path}", ContentError)
        name, version = metadata.name, metadata.version
        if self.wheel:
            _one_dist_info(context, name)
            self._check_record(context)
        named_alike(context.artifact_name, name, version, "METADATA" if self.wheel else "PKG-INFO")
        # The document and its subject are the distribution's, not CPython's.
        root_key = context.root_key = canonicalize_name(name)
        context.document_name = context.artifact_name
        vendored = self._vendored(root_key)
        for component in vendored:
            context.add_component(component, depended_on_by=root_key)
        for component in self._embedded(context, vendored, name, version):
            context.add_component(component, depended_on_by=root_key)
        root = Component(
            key=root_key,
            name=canonicalize_name(name),
            version=version,
            purpose=Purpose.LIBRARY,
            supplier=_supplier(metadata),
            checksums=context.artifact_checksums,
            purl=pypi_purl(name, version),
            license_declared=declared_license(
                metadata.license_expression, metadata.license, metadata.classifiers
            ),
            file_name=context.artifact_name,
            files=context.files.claim_rest(root_key),
        )
        if root.supplier is not None:  # what the distribution vendors, it supplies
            context.components = [
                c if c.supplier is not None else replace(c, supplier=root.supplier)
                for c in context.components
            ]
        self._conclude(root, context)

    def _conclude(self, root: Component, context: ScanContext) -> None:
        """The distribution, and each package it vendors whose license files it ships (PEP 639:
        ``licenses/src/pip/_vendor/NAME/LICENSE``), with what those files say (as for a
        recorded one), the distribution first among the components."""
        from .license_text import Detector, FindingCache

        vendored = {canonicalize_name(c.name) for c in context.components if c.vendored_in == root.key}
        own: list[tuple[str, bytes]] = []
        shipped: dict[str, list[tuple[str, bytes]]] = {}
        for path, content in self.licenses.kept():
            # A file for a package the distribution is not found to vendor stays its own:
            # a path alone must not take a license out of what the distribution says.
            owner = shipped_vendored(path, sdist=not self.wheel)
            (shipped.setdefault(owner, []) if owner in vendored else own).append((path, content))
        where = f" in {context.artifact_name}"
        detect = Detector(FindingCache(self.cache_dir))
        try:
            context.components = [
                _with(c, file_licenses(shipped[name], where, detect, context.notice))
                if c.vendored_in == root.key and (name := canonicalize_name(c.name)) in shipped
                else c
                for c in context.components
            ]
            context.components.insert(0, _with(root, file_licenses(own, where, detect, context.notice)))
        finally:
            detect.cache.close()

    def _check_record(self, context: ScanContext) -> None:
        if self.record is None:
            raise ContentError(f"{context.artifact_name}: the wheel has no *.dist-info/RECORD")
        record_path, content = self.record
        record = read_record(content, record_path, f"{context.artifact_name}:{record_path}", ContentError)
        listed = {row.path for row in record.rows}
        for row in record.rows:
            expected = row.sha256
            if expected is None:
                continue
            entry = context.files.get(row.path)
            if entry is None:
                raise ContentError(
                    f"{context.artifact_name}: {row.path} is listed in RECORD but not in the wheel"
                )
            actual = entry.digest("SHA256") or ""
            if actual != expected:
                raise ContentError(
                    f"{context.artifact_name}: {row.path} does not match its RECORD hash "
                    f"({record_hash(bytes.fromhex(actual))})"
                )
            if row.size and int(row.size) != entry.size:  # installers check it too
                raise ContentError(
                    f"{context.artifact_name}: {row.path} is {entry.size} bytes, RECORD says {row.size}"
                )
        signatures = {record_path, record_path + ".jws", record_path + ".p7s"}
        unlisted = sorted(p for p in context.files.paths() if p not in listed and p not in signatures)
        if unlisted:
            raise ContentError(f"{context.artifact_name}: not listed in RECORD: {', '.join(unlisted[:5])}")

    def _vendored(self, parent: str) -> list[Component]:
        def vendored(name: str, version: str, license_: str | None = None) -> Component:
            return Component(
                key=f"{parent}/vendored:{name}",
                name=name,
                version=version,
                purl=pypi_purl(name, version),
                license_declared=license_,
                vendored_in=parent,
            )

        found: dict[str, Component] = {}
        for path in sorted(self.vendor_txt):
            for name, version in read_vendor_txt(self.vendor_txt[path], path, ContentError):
                found[name] = vendored(name, version)
        for path in sorted(self.vendored_metadata):
            metadata = read_metadata(self.vendored_metadata[path], path, ContentError)
            name, version = canonicalize_name(metadata.name), metadata.version
            license_ = declared_license(metadata.license_expression, metadata.license, metadata.classifiers)
            known = found.get(name)
            if known is None:
                found[name] = vendored(name, version, license_)
            elif license_ and not known.license_declared:
                found[name] = replace(known, license_declared=license_)
        return list(found.values())

    def _embedded(
        self, context: ScanContext, vendored: list[Component], name: str, version: str
    ) -> list[Component]:
        """Components of the SBOMs the distribution carries that sbomgen did not find itself."""
        known = {(c.name, c.version) for c in vendored} | {(canonicalize_name(name), version)}
        known_purls = {c.purl for c in vendored} | {pypi_purl(name, version)}
        merged: list[Component] = []
        for path in sorted(self.sboms):
            for item in _sbom_packages(path, self.sboms[path]):
                item_name = (
                    canonicalize_name(item["name"])
                    if item.get("purl", "").startswith("pkg:pypi/")
                    else item["name"]
                )
                key = (item_name, item.get("version"))
                if key in known or (item.get("purl") and item["purl"] in known_purls):
                    continue
                known.add(key)
                merged.append(
                    Component(
                        key=f"sbom:{path}:{item['name']}:{item.get('version')}",
                        name=item["name"],
                        version=item.get("version"),
                        purl=item.get("purl"),
                        comment=f"Listed by the SBOM the distribution carries: {path}.",
                    )
                )
            context.notice(f"read the SBOM the distribution carries: {path}")
        return merged


def _sbom_packages(path: str, content: bytes) -> list[dict[str, Any]]:
    """Name, version and purl of each package a carried SBOM lists, the distribution itself
    left out; the SBOM goes through the gate (ContentError, exit 4)."""
    from ..documents import sbom, spdx2

    document = sbom.load(content, path, ContentError)
    if isinstance(document, spdx2.Document):
        described = set(document.described())
        return [
            {"name": p.name, "version": p.versionInfo, "purl": p.reference("purl") or ""}
            for p in document.packages
            if p.SPDXID not in described  # the distribution itself
        ]
    return [
        {"name": c.name, "version": c.version, "purl": c.purl or ""}
        for top in document.components
        for c in top.walk()
        if c.type != "file"
    ]
