"""Provenance, attestations and signatures of files: what ``sbomgen provenance``,
``sbomgen attest`` and ``sbomgen sign`` make."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError
from ..provenance.signing import Signing
from ..provenance.statement import BuildContext
from .steps import SILENT, Steps

MAX_SIGNED_BYTES = 4 << 30  # a file to sign is read whole: the largest release file is well under it


def provenance_names(artifacts: Sequence[Path], signing: Signing, single: bool) -> list[str]:
    """The file names ``provenance`` makes: one per artifact, or release…. for ``single``."""
    stems = ["release"] if single else [a.name for a in artifacts]
    return [f"{stem}{signing.suffix}" for stem in stems]


def provenance(
    artifacts: Sequence[Path],
    context: BuildContext,
    signing: Signing | None = None,
    sbom: Path | None = None,
    single: bool = False,
    steps: Steps = SILENT,
) -> list[tuple[str, bytes]]:
    """SLSA v1 provenance (an in-toto statement) for each artifact, or one naming them all
    (``single``), recording ``sbom`` as a byproduct, signed as ``signing`` says: (file
    name, bytes) of each, made and signed all or none."""
    from ..provenance.statement import statement

    signing = signing or Signing()
    groups = [list(artifacts)] if single else [[a] for a in artifacts]
    stems = ["release"] if single else [group[0].name for group in groups]
    with steps.step("Provenance"):
        statements = [statement(group, context, sbom) for group in groups]
    with steps.step("Signing"):
        return signing.sign_statements(stems, statements)


def sbom_attestation(artifact: Path, sbom: Path) -> tuple[str, bytes]:
    """The unsigned SBOM attestation of ``artifact``: its file name's stem (X.tar.xz.spdx)
    and statement, whose predicate is the SBOM; ContentError when the SBOM is not JSON or
    does not describe the artifact."""
    from ..documents.source import read_bounded
    from ..provenance.attest import sbom_statement, sbom_stem
    from ..provenance.statement import MAX_SBOM_BYTES, digests

    content = read_bounded(sbom, "--sbom", UsageError, MAX_SBOM_BYTES)
    predicate_type, body = sbom_statement(artifact.name, digests(artifact), content, str(sbom))
    return sbom_stem(artifact.name, predicate_type), body


def sign(files: Sequence[Path], signing: Signing, steps: Steps = SILENT) -> list[bytes]:
    """A Sigstore message-signature bundle (JSON) of each file, keylessly."""
    from ..documents.source import read_bounded
    from ..errors import UsageError
    from ..provenance import signing as sig

    token = sig.identity_token(signing.identity_token)
    contents = [read_bounded(path, str(path), UsageError, MAX_SIGNED_BYTES) for path in files]
    with steps.step("Signing"):
        return sig.sign_keyless(
            contents, False, token, sig.trust_config(signing.staging, signing.trust_config)
        )


def build_context(
    builder_id: str | None = None,
    invocation_id: str | None = None,
    source_uri: str | None = None,
    source_digest: str | None = None,
    started_on: str | None = None,
    finished_on: str | None = None,
) -> BuildContext:
    """The build, from what is given first, then the CI environment; nothing invented.
    ``finished_on`` defaults to SOURCE_DATE_EPOCH, else now."""
    from ..provenance.statement import from_environment, parse_source_digest, parse_time

    found = from_environment()
    context = BuildContext(
        builder_id=builder_id or found.get("builder_id") or "",
        invocation_id=invocation_id or found.get("invocation_id"),
        source_uri=source_uri or found.get("source_uri"),
        source_digest=parse_source_digest(source_digest) if source_digest else found.get("source_digest", {}),
        started_on=parse_time(started_on, "--started-on") if started_on else found.get("started_on"),
        finished_on=parse_time(finished_on, "--finished-on") if finished_on else _now(),
    )
    if not context.builder_id:
        raise UsageError("no builder id: run in GitHub Actions or GitLab CI, or pass --builder-id")
    return context


def _now() -> datetime.datetime:
    from ..scan import source_date_epoch

    epoch = source_date_epoch()
    if epoch is not None:
        return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc)
