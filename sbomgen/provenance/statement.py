"""In-toto Statement v1 with a SLSA Provenance v1 predicate, one per artifact (or one for all).

Builder and source come from the CI environment (GitHub Actions, GitLab CI) or the
command line; nothing is invented. The SBOM is recorded among the byproducts with its
digest, which binds SBOM and provenance together.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..documents.parse import parse_json
from ..documents.source import open_regular, read_bounded
from ..documents.text import control_character
from ..errors import ContentError, OutputValidationError, UsageError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
# Documented in docs/build-type.md: what externalParameters and resolvedDependencies mean.
BUILD_TYPE = "urn:x-sbomgen:build-type:release:v1"
CHUNK = 1 << 20


@dataclass(frozen=True)
class BuildContext:
    builder_id: str
    invocation_id: str | None = None
    source_uri: str | None = None  # git+https://host/repo@refs/tags/v3.13.5
    source_digest: Mapping[str, str] = field(default_factory=dict)  # {"gitCommit": hex}
    started_on: datetime.datetime | None = None
    finished_on: datetime.datetime | None = None

    def __post_init__(self) -> None:
        """Values from the command line or the CI environment, refused before anything is built."""
        if self.builder_id:
            check_uri(self.builder_id, "the builder id")
        if self.source_uri is not None:
            check_uri(self.source_uri, "the source URI")
        invocation = self.invocation_id
        if invocation is not None and (not invocation.strip() or control_character(invocation)):
            raise UsageError(f"the invocation id must be one line of text, not {self.invocation_id!r}")
        for algorithm, value in self.source_digest.items():
            if not _DIGEST_ALGORITHM.fullmatch(algorithm) or not _HEX.fullmatch(value):
                raise UsageError(f"the source digest must be ALGORITHM:HEX, not {algorithm}:{value}")


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
_DIGEST_ALGORITHM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{1,256}")


def check_uri(value: str, what: str) -> None:
    """An absolute URI: RFC 3986's grammar, which the schema check of the statement applies
    (a value from the environment it refuses is the user's to fix, not sbomgen's bug)."""
    from ..documents.fields import conforms

    if not _URI.fullmatch(value) or control_character(value) or not conforms(value, "uri"):
        raise UsageError(f"{what} must be an absolute URI such as https://host/path, not {value!r}")


# What a statement made here gives of a file; and what a verifier compares, in-toto's names:
# a claim it could check and left out would let a wrong digest pass beside a right one.
STATED = ("sha256", "sha512")
CHECKED = ("sha1", "sha224", "sha256", "sha384", "sha512")


# SHAKE (in-toto's shake128, shake256) gives output of any length: a claim is the first that
# many bytes of it, so the longest a subject may hold (256 hex digits) is computed; a claim
# shorter than 128 bits (OpenSSL's shortest default) identifies nothing and never matches.
XOF_BYTES = 128
MIN_XOF_HEX = 32


# Every other digest hashlib computes, by its name with "-" and "_" taken out (as a subject
# may spell it): computed when a subject names one, so that none goes unchecked.
def _computable(name: str) -> bool:
    try:
        hashlib.new(name)  # listed, yet refused where a policy forbids it (FIPS and MD5)
    except ValueError:
        return False
    return name.replace("_", "").isalnum() and name.lower() == name


COMPUTABLE = {
    name.replace("_", ""): name for name in sorted(hashlib.algorithms_available) if _computable(name)
}


def digests(path: Path, what: str = "the artifact", algorithms: Sequence[str] = STATED) -> dict[str, str]:
    """The digests of a regular file (a FIFO or device is refused, never waited on)."""
    hashes = {name: hashlib.new(name) for name in algorithms}
    with open_regular(path, what, UsageError) as handle:
        while chunk := handle.read(CHUNK):
            for hashed in hashes.values():
                hashed.update(chunk)
    return {
        name: hashed.hexdigest(XOF_BYTES) if name.startswith("shake") else hashed.hexdigest()  # type: ignore[call-arg]
        for name, hashed in hashes.items()
    }


def same_digest(algorithm: str, ours: str, claimed: str) -> bool:
    """Whether ``claimed`` (lower-case hex) is our digest by ``algorithm`` (in-toto's name,
    ``-`` and ``_`` taken out): for SHAKE, the first bytes of its output."""
    if algorithm.startswith("shake"):
        return len(claimed) >= MIN_XOF_HEX and len(claimed) % 2 == 0 and ours.startswith(claimed)
    return ours == claimed


def subject_digests(
    path: Path, what: str, named: Iterable[str], known: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The digests of ``path`` a subject's claims are compared with, by in-toto's names with
    ``-`` and ``_`` taken out: ``known`` (else CHECKED, computed), and every other one hashlib
    computes that ``named`` (the algorithms the subjects give, spelt any way) names."""
    ours = dict(known) if known is not None else digests(path, what, CHECKED)
    wanted = {name.lower().replace("-", "").replace("_", "") for name in named}
    more = sorted(COMPUTABLE[name] for name in wanted - ours.keys() if name in COMPUTABLE)
    if more:
        ours.update({name.replace("_", ""): value for name, value in digests(path, what, more).items()})
    return ours


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """What a CI system says about the running build: builder, invocation, source."""
    if environ.get("GITHUB_ACTIONS") == "true":
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository, ref = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_REF")
        found: dict[str, Any] = {}
        if environ.get("GITHUB_WORKFLOW_REF"):
            found["builder_id"] = f"{server}/{environ['GITHUB_WORKFLOW_REF']}"
        if repository and environ.get("GITHUB_RUN_ID"):
            attempt = environ.get("GITHUB_RUN_ATTEMPT", "1")
            found["invocation_id"] = (
                f"{server}/{repository}/actions/runs/{environ['GITHUB_RUN_ID']}/attempts/{attempt}"
            )
        if repository and ref:
            found["source_uri"] = f"git+{server}/{repository}@{ref}"
        if environ.get("GITHUB_SHA"):
            found["source_digest"] = {"gitCommit": environ["GITHUB_SHA"]}
        return found
    if environ.get("GITLAB_CI") == "true":
        found = {}
        if environ.get("CI_SERVER_URL") and environ.get("CI_PROJECT_PATH") and environ.get("CI_RUNNER_ID"):
            found["builder_id"] = (
                f"{environ['CI_SERVER_URL']}/{environ['CI_PROJECT_PATH']}/-/runners/{environ['CI_RUNNER_ID']}"
            )
        if environ.get("CI_JOB_URL"):
            found["invocation_id"] = environ["CI_JOB_URL"]
        if environ.get("CI_PROJECT_URL"):
            ref = (
                f"refs/tags/{environ['CI_COMMIT_TAG']}"
                if environ.get("CI_COMMIT_TAG")
                else (
                    f"refs/heads/{environ['CI_COMMIT_REF_NAME']}"
                    if environ.get("CI_COMMIT_REF_NAME")
                    else None
                )
            )
            if ref:
                found["source_uri"] = f"git+{environ['CI_PROJECT_URL']}@{ref}"
        if environ.get("CI_COMMIT_SHA"):
            found["source_digest"] = {"gitCommit": environ["CI_COMMIT_SHA"]}
        if environ.get("CI_JOB_STARTED_AT"):
            found["started_on"] = parse_time(environ["CI_JOB_STARTED_AT"], "CI_JOB_STARTED_AT")
        return found
    return {}


def parse_time(text: str, what: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: a time UTC cannot hold (year 9999, -23:59)
        raise UsageError(f"{what}: not an RFC 3339 time: {text!r}") from None


def parse_source_digest(text: str) -> dict[str, str]:
    algorithm, sep, value = text.partition(":")
    if not sep or not algorithm or not value:
        raise UsageError(f"--source-digest: expected ALGORITHM:HEX such as gitCommit:1a2b3c..., not {text!r}")
    return {algorithm: value.lower()}


def _rfc3339(moment: datetime.datetime) -> str:
    # isoformat: strftime's %Y writes the year 1 as "1", which RFC 3339 does not read
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _split_source(uri: str) -> dict[str, str]:
    """``git+https://host/repo@refs/tags/v1`` -> repository and ref."""
    location = uri.removeprefix("git+")
    repository, sep, ref = location.rpartition("@")
    if not sep or "://" not in repository:
        return {"repository": location}
    return {"repository": repository, "ref": ref}


def predicate(context: BuildContext, sbom: tuple[str, bytes, str] | None) -> dict[str, Any]:
    """``sbom``: the byproduct's file name, content and media type."""
    external: dict[str, Any] = {}
    dependencies = []
    if context.source_uri:
        external["source"] = _split_source(context.source_uri)
        dependency: dict[str, Any] = {"uri": context.source_uri}
        if context.source_digest:
            dependency["digest"] = dict(context.source_digest)
        dependencies.append(dependency)
    metadata: dict[str, str] = {}
    if context.invocation_id:
        metadata["invocationId"] = context.invocation_id
    if context.started_on:
        metadata["startedOn"] = _rfc3339(context.started_on)
    if context.finished_on:
        metadata["finishedOn"] = _rfc3339(context.finished_on)
    run_details: dict[str, Any] = {"builder": {"id": context.builder_id}}
    if metadata:
        run_details["metadata"] = metadata
    if sbom is not None:
        name, content, media_type = sbom
        sbom_digests = {
            "sha256": hashlib.sha256(content).hexdigest(),
            "sha512": hashlib.sha512(content).hexdigest(),
        }
        run_details["byproducts"] = [{"name": name, "digest": sbom_digests, "mediaType": media_type}]
    build_definition: dict[str, Any] = {"buildType": BUILD_TYPE, "externalParameters": external}
    if dependencies:
        build_definition["resolvedDependencies"] = dependencies
    return {"buildDefinition": build_definition, "runDetails": run_details}


def statement(
    artifacts: Sequence[Path],
    context: BuildContext,
    sbom: Path | tuple[str, bytes] | tuple[str, bytes, str] | None = None,
) -> bytes:
    """The statement's bytes: what gets signed, exactly as written. An SBOM given as a file
    must describe one of the artifacts; one given as (name, content[, media type]) is
    sbomgen's own (SPDX JSON unless the media type says otherwise)."""
    from sigstore.dsse import DigestSet, StatementBuilder, Subject

    artifact_digests = {path: digests(path) for path in artifacts}
    byproduct = (
        describing_sbom(sbom, artifact_digests)
        if isinstance(sbom, Path)
        else None
        if sbom is None
        else (sbom[0], sbom[1], sbom[2] if len(sbom) == 3 else SPDX_JSON)
    )
    subjects = [Subject(name=path.name, digest=DigestSet(root=d)) for path, d in artifact_digests.items()]  # type: ignore[arg-type]
    built = (
        StatementBuilder()
        .subjects(subjects)
        .predicate_type(SLSA_PROVENANCE_V1)
        .predicate(predicate(context, byproduct))
        .build()
    )
    document = parse_json(built._contents, "the provenance statement", OutputValidationError)
    check_against_schema(document)
    return (json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n").encode()


SPDX_JSON = "application/spdx+json"
MAX_SBOM_BYTES = 256 << 20


def describing_sbom(path: Path, artifacts: dict[Path, dict[str, str]]) -> tuple[str, bytes, str]:
    """The SBOM at ``path`` as a byproduct (name, content, media type), if it describes one
    of ``artifacts``: its described package's checksums (every one sbomgen computes) and file
    name, or its CycloneDX subject's hashes, are the artifact's. Otherwise ContentError."""
    from ..documents import cyclonedx, sbom

    content = read_bounded(path, "--sbom", UsageError, MAX_SBOM_BYTES)
    document = sbom.load(content, str(path), ContentError)
    if isinstance(document, cyclonedx.Bom):
        xml = content.lstrip()[:1] == b"<"
        media_type = "application/vnd.cyclonedx+xml" if xml else "application/vnd.cyclonedx+json"
    else:
        media_type = SPDX_JSON
    claims = sbom.subject_claims(document)
    for name, found in claims:
        for artifact, ours in artifacts.items():
            known = {alg: value for alg, value in found.items() if alg in ours}
            if name not in (None, artifact.name) or (not known and name is None):
                continue
            if all(ours[alg] == value for alg, value in known.items()):
                return path.name, content, media_type
    names = ", ".join(a.name for a in artifacts)
    if not claims:
        raise ContentError(f"--sbom: {path} describes no package, so not {names}")
    raise ContentError(
        f"--sbom: {path} describes another artifact than {names} (its file name or checksums differ)"
    )


def schema_dir() -> Path:
    """schemas/ inside an installed package, else at the top of a source checkout."""
    packaged = Path(str(resources.files("sbomgen"))) / "schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "schemas"


def schema_problems(document: dict[str, Any]) -> list[str]:
    """Where a statement and, for SLSA provenance, its predicate depart from schemas/."""
    import jsonschema

    problems = []
    for name, instance in (
        ("intoto-statement-v1", document),
        ("slsa-provenance-v1", document.get("predicate")),
    ):
        if name == "slsa-provenance-v1" and document.get("predicateType") != SLSA_PROVENANCE_V1:
            continue
        path = schema_dir() / f"{name}.schema.json"
        schema = parse_json(path.read_bytes(), str(path), OutputValidationError)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        problems += [
            f"{name}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]
    return problems


def check_against_schema(document: dict[str, Any]) -> None:
    """A statement sbomgen made, against schemas/: a failure is sbomgen's own bug (exit 5)."""
    problems = schema_problems(document)
    if problems:
        raise OutputValidationError(
            "the provenance statement does not match its schema: " + "; ".join(problems[:3])
        )
