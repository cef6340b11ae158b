"""The package index's JSON API answers (``/pypi/NAME/json``), and what sbomgen keeps of them.

A project document is accepted whole, every release and file, before any of it is used:
an index that sends a file without a hex SHA256 or classifiers that are not a list of
strings is not one whose other answers to trust. Only the fields sbomgen uses are
modelled; the rest (descriptions, vulnerabilities, ...) is ignored.

``ReleaseData`` is what the SBOM uses of one release: the cache stores exactly it.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated

from pydantic import AfterValidator, Field

from ..errors import SbomgenError
from .fields import Line, NonEmptyLine, Sha256, Strict
from .metadata import LicenseText
from .parse import load_json


class Digests(Strict):
    sha256: Sha256


class IndexFile(Strict):
    filename: NonEmptyLine
    url: NonEmptyLine
    digests: Digests
    packagetype: Line = ""


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
        file that is not at an http(s) URL then is ``error``: nothing else is a download."""
        releases = {}
        for version, files in self.releases.items():
            releases[version] = [
                f.model_copy(update={"url": urllib.parse.urljoin(base, f.url)}) for f in files
            ]
            for number, file in enumerate(releases[version]):
                # Only the scheme here: the full rule (slow on a project's thousands of
                # files) applies to the one release that is used, as it becomes ReleaseData.
                if not _http(file.url):
                    where = f"releases.{version}[{number}].url"
                    raise error(f"{source}: {where}: not an http(s) URL: {file.url[:80]!r}")
        return self.model_copy(update={"releases": releases})


def download_url(value: str) -> str:
    """An absolute http(s) URL the CycloneDX writer takes. (The SPDX writer keeps one its
    download-location grammar refuses, such as an IP address, as source information.)"""
    from .spdx2 import cyclonedx_uri

    if not _http(value):
        raise ValueError(f"not an http(s) URL: {value[:80]!r}")
    if not cyclonedx_uri(value):
        raise ValueError(f"not a URL a CycloneDX document can hold: {value[:80]!r}")
    return value


def _http(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _license(value: str) -> str:
    from ..model.licenses import spdx_expression

    if spdx_expression(value) != value:
        raise ValueError(f"not an SPDX expression of known licenses: {value[:80]!r}")
    return value


class ReleaseFile(Strict):
    filename: NonEmptyLine
    url: Annotated[NonEmptyLine, AfterValidator(download_url)]
    sha256: Sha256
    packagetype: Line


class ReleaseData(Strict):
    """What the index said of one release, as sbomgen keeps it (the cache's rows): the same
    rules as when it was read from the index, so a cache cannot say more."""

    files: list[ReleaseFile]
    license: Annotated[Line, AfterValidator(_license)] | None = None


def read_project(
    content: bytes, name: str, base: str, max_bytes: int, error: type[SbomgenError]
) -> ProjectDocument:
    """The index's answer for project ``name`` at URL ``base``, file URLs made absolute; or
    ``error`` naming the project and the place."""
    source = f"the index's answer for {name}"
    return load_json(ProjectDocument, content, source, error, max_bytes).absolute(base, source, error)
