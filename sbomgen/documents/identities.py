"""A map of CPython minor series to the Sigstore identity and issuer that sign its releases
(sbomgen/data/cpython-release-identities.json, or a file given with ``verify --identities``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from .fields import Line, NonEmptyLine, Strict

MinorSeries = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}\.[0-9]{1,4}$")]


class ReleaseSigner(Strict):
    identity: NonEmptyLine
    issuer: NonEmptyLine


class ReleaseIdentities(Strict):
    description: Line = ""
    sources: list[Line] = Field(default_factory=list, max_length=64)
    releases: dict[MinorSeries, ReleaseSigner] = Field(min_length=1, max_length=4096)
