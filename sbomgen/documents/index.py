"""The package index's JSON API answers (``/pypi/NAME/json``), and what sbomgen keeps of them.

A project document is accepted whole, every release and file, before any of it is used:
an index that sends a file without a hex SHA256 or classifiers that are not a list of
strings is not one whose other answers to trust. Only the fields sbomgen uses are
modelled; the rest (descriptions, vulnerabilities, ...) is ignored.

``ReleaseData`` is what the SBOM uses of one release: the cache stores exactly it.
"""

from __future__ import annotations

import urllib.parse

from pydantic import Field

from ..errors import SbomgenError
from .fields import Line, NonEmptyLine, Sha256, Strict, Text
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
    license: Text | None = None
    license_expression: Line | None = None
    classifiers: list[Line] = []


class ProjectDocument(Strict):
    info: ProjectInfo = Field(default_factory=ProjectInfo)
    releases: dict[Line, list[IndexFile]]

    def absolute(self, base: str) -> ProjectDocument:
        """The same document with each file URL resolved against the answer's own URL."""
        releases = {
            version: [f.model_copy(update={"url": urllib.parse.urljoin(base, f.url)}) for f in files]
            for version, files in self.releases.items()
        }
        return self.model_copy(update={"releases": releases})


class ReleaseFile(Strict):
    filename: NonEmptyLine
    url: Line
    sha256: Sha256
    packagetype: Line


class ReleaseData(Strict):
    files: list[ReleaseFile]
    license: Line | None = None


def read_project(content: bytes, name: str, max_bytes: int, error: type[SbomgenError]) -> ProjectDocument:
    """The index's answer for project ``name``, or ``error`` naming the project and the place."""
    return load_json(ProjectDocument, content, f"the index's answer for {name}", error, max_bytes)
