"""The package index's answers, and what sbomgen keeps of them.

Three kinds of answer, read into one ``ProjectDocument`` (releases by version, each with its
files): the Simple API as JSON (PEP 691) or HTML (PEP 503), with PEP 700's ``size``,
``upload-time`` and PEP 592's ``yanked``, and PEP 658/714's ``core-metadata`` hash; and, for
indexes with neither, the JSON API (``/pypi/NAME/json``), whose ``info`` describes the
newest release only. A Simple API file's version is read from its name (a wheel or sdist
name, as ``packaging`` reads it); a file whose name says none belongs to no release.

A project document is accepted whole, every release and file, before any of it is used:
an index that sends a file without a hex SHA256 or classifiers that are not a list of
strings is not one whose other answers to trust. Only the fields sbomgen uses are
modelled; the rest (descriptions, vulnerabilities, ...) is ignored.

``ReleaseData`` is what the SBOM uses of one release: the cache stores exactly it.
"""

from __future__ import annotations

import html.parser
import re
import urllib.parse
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..errors import SbomgenError
from .creators import is_email, is_web_url
from .fields import Line, NonEmptyLine, Sha256, Sha512, Strict
from .metadata import LicenseText
from .parse import load_json, validate


class Digests(Strict):
    sha256: Sha256


class IndexFile(Strict):
    filename: NonEmptyLine
    url: NonEmptyLine
    digests: Digests
    packagetype: Line = ""
    size: Annotated[int, Field(ge=0)] | None = None
    upload_time: Line | None = None
    yanked: bool = False
    yanked_reason: Line | None = None
    core_metadata: bool = False
    metadata_sha256: Sha256 | None = None


class ProjectInfo(Strict):
    version: Line | None = None
    license: LicenseText | None = None
    license_expression: Line | None = None
    classifiers: list[Line] = []


class ProjectDocument(Strict):
    info: ProjectInfo = Field(default_factory=ProjectInfo)
    releases: dict[Line, list[IndexFile]]

    def absolute(self, base: str, source: str, error: type[SbomgenError]) -> ProjectDocument:
        """The same document with each file URL resolved against the answer's own URL; a
        file that is not at an https URL (or http on loopback) then is ``error``."""
        releases: dict[str, list[IndexFile]] = {}
        for version, files in self.releases.items():
            releases[version] = []
            for number, file in enumerate(files):
                where = f"releases.{version}[{number}].url"
                try:  # urllib refuses some hosts ("https://[x/") with ValueError
                    url = urllib.parse.urljoin(base, file.url)
                    # Only the scheme here: the full rule (slow on a project's thousands of
                    # files) applies to the one release that is used, as it becomes ReleaseData.
                    usable = _http(url)
                except ValueError:
                    usable, url = False, file.url
                if not usable:
                    raise error(f"{source}: {where}: not an https URL: {url[:80]!r}")
                releases[version].append(file.model_copy(update={"url": url}))
        return self.model_copy(update={"releases": releases})


def download_url(value: str) -> str:
    """An absolute https (or loopback http) URL the CycloneDX writer takes. (The SPDX writer
    keeps one its download-location grammar refuses, such as an IP address, as source
    information.)"""
    from .spdx2 import cyclonedx_uri

    if not _http(value):
        raise ValueError(f"not an https URL: {value[:80]!r}")
    if not cyclonedx_uri(value):
        raise ValueError(f"not a URL a CycloneDX document can hold: {value[:80]!r}")
    return value


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _http(value: str) -> bool:
    """https, or http to this machine's loopback (the tests' index): never plain http
    across a network."""
    parts = urllib.parse.urlsplit(value)
    if not parts.netloc:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


def _license(value: str) -> str:
    from ..model.licenses import spdx_expression

    if spdx_expression(value) != value:
        raise ValueError(f"not an SPDX expression of known licenses: {value[:80]!r}")
    return value


def _email(value: str) -> str:
    if not is_email(value):
        raise ValueError(f"not an e-mail address: {value[:80]!r}")
    return value


def _web_url(value: str) -> str:
    if not is_web_url(value):
        raise ValueError(f"not an http(s) URL: {value[:80]!r}")
    return value


def _party_name(value: str) -> str:
    if any(c in value for c in "()<>"):
        raise ValueError(f"a name with brackets, read as a contact in SPDX 2: {value[:80]!r}")
    return value


WebUrl = Annotated[NonEmptyLine, AfterValidator(_web_url)]


class Originator(Strict):
    """Who made a release, as its core metadata says (``CoreMetadata.originator``)."""

    kind: Literal["Person", "Organization"]
    name: Annotated[NonEmptyLine, AfterValidator(_party_name)]
    email: Annotated[NonEmptyLine, AfterValidator(_email)] | None = None
    url: WebUrl | None = None


class ReleaseFile(Strict):
    filename: NonEmptyLine
    url: Annotated[NonEmptyLine, AfterValidator(download_url)]
    sha256: Sha256
    packagetype: Line
    size: Annotated[int, Field(ge=0)] | None = None
    upload_time: Line | None = None
    yanked: bool = False
    yanked_reason: Line | None = None
    core_metadata: bool = False
    metadata_sha256: Sha256 | None = None
    sha512: Sha512 | None = None  # computed by sbomgen, where it read the file whole


class FileLicenses(Strict):
    """What the license files of the recorded distribution file say (``enrich.distribution``)."""

    license: Annotated[Line, AfterValidator(_license)] | None = None  # concluded: exact matches only
    copyrights: list[Line] = []
    comment: Line  # how they were found, or why nothing could be


class ReleaseData(Strict):
    """What the index said of one release, as sbomgen keeps it (the cache's rows): the same
    rules as when it was read from the index, so a cache cannot say more."""

    files: list[ReleaseFile]
    license: Annotated[Line, AfterValidator(_license)] | None = None
    # Where the license was read: "FIELD of FILE" (a core metadata field of one file).
    license_source: Line | None = None
    # Why the recorded file's core metadata could not be read, when it could not.
    metadata_note: Line | None = None
    # From that core metadata: who made the release, and its repository (Project-URL Source).
    originator: Originator | None = None
    repository: WebUrl | None = None
    file_licenses: FileLicenses | None = None


def read_project(
    content: bytes, name: str, base: str, max_bytes: int, error: type[SbomgenError]
) -> ProjectDocument:
    """The index's answer for project ``name`` at URL ``base``, file URLs made absolute; or
    ``error`` naming the project and the place."""
    source = f"the index's answer for {name}"
    return load_json(ProjectDocument, content, source, error, max_bytes).absolute(base, source, error)


# --- The Simple API (PEP 503 HTML, PEP 691 JSON) ---------------------------------------


class SimpleHashes(Strict):
    sha256: Sha256


class SimpleFile(Strict):
    filename: NonEmptyLine
    url: NonEmptyLine
    hashes: SimpleHashes
    size: Annotated[int, Field(ge=0)] | None = None
    upload_time: Line | None = Field(None, alias="upload-time")
    yanked: bool | Line = False
    core_metadata: bool | dict[Line, Line] | None = Field(None, alias="core-metadata")
    dist_info_metadata: bool | dict[Line, Line] | None = Field(None, alias="dist-info-metadata")


class SimpleMeta(Strict):
    api_version: Line = Field(alias="api-version")


class SimpleProject(Strict):
    meta: SimpleMeta
    name: NonEmptyLine
    files: list[SimpleFile]


def _metadata(file: SimpleFile) -> tuple[bool, str | None]:
    """Whether the file's core metadata is served (PEP 658), and its SHA256 when given. PEP 714:
    ``core-metadata``, else the older ``dist-info-metadata``."""
    value = file.core_metadata if file.core_metadata is not None else file.dist_info_metadata
    if isinstance(value, dict):
        sha256 = value.get("sha256")
        if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise ValueError(f"{file.filename}: core-metadata sha256 is not 64 hex digits")
        return True, sha256.lower() if sha256 else None
    return bool(value), None


def file_version(filename: str) -> tuple[str, str] | None:
    """(version, packagetype) of a wheel, sdist or egg by its name; None for any other name.
    An egg is ``NAME-VERSION[-pyX.Y[-PLATFORM]].egg``, its parts escaped with ``_`` for ``-``
    (PyPI no longer takes eggs, PEP 715, but old releases keep theirs)."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1]), "bdist_wheel"
        if filename.endswith(".egg"):
            parts = filename.removesuffix(".egg").split("-")
            return (
                (str(Version(parts[1].replace("_", "-"))), "bdist_egg") if len(parts) in (2, 3, 4) else None
            )
        return str(parse_sdist_filename(filename)[1]), "sdist"
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):  # InvalidVersion too
        return None


def _from_simple(
    project: SimpleProject, base: str, source: str, error: type[SbomgenError]
) -> ProjectDocument:
    releases: dict[str, list[IndexFile]] = {}
    for number, file in enumerate(project.files):
        parsed = file_version(file.filename)
        if parsed is None:
            continue
        try:
            has_metadata, metadata_sha256 = _metadata(file)
        except ValueError as exc:
            raise error(f"{source}: files[{number}]: {exc}") from None
        releases.setdefault(parsed[0], []).append(
            IndexFile(
                filename=file.filename,
                url=file.url,
                digests=Digests(sha256=file.hashes.sha256),
                packagetype=parsed[1],
                size=file.size,
                upload_time=file.upload_time,
                yanked=file.yanked is not False,
                yanked_reason=file.yanked if isinstance(file.yanked, str) and file.yanked else None,
                core_metadata=has_metadata,
                metadata_sha256=metadata_sha256,
            )
        )
    return ProjectDocument(releases=releases).absolute(base, source, error)


def read_simple_json(
    content: bytes, name: str, base: str, max_bytes: int, error: type[SbomgenError] = SbomgenError
) -> ProjectDocument:
    """A PEP 691 project page (``application/vnd.pypi.simple.v1+json``) at URL ``base``."""
    source = f"the index's answer for {name}"
    return _from_simple(load_json(SimpleProject, content, source, error, max_bytes), base, source, error)


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], list[str]]] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = tag == "a"
        if self.inside:
            self.anchors.append((dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.anchors[-1][1].append(data)


def _hash_attribute(value: str | None) -> bool | dict[str, str]:
    """``data-core-metadata``: "true", or "sha256=HEX" (PEP 658)."""
    if value is None or value == "true" or "=" not in value:
        return value is not None
    algorithm, _, digest = value.partition("=")
    return {algorithm: digest}


def read_simple_html(
    content: bytes, name: str, base: str, max_bytes: int, error: type[SbomgenError] = SbomgenError
) -> ProjectDocument:
    """A PEP 503 project page: one anchor per file, its SHA256 in the URL's fragment."""
    from .parse import decode_text

    source = f"the index's answer for {name}"
    parser = _Anchors()
    parser.feed(decode_text(content, source, error, max_bytes))
    files = []
    for attrs, text in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, _, fragment = href.partition("#")
        algorithm, _, digest = fragment.partition("=")
        if algorithm != "sha256":
            continue  # no SHA256: nothing sbomgen could record or check
        entry: dict[str, object] = {
            "filename": "".join(text).strip(),
            "url": url,
            "hashes": {"sha256": digest},
            "yanked": attrs["data-yanked"] or True if "data-yanked" in attrs else False,
        }
        for attribute, key in (
            ("data-core-metadata", "core-metadata"),
            ("data-dist-info-metadata", "dist-info-metadata"),
        ):
            if attribute in attrs:
                entry[key] = _hash_attribute(attrs[attribute])
        files.append(entry)
    page = {"meta": {"api-version": "1.0"}, "name": name, "files": files}
    return _from_simple(validate(SimpleProject, page, source, error), base, source, error)
