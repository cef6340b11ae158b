"""The commands of the trust chain: provenance, attest, sign, verify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import (
    BUILD_FIELDS,
    CommandSteps,
    command,
    exit_codes,
    info,
    make_folder,
    makes_folder,
    once_option,
    output_of,
    output_option,
    output_targets,
    provenance_options,
    signer_options,
    signing,
    signing_options,
)

_FOLDER_HELP = (
    "Where to write: a folder (one that exists, or a path ending in '/'), or with one output "
    "a file ('-': stdout). Default: the current folder."
)


@command(epilog=exit_codes(3, 4, 6, 10))
@click.argument(
    "artifacts", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--sbom",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The SBOM, recorded as a byproduct.",
)
@click.option("--single", is_flag=True, help="One statement naming every artifact (release.intoto.json).")
@output_option(_FOLDER_HELP)
@provenance_options
@signing_options
def provenance(
    artifacts: tuple[Path, ...],
    sbom: Path | None,
    single: bool,
    output: str | None,
    output_dir: Path | None,
    **options: Any,
) -> None:
    """Write SLSA v1 provenance (an in-toto statement) for each of ARTIFACTS, signed as --sign says.

    Builder, invocation and source are read from the CI environment (GitHub Actions,
    GitLab CI) or given here; nothing is invented. Nothing is written unless every
    statement was made and signed.
    """
    from ..workflows import trust
    from ..workflows.trust import build_context
    from ..write.output import check_outputs, is_stdout, write_atomic

    how = signing(options)
    names = trust.provenance_names(artifacts, how, single)
    output = output_of(output, output_dir)
    targets = output_targets(output, names)
    check_outputs(targets, [*artifacts, sbom, how.key, how.trust_config], create_folders=makes_folder(output))
    context = build_context(**{k: options.pop(k) for k in BUILD_FIELDS})
    made = trust.provenance(artifacts, context, how, sbom, single, CommandSteps())
    for target, (_, body) in zip(targets, made, strict=True):
        if not is_stdout(target):
            make_folder(Path(target).parent)
        write_atomic(target, body)
        if not is_stdout(target):
            info(f"wrote {target}")


@command(epilog=exit_codes(4, 6, 10, c4="the SBOM is not JSON, or does not describe ARTIFACT"))
@click.argument("artifact", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@once_option(
    "--sbom",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The SBOM of ARTIFACT: SPDX 2.3 JSON, SPDX 3 JSON-LD or CycloneDX JSON.",
)
@click.option(
    "--sign",
    "signing",
    metavar="sigstore|key:PATH",
    envvar="SBOMGEN_SIGN",
    show_envvar=True,
    help="Sign keylessly with Sigstore (a bundle, ….intoto.sigstore.json) or with a local ECDSA "
    "P-256 / Ed25519 PEM key (a DSSE envelope, ….intoto.json). Default: the unsigned statement.",
)
@output_option("Where to write: a file ('-': stdout) or a folder. Default: the current folder.")
@signing_options
def attest(artifact: Path, sbom: Path, output: str | None, **options: Any) -> None:
    """Write the SBOM attestation of ARTIFACT: an in-toto statement whose subject is
    ARTIFACT (SHA-256, SHA-512) and whose predicate is the SBOM, signed as --sign says.

    The predicate type is the SBOM's format: https://spdx.dev/Document/v2.3,
    https://spdx.dev/Document/v3 or https://cyclonedx.org/bom. The SBOM must describe
    ARTIFACT (a checksum it records for what it describes is ARTIFACT's). Written as
    ARTIFACT.spdx.intoto.json (.spdx3, .cdx; .intoto.sigstore.json when keyless).
    """
    from ..workflows import trust
    from ..write.output import check_outputs, is_stdout, write_atomic

    how = signing(options)
    stem, statement = trust.sbom_attestation(artifact, sbom)
    (target,) = output_targets(output, [f"{stem}{how.suffix}"])
    check_outputs([target], [artifact, sbom, how.key, how.trust_config], create_folders=makes_folder(output))
    ((_, body),) = how.sign_statements([stem], [statement])
    if not is_stdout(target):
        make_folder(Path(target).parent)
    write_atomic(target, body)
    if not is_stdout(target):
        info(f"wrote {target}")


@command(epilog=exit_codes(6, 10))
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@output_option(_FOLDER_HELP)
@signing_options
def sign(files: tuple[Path, ...], output: str | None, output_dir: Path | None, **options: Any) -> None:
    """Sign FILES keylessly with Sigstore: a message-signature bundle FILE.sigstore for each.

    Any file: a tarball, its SBOM, its provenance (CPython publishes .sigstore files
    beside its release files). Nothing is written unless every file was signed.
    """
    from ..workflows import trust
    from ..write.output import check_outputs, is_stdout, write_atomic

    how = signing({"signing": "sigstore", **options})
    output = output_of(output, output_dir)
    targets = output_targets(output, [f"{p.name}.sigstore" for p in files])
    check_outputs(targets, [*files, how.trust_config], create_folders=makes_folder(output))
    bundles = trust.sign(files, how, CommandSteps())
    for target, bundle in zip(targets, bundles, strict=True):
        if not is_stdout(target):
            make_folder(Path(target).parent)
        write_atomic(target, bundle)
        if not is_stdout(target):
            info(f"wrote {target}")


@command(
    epilog=exit_codes(
        6,
        9,
        c6="--write-sbom could not be written",
        c9="a check failed, or could not be made (the line says which)",
    )
)
@click.argument("artifact", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@once_option(
    "--bundle",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A Sigstore bundle (DSSE or message signature), a key-signed DSSE envelope, or a statement.",
)
@signer_options()
@once_option(
    "--identities",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A map of CPython minor series to release managers' identities and issuers, in place "
    "of the one sbomgen ships (used for a CPython release file when no signer option is given).",
)
@once_option(
    "--predicate-type",
    metavar="URI",
    help="The predicate type the statement must have. Default: SLSA Provenance v1, for bundles "
    "that hold a statement; given with a message signature, the check fails.",
)
@click.option(
    "--sbom-attestation",
    is_flag=True,
    help="The statement must be an SBOM attestation (predicate type SPDX 2.3, SPDX 3 or CycloneDX) "
    "whose SBOM describes ARTIFACT.",
)
@once_option(
    "--write-sbom",
    metavar="PATH",
    help="When every check passed, write the SBOM an SBOM attestation carries to the file PATH.",
)
@once_option("--builder-id", metavar="URI", help="Require this builder id in the provenance.")
@once_option("--source-uri", metavar="URI", help="Require this source among the resolved dependencies.")
@once_option(
    "--sbom",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Require the provenance to record this SBOM file (its SHA256) as a byproduct, or the "
    "SBOM attestation to carry it.",
)
def verify(artifact: Path, bundle: Path, write_sbom: str | None, **request: Any) -> None:
    """Verify ARTIFACT against a signature bundle.

    The options say which checks are made: the bundle is read and is of the kind the
    signer option verifies; its signature (Sigstore: certificate chain, transparency log;
    or --key); the signer's identity and issuer (for a CPython release file such as
    Python-3.13.5.tar.xz, given no signer option: its release manager's, from the map sbomgen
    ships or --identities); that it is about ARTIFACT; the predicate type; that an SBOM
    attestation's SBOM describes ARTIFACT; and, when given, builder id, source and SBOM. A
    check asked for that cannot apply to the bundle fails. Every check made is printed
    (ok / FAILED); exit 0 only when all passed, else exit 9 with one line naming the first
    that failed.
    """
    import json

    from ..errors import UsageError, VerificationFailed
    from ..provenance.attest import SBOM_PREDICATES
    from ..provenance.verify import Request
    from ..provenance.verify import verify as run
    from ..write.output import check_outputs, is_stdout, write_atomic

    asked = Request(**request)
    if write_sbom is not None:
        if not (asked.sbom_attestation or asked.predicate_type in SBOM_PREDICATES):
            raise UsageError("--write-sbom needs --sbom-attestation (or an SBOM --predicate-type)")
        if is_stdout(write_sbom):
            raise UsageError("--write-sbom -: stdout carries the checks' lines; name a file")
        check_outputs([write_sbom], [artifact, bundle, asked.sbom, asked.key])
    result = run(artifact, bundle, asked)
    for outcome in result.outcomes:
        click.echo(f"{'ok' if outcome.passed else 'FAILED'}  {outcome}")
    failure = result.first_failure
    if not result.ok:
        raise VerificationFailed(str(failure) if failure else "no check was made")
    if write_sbom is not None and result.statement is not None:
        write_atomic(write_sbom, (json.dumps(result.statement.predicate, indent=2) + "\n").encode())
        info(f"wrote {write_sbom}")
