"""Provenance and signatures of files: what ``sbomgen provenance`` and ``sbomgen sign`` make."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
