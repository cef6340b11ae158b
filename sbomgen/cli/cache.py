"""The index metadata cache: warm, export, import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import (
    Command,
    cache_dir_option,
    cache_files,
    enrich_options,
    exit_codes,
    index_options,
    info,
    limit_options,
    limits,
    makes_folder,
    once_option,
    output_option,
    output_targets,
    signer_options,
    verbosity_options,
    warn,
)


@click.group(epilog=exit_codes(8))
def cache() -> None:
    """The index metadata cache, for builds without network.

    \b
    On a machine with network:    sbomgen cache warm Python-3.13.5.tar.xz
                                  sbomgen cache export --sign key:cache.pem -o index-cache.json
    On the machine without:       sbomgen cache import --key cache.pub index-cache.json
                                  sbomgen tarball --offline Python-3.13.5.tar.xz
    """


@cache.command(cls=Command, epilog=exit_codes(1, 3, 4, 7, 8))
@verbosity_options
@click.argument("artifacts", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_options
@limit_options
def warm(artifacts: tuple[Path, ...], **index_options: Any) -> None:
    """Look up every package of ARTIFACTS on the index and store it in the cache."""
    from dataclasses import replace

    from ..enrich.lookup import enrich
    from ..scan import scan

    reading = limits(index_options)
    options = replace(enrich_options(**index_options), strict=True)
    if options.offline:
        raise click.UsageError("warm fills the cache from the index: it cannot be --offline")
    for artifact in artifacts:
        inventory, notices = enrich(scan(artifact, limits=reading), options)
        for message in notices:
            warn(message)
        info(f"cached the index metadata of {artifact.name}")


@cache.command("export", cls=Command, epilog=exit_codes(6, 8, 10))
@verbosity_options
@click.argument("file", required=False, type=click.Path(path_type=Path))
@output_option("The file to write ('-': stdout).")
@cache_dir_option
@once_option(
    "--sign",
    "signing",
    metavar="sigstore|key:PATH",
    help="Sign the export keylessly with Sigstore, or with a local ECDSA P-256 / Ed25519 PEM key "
    "(a DSSE envelope). Default: unsigned, importable only with --allow-unsigned.",
)
@once_option("--identity-token", metavar="JWT", help="OIDC token for keyless signing. Default: from the CI.")
@click.option("--staging", is_flag=True, help="Sign with Sigstore's staging instance.")
@once_option(
    "--trust-config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A Sigstore client trust configuration (trusted root + signing config) of another instance.",
)
def export_(file: Path | None, output: str | None, cache_dir: Path | None, **options: Any) -> None:
    """Write every cache entry to -o FILE (JSON, with checksums), to carry to another machine.

    With --sign, the export is signed, and `cache import` verifies it before it reads a
    byte of it. A signed export is a DSSE envelope (key:PATH) or a Sigstore bundle
    (sigstore) whose payload is an in-toto statement, predicate type
    urn:x-sbomgen:index-cache-export:v1, carrying the export.
    """
    from ..enrich import default_cache_dir
    from ..provenance.signing import Signing
    from ..workflows.cache_transfer import export_cache
    from ..write.output import check_outputs, is_stdout, write_atomic

    if (file is None) == (output is None):
        raise click.UsageError("name the export once: -o FILE")
    how = Signing(options["signing"], options["identity_token"], options["staging"], options["trust_config"])
    if how.method is None and (how.identity_token or how.staging or how.trust_config):
        raise click.UsageError("--identity-token, --staging and --trust-config belong to --sign sigstore")
    output = output if output is not None else str(file)
    (target,) = output_targets(output, ["index-cache.json"])
    check_outputs(
        [target], [*cache_files(cache_dir), how.key, how.trust_config], create_folders=makes_folder(output)
    )
    write_atomic(target, export_cache(cache_dir or default_cache_dir(), how))
    if not is_stdout(target):
        info(f"exported the cache to {target}" + (" (signed)" if how.method else ""))


@cache.command(
    "import",
    cls=Command,
    epilog=exit_codes(
        8,
        c8="the export cannot be used: its signature, signer, format or checksums do not verify, "
        "or it is unsigned and --allow-unsigned is not given (or a signer option is); the cache cannot "
        "be used",
    ),
)
@verbosity_options
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@cache_dir_option
@signer_options()
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Import an unsigned export too; its entries are marked, and every SBOM made from them says so.",
)
def import_(file: Path, cache_dir: Path | None, allow_unsigned: bool, **trust: Any) -> None:
    """Verify FILE's signature and signer, check it (format, checksums) completely, then add
    its entries to the cache.

    A signed export is verified with --key PUB.pem, or --identity ID (or
    --identity-regexp) and --issuer URL, before a byte of what it signs is read; an
    unsigned one is imported only with --allow-unsigned and no signer option. Nothing is added unless all of
    FILE is accepted.
    """
    from ..enrich import default_cache_dir
    from ..provenance.verify import Request
    from ..workflows.cache_transfer import import_cache

    asked = any(value not in (None, False) for value in trust.values())
    request = Request(**trust) if asked else None
    count, signed = import_cache(file, cache_dir or default_cache_dir(), request, allow_unsigned)
    info(f"imported {count} entries from {file}" + ("" if signed else ", marked unsigned"))
