"""In-toto statements (v1, and v0.1 to recognise it) and the SLSA Provenance v1 predicate."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from .fields import Line, NonEmptyLine, Strict

STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
MAX_SUBJECTS = 10_000

# Algorithm names of in-toto's DigestSet: sha256, sha512, gitCommit, dirHash...
Algorithm = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
HexDigest = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{1,256}$")]


class ResourceDescriptor(Strict):
    name: Line | None = None
    uri: Line | None = None
    digest: dict[Algorithm, HexDigest] = {}
    mediaType: Line | None = None


class Subject(Strict):
    name: Line = ""
    digest: dict[Algorithm, HexDigest] = Field(min_length=1)


class Statement(Strict):
    type: Literal["https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"] = Field(
        alias="_type"
    )
    subject: list[Subject] = Field(min_length=1, max_length=MAX_SUBJECTS)
    predicateType: NonEmptyLine
    predicate: dict[str, Any] | None = None  # optional in Statement v1


class Builder(Strict):
    id: NonEmptyLine


class RunDetails(Strict):
    builder: Builder
    byproducts: list[ResourceDescriptor] = []


class BuildDefinition(Strict):
    buildType: NonEmptyLine
    externalParameters: dict[str, Any]
    resolvedDependencies: list[ResourceDescriptor] = []


class SlsaProvenanceV1(Strict):
    buildDefinition: BuildDefinition
    runDetails: RunDetails
