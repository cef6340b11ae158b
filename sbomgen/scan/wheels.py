"""Bundled wheels (``Lib/ensurepip/_bundled/*.whl``) and the packages they vendor.

Each wheel is opened in memory as a nested archive. Its ``*.dist-info/METADATA`` gives
name and version; a ``<package>/_vendor/vendor.txt`` inside it lists vendored packages,
parsed with ``packaging`` so every pin form pip has used (comments, indented
sub-dependencies, mixed case, underscores, pre-releases) reads the same way.
"""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import replace

from packaging.utils import canonicalize_name

from ..errors import ContentError
from ..model import Checksum, Component, Party, Purpose
from ..read.archive import Limits, check_zip_entries, check_zip_member

MAX_METADATA_SIZE = 4 << 20
PYPA = Party("Organization", "Python Packaging Authority")

# CPE vendor:product as the NVD records them, for bundled wheels with known CVE histories.
KNOWN_CPES = {"pip": "pypa:pip", "setuptools": "python:setuptools"}
KNOWN_ORIGINATORS = {"pip": PYPA, "setuptools": PYPA}
# Folders inside a vendored package that hold code it vendors in turn.
_VENDORED_AGAIN = {"packages", "vendor", "_vendor", "vendored", "extern", "_extern", "third_party"}


def pypi_purl(name: str, version: str) -> str:
    return f"pkg:pypi/{canonicalize_name(name)}@{version}"


def cpe23(vendor_product: str, version: str) -> str:
    """A CPE 2.3 formatted string; the version escaped as the binding requires (1!99.0, 99.0+abc)."""
    escaped = "".join(c if c.isascii() and (c.isalnum() or c in "_-.") else "\\" + c for c in version)
    return f"cpe:2.3:a:{vendor_product}:{escaped}:*:*:*:*:*:*:*"


def named_alike(file_name: str, name: str, version: str, what: str, where: str | None = None) -> None:
    """A distribution's file name, where it has the standard form (``NAME-VERSION-TAGS.whl``,
    ``NAME-VERSION.tar.gz``), names the project and version its metadata (``what``) gives, as
    installers require (ContentError naming ``where``, default the file, otherwise)."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version

    try:
        parse = parse_wheel_filename if file_name.endswith(".whl") else parse_sdist_filename
        named, named_version = parse(file_name)[:2]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return
    if named != canonicalize_name(name) or named_version != Version(version):
        raise ContentError(
            f"{where or file_name}: the file name says {named} {named_version}, its {what} {name} {version}"
        )


def parse_vendor_txt(text: str, where: str) -> list[tuple[str, str]]:
    """Return (canonical name, pinned version) for each line of a vendor.txt."""
    from ..documents import vendor

    return vendor.parse_vendor_txt(text, where, ContentError)


# A component, its license files (where, content) and, where it has none, the notices
# (where, leading comment) of its source files -> the component with what they say.
Conclude = Callable[[Component, list[tuple[str, bytes]], list[tuple[str, str]]], Component]


def read_wheel(
    path: str,
    content: bytes,
    algorithms: tuple[str, ...],
    max_members: int = Limits.max_members,
    conclude: Conclude | None = None,
) -> tuple[Component, list[Component]]:
    """A bundled wheel, opened in memory (``max_members``: as for the artifact, --max-members).
    ``conclude``: given the license files the wheel carries for it and for each package it
    vendors, and a vendored package's source files' notices where it carries none."""
    # The gate's models and the license list, here rather than at the top: scanners are
    # made before the reading child starts, and it should not wait for these.
    from ..documents import vendor
    from ..documents.metadata import read_metadata
    from ..model.licenses import declared_license

    filename = path.rsplit("/", 1)[-1]
    check_zip_entries(io.BytesIO(content), max_members, path)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ContentError(f"{path}: bundled wheel is not a valid zip archive ({exc})") from None
    with archive:
        for info in archive.infolist():  # what unzip would read otherwise, or not at all
            check_zip_member(info, f"{path}:{info.filename}")
        metadata_names = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(metadata_names) != 1:
            raise ContentError(f"{path}: bundled wheel has no single *.dist-info/METADATA")
        metadata = read_metadata(
            _read_member(archive, metadata_names[0], path), f"{path}:{metadata_names[0]}", ContentError
        )
        name, version = canonicalize_name(metadata.name), metadata.version
        named_alike(filename, metadata.name, version, "METADATA", path)
        key = f"wheel:{name}"
        vendored = []
        pinned_by: dict[str, str] = {}
        for vendor_txt in sorted(n for n in names if n.count("/") == 2 and n.endswith("/_vendor/vendor.txt")):
            pins = vendor.read_vendor_txt(
                _read_member(archive, vendor_txt, path), f"{path}:{vendor_txt}", ContentError
            )
            bom_path = vendor_txt.removesuffix("vendor.txt") + "bom.cdx.json"
            licenses = (
                _bom_licenses(_read_member(archive, bom_path, path), f"{path}:{bom_path}")
                if bom_path in names
                else {}
            )
            for dep_name, dep_version in pins:
                other = pinned_by.setdefault(canonicalize_name(dep_name), vendor_txt)
                if other != vendor_txt:
                    raise ContentError(f"{path}: {dep_name} is pinned by both {other} and {vendor_txt}")
                vendored.append(
                    Component(
                        key=f"{key}/vendored:{dep_name}",
                        name=dep_name,
                        version=dep_version,
                        purl=pypi_purl(dep_name, dep_version),
                        license_declared=licenses.get((dep_name, dep_version)),
                        vendored_in=key,
                    )
                )
        if conclude is not None:
            from .license_files import is_license_file
            from .license_headers import is_source

            concluded = []
            license_names = [n for n in names if is_license_file(n)]  # once, not once a package
            sources = [n for n in names if is_source(n)]
            for c in vendored:
                license_paths = _vendored_license_names(license_names, pinned_by, c.name)
                files = _license_files(archive, path, license_paths)
                notices, stated = (
                    ([], ()) if files else _vendored_notices(archive, path, sources, pinned_by, c.name)
                )
                concluded.append(_with_copyrights(conclude(c, files, notices), stated))
            vendored = concluded
            dist_info = metadata_names[0].split("/")[0]
            wheel_licenses = _license_files(archive, path, _dist_info_license_names(names, dist_info))
    known_cpe = KNOWN_CPES.get(name)
    wheel = Component(
        key=key,
        name=name,
        version=version,
        purpose=Purpose.SOURCE,
        originator=_originator(name, metadata.originator()),
        checksums=tuple(
            Checksum(a, hashlib.new(a.lower(), content).hexdigest()) for a in algorithms if a != "SHA1"
        ),
        distribution_sha512=hashlib.sha512(content).hexdigest(),
        purl=pypi_purl(name, version),
        cpe=cpe23(known_cpe, version) if known_cpe else None,
        license_declared=declared_license(
            metadata.license_expression, metadata.license, metadata.classifiers
        ),
        file_name=filename,
    )
    if conclude is not None:
        wheel = conclude(wheel, wheel_licenses, [])
    return wheel, vendored


def _originator(name: str, stated: Party | None) -> Party | None:
    """Who made the wheel: the organization its project is known by (pip, setuptools: the
    PyPA), reached by the address and home page its own METADATA gives; else what that says."""
    known = KNOWN_ORIGINATORS.get(name)
    if known is None or stated is None:
        return known or stated
    return Party(known.kind, known.name, stated.email, stated.url)


def _dist_info_license_names(names: list[str], dist_info: str) -> list[str]:
    """The wheel's own license files: those of its .dist-info but a vendored package's."""
    from .license_files import is_license_file

    return [
        n
        for n in names
        if n.startswith(dist_info + "/") and is_license_file(n) and shipped_vendored(n) is None
    ]


def shipped_vendored(member: str, sdist: bool = False) -> str | None:
    """The vendored package whose license file ``member`` is, when a .dist-info ships it under
    its source path (PEP 639 License-File: ``pip-X.dist-info/licenses/src/pip/_vendor/NAME/LICENSE``),
    or an sdist names that source path (``src/pip/_vendor/NAME/LICENSE``)."""
    top, _, rest = member.partition("/")
    if not sdist and (not top.endswith(".dist-info") or not rest.startswith("licenses/")):
        return None
    if "/_vendor/" not in f"/{member}":
        return None
    parts = f"/{member}".rsplit("/_vendor/", 1)[1].split("/")
    return canonicalize_name(parts[0]) if len(parts) == 2 else None


_canonical = functools.lru_cache(maxsize=1024)(canonicalize_name)  # a folder's name, for each of its files


def _vendored_license_names(names: list[str], pinned_by: dict[str, str], name: str) -> list[str]:
    """The license files of vendored ``name``: in its folder, its .dist-info's, or the
    wheel's .dist-info under its source path."""
    from .license_files import is_license_file

    name = canonicalize_name(name)
    folder = pinned_by[name].removesuffix("vendor.txt")
    found = []
    for member in names:
        if not is_license_file(member):
            continue
        if shipped_vendored(member) == name:
            found.append(member)
            continue
        if not member.startswith(folder):
            continue
        top, *below = member[len(folder) :].split("/")
        if top.endswith(".dist-info"):
            top = top.removesuffix(".dist-info").split("-")[0]
        elif len(below) != 1:
            continue
        if below and canonicalize_name(top) == name:
            found.append(member)
    return found


def _vendored_notices(
    archive: zipfile.ZipFile, where: str, names: list[str], pinned_by: dict[str, str], name: str
) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """The (where, leading comment) of the source files of vendored ``name`` (its folder or
    its one module) that begin with a notice, and the copyrights their modules state, but
    of code it vendors in turn (urllib3's ``packages/six.py``): six's does not speak for urllib3."""
    from .license_headers import HEAD_SIZE, is_source, notice, stated_copyrights
    from .license_text import MAX_COPYRIGHTS

    name = canonicalize_name(name)
    folder = pinned_by[name].removesuffix("vendor.txt")
    found = []
    stated: list[str] = []
    for member in names:
        if not member.startswith(folder) or not is_source(member):
            continue
        rest = member[len(folder) :]
        top = rest.split("/", 1)[0] if "/" in rest else rest.removesuffix(".py")
        if _canonical(top) != name:
            continue
        if any(part in _VENDORED_AGAIN for part in rest.split("/")[1:-1]):
            continue
        try:
            with archive.open(member) as handle:
                head = handle.read(HEAD_SIZE)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
            raise ContentError(f"{where}: cannot read {member} ({exc})") from None
        if (comment := notice(head)) is not None:
            found.append((f"{where}:{member}", comment))
        stated += [s for s in stated_copyrights(head) if s not in stated]
    return found, tuple(stated[:MAX_COPYRIGHTS])


def _with_copyrights(component: Component, stated: tuple[str, ...]) -> Component:
    """``component`` with the copyrights its modules state after those its notices gave."""
    known = component.copyright_text.split("\n") if component.copyright_text else []
    from .license_text import MAX_COPYRIGHTS

    more = [s for s in stated if s not in known][: max(MAX_COPYRIGHTS - len(known), 0)]
    return replace(component, copyright_text="\n".join(known + more)) if more else component


def _license_files(archive: zipfile.ZipFile, where: str, names: list[str]) -> list[tuple[str, bytes]]:
    """(where, content) of each; a file over the detector's limit is cut just past it."""
    from .license_text import MAX_LICENSE_SIZE

    files = []
    for name in names:
        try:
            with archive.open(name) as handle:
                files.append((f"{where}:{name}", handle.read(MAX_LICENSE_SIZE + 1)))
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
            raise ContentError(f"{where}: cannot read {name} ({exc})") from None
    return files


def _bom_licenses(content: bytes, where: str) -> dict[tuple[str, str], str]:
    """(canonical name, version) -> SPDX expression, from a vendored-packages CycloneDX BOM."""
    from ..documents import cyclonedx
    from ..model.licenses import spdx_expression

    bom = cyclonedx.load(content, where, ContentError)
    found: dict[tuple[str, str], str] = {}
    for component in bom.components:
        if not component.version:
            continue
        expressions = [choice.spdx for choice in component.licenses]
        if len(expressions) == 1 and (expression := spdx_expression(expressions[0])):
            key = (canonicalize_name(component.name), component.version)
            if found.setdefault(key, expression) != expression:
                raise ContentError(
                    f"{where}: {component.name} {component.version} is listed twice, as "
                    f"{found[key]} and as {expression}"
                )
    return found


def _read_member(archive: zipfile.ZipFile, name: str, where: str) -> bytes:
    try:
        info = archive.getinfo(name)
        if info.file_size > MAX_METADATA_SIZE:
            raise ContentError(f"{where}: {name} is implausibly large ({info.file_size} bytes)")
        with archive.open(info) as handle:
            data = handle.read(MAX_METADATA_SIZE + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        raise ContentError(f"{where}: cannot read {name} ({exc})") from None
    if len(data) > MAX_METADATA_SIZE:
        raise ContentError(f"{where}: {name} is implausibly large")
    return data
