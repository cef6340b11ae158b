"""The commands that make SBOMs: tarball, wheel, sdist, regenerate, release."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .common import (
    BUILD_FIELDS,
    SIGNER_FIELDS,
    CommandSteps,
    cache_files,
    command,
    cyclonedx_version,
    enrich_options,
    exit_codes,
    exit_now,
    format_option,
    formats,
    index_options,
    info,
    limit_options,
    limits,
    make_folder,
    makes_folder,
    output_of,
    output_option,
    output_targets,
    provenance_options,
    signer_options,
    signing,
    signing_options,
    warn,
)

_MAKES = (1, 3, 4, 6, 7, 8)
_OUTPUT_HELP = (
    "Where to write the SBOM: a file, '-' for stdout, or a folder (one that exists, or a path "
    "ending in '/'), which several formats need. Default: NAME.spdx.json (or .cdx.json, …) here."
)


class _Creator(click.ParamType):
    """A --creator, checked as the command line is read; SBOMGEN_CREATOR holds one a line."""

    name = "creator"
    envvar_list_splitter = "\n"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from ..documents.creators import parse_creator

        parse_creator(value)  # UsageError: one line, exit 2
        return str(value).strip()

    def split_envvar_value(self, rv: str) -> list[str]:
        return [line for line in rv.splitlines() if line.strip()]


def _creator_option(command: Any) -> Any:
    return click.option(
        "--creator",
        "creators",
        multiple=True,
        type=_Creator(),
        metavar="ACTOR",
        envvar="SBOMGEN_CREATOR",
        show_envvar=True,
        help="Who made the SBOM: 'Organization: NAME (https://URL)', 'Person: NAME <E-MAIL>' (the "
        "contact an e-mail address or an http(s) URL; BSI TR-03183-2 asks for one) or 'Tool: NAME'. "
        "Repeatable; the environment variable holds one a line. sbomgen names itself as the tool.",
    )(command)


def _checksum_option(command: Any) -> Any:
    return click.option(
        "--checksum",
        "extra_checksums",
        multiple=True,
        type=click.Choice(["sha512"], case_sensitive=False),
        envvar="SBOMGEN_CHECKSUM",
        show_envvar=True,
        help="Add a checksum algorithm to every file and package (SHA1 and SHA256 are always given).",
    )(command)


def _sbom_options(output_format: str, options: dict[str, Any], **more: Any) -> Any:
    from ..workflows.sbom import SbomOptions

    return SbomOptions(
        formats=formats(output_format),
        cyclonedx_version=cyclonedx_version(),
        extra_checksums=tuple(c.upper() for c in options.pop("extra_checksums", ())),
        creators=tuple(options.pop("creators", ())),
        limits=limits(options),
        index=enrich_options(**options),
        **more,
    )


def _write(made: Any, targets: dict[str, str]) -> None:
    """Every document of a job, each to its target, with the job's notices first."""
    from ..write.output import is_stdout, write_atomic

    for message in made.notices:
        warn(message)
    inventory = made.inventory
    for output_format, document in made.documents.items():
        target = targets[output_format]
        if not is_stdout(target):
            make_folder(Path(target).parent)
        write_atomic(target, document.pieces())
        if not is_stdout(target):
            info(f"wrote {target}: {len(inventory.components)} packages, {len(inventory.files)} files")


def _sbom_targets(artifact: Path, output_format: str, output: str | None) -> dict[str, str]:
    from ..workflows.sbom import FORMATS, SbomOptions

    wanted = SbomOptions(formats=formats(output_format)).formats  # refuses unknown formats first
    name = artifact.resolve().name
    return dict(zip(wanted, output_targets(output, [f"{name}{FORMATS[f]}" for f in wanted]), strict=True))


@command(epilog=exit_codes(*_MAKES))
@click.argument("artifact", type=click.Path(exists=True, path_type=Path))
@output_option(_OUTPUT_HELP)
@format_option
@_checksum_option
@click.option(
    "--allow-mismatch",
    is_flag=True,
    help="Warn, instead of failing, when a file listed in Misc/sbom.spdx.json differs from the artifact.",
)
@_creator_option
@index_options
@limit_options
def tarball(
    artifact: Path, output: str | None, output_format: str, allow_mismatch: bool, **options: Any
) -> None:
    """Write the SBOM of a CPython source release (SPDX 2.3 JSON by default).

    ARTIFACT is a .tgz, .tar.gz, .tar.xz, .tar.bz2 or .zip source archive, or an unpacked
    source directory. It is read once, as a stream; nothing is extracted to disk. What the
    SBOM says of each file waits in the temporary folder (TMPDIR; about 1 KB a file), not
    in memory.

    The SBOM lists every file with SHA1 and SHA256, the packages CPython declares in
    Misc/sbom.spdx.json (whose file checksums are verified against the archive), the
    bundled pip wheel and the packages pip vendors. Concluded licenses and copyright text
    come from the license files the artifact carries for each component: a license only
    where the whole file is exactly one SPDX License List text (else NOASSERTION).
    created comes from SOURCE_DATE_EPOCH when set, else from the archive's newest member,
    so reruns are byte-identical.

    Download locations, index checksums and declared licenses of pip and its vendored
    packages come from the package index, through a verified cache that is used alone
    with --offline, and automatically when the index cannot be reached.
    """
    from ..workflows.sbom import source_sbom
    from ..write.output import check_outputs

    targets = _sbom_targets(artifact, output_format, output)
    check_outputs(
        targets.values(), [artifact, *cache_files(options["cache_dir"])], create_folders=makes_folder(output)
    )
    sbom_options = _sbom_options(output_format, options, allow_mismatch=allow_mismatch)
    _write(source_sbom(artifact, sbom_options, CommandSteps(), process_ends=True), targets)


@command(epilog=exit_codes(*_MAKES))
@click.argument("wheel_path", metavar="WHEEL", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@output_option(_OUTPUT_HELP + " With --embed: the new wheel, or the folder for it.")
@format_option
@_checksum_option
@click.option(
    "--embed", is_flag=True, help="Write a copy of the wheel carrying its SBOM (PEP 770), RECORD updated."
)
@_creator_option
@index_options
@limit_options
def wheel(wheel_path: Path, output: str | None, output_format: str, embed: bool, **options: Any) -> None:
    """The SBOM of a wheel: the project from its METADATA, every file checked against
    RECORD, vendored packages, and the components of SBOMs it already carries (PEP 770)."""
    from ..workflows.sbom import distribution_sbom, embedded_wheel
    from ..write.output import check_outputs, is_stdout, write_atomic

    if not embed:
        targets = _sbom_targets(wheel_path, output_format, output)
        check_outputs(
            targets.values(),
            [wheel_path, *cache_files(options["cache_dir"])],
            create_folders=makes_folder(output),
        )
        _write(distribution_sbom(wheel_path, _sbom_options(output_format, options), CommandSteps()), targets)
        return
    if output is None:
        raise click.UsageError("--embed needs -o: the folder for the new wheel (not the wheel's own)")
    if not output.endswith(".whl"):
        output = output.rstrip("/" + os.sep) + os.sep  # a folder, made when missing
    (target,) = output_targets(output, [wheel_path.name])
    check_outputs(
        [target], [wheel_path, *cache_files(options["cache_dir"])], create_folders=makes_folder(output)
    )
    data, made = embedded_wheel(wheel_path, _sbom_options("spdx-json", options), CommandSteps())
    for message in made.notices:
        warn(message)
    if not is_stdout(target):
        make_folder(Path(target).parent)
    write_atomic(target, data)
    info(f"wrote {target} with its SBOM at *.dist-info/sboms/")


@command(epilog=exit_codes(*_MAKES))
@click.argument("sdist_path", metavar="SDIST", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@output_option(_OUTPUT_HELP)
@format_option
@_checksum_option
@_creator_option
@index_options
@limit_options
def sdist(sdist_path: Path, output: str | None, output_format: str, **options: Any) -> None:
    """The SBOM of a source distribution: the project from PKG-INFO, every file, and
    vendored packages."""
    from ..workflows.sbom import distribution_sbom
    from ..write.output import check_outputs

    targets = _sbom_targets(sdist_path, output_format, output)
    check_outputs(
        targets.values(),
        [sdist_path, *cache_files(options["cache_dir"])],
        create_folders=makes_folder(output),
    )
    _write(distribution_sbom(sdist_path, _sbom_options(output_format, options), CommandSteps()), targets)


@command(epilog=exit_codes(1, 3, 4, 6))
@click.argument("upstream", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--tree", type=click.Path(file_okay=False, exists=True, path_type=Path), help="The modified source tree."
)
@click.option(
    "--tarball", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Or: its archive."
)
@click.option(
    "--system-package",
    "system_packages",
    multiple=True,
    metavar="NAME=VERSION[,purl=PURL][,supplier=SUPPLIER]",
    help="A bundled library replaced by the system's copy (repeatable), e.g. "
    "expat=2.7.1,purl=pkg:deb/debian/libexpat1@2.7.1,supplier=Debian. Without purl and supplier, "
    "the package has no PURL and upstream's originator as supplier.",
)
@output_option(_OUTPUT_HELP)
@format_option
@_creator_option
@limit_options
def regenerate(
    upstream: Path,
    tree: Path | None,
    tarball: Path | None,
    system_packages: tuple[str, ...],
    output: str | None,
    output_format: str,
    **options: Any,
) -> None:
    """Write the SBOM of a modified tree, derived from UPSTREAM (an SPDX JSON SBOM), offline.

    Packages whose files are gone are dropped, with what they vendor; changed and added
    files are recorded; each difference from upstream is stated in an annotation, and the
    upstream document is referenced with its checksum. What upstream says about the
    packages that remain is kept, so no network is used.
    """
    from ..workflows.regenerate import regenerated_sbom
    from ..write.output import check_outputs, is_stdout, write_atomic

    if (tree is None) == (tarball is None):
        raise click.UsageError("give exactly one of --tree and --tarball")
    source = tree if tree is not None else tarball
    assert source is not None
    targets = _sbom_targets(source, output_format, output)
    check_outputs(targets.values(), [upstream, source], create_folders=makes_folder(output))
    made = regenerated_sbom(
        upstream,
        source,
        system_packages,
        formats(output_format),
        CommandSteps(),
        limits(options),
        cyclonedx_version(),
        tuple(options.pop("creators", ())),
    )
    for message in made.notices:
        warn(message)
    for output_format, document in made.documents.items():
        if not is_stdout(targets[output_format]):
            make_folder(Path(targets[output_format]).parent)
        write_atomic(targets[output_format], document.pieces())
        if not is_stdout(targets[output_format]):
            info(
                f"wrote {targets[output_format]}: {len(made.inventory.changes)} changes from {upstream.name}"
            )


@command(
    epilog=exit_codes(
        *_MAKES,
        9,
        10,
        c1="release --check: the folder changed; otherwise the process reading an artifact was killed",
        c9="release --check: the release attestation's signature or signer did not verify",
    )
)
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--check",
    "check_manifest",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Compare FOLDER with this manifest, or this signed release attestation (verified first, "
    "with --key or --identity and --issuer), instead: name every file added, removed or changed (exit 1).",
)
@signer_options(trust_root=False)
@click.option(
    "--source",
    type=click.Path(exists=True, path_type=Path),
    help="The source tarball (or tree) the Windows artifacts were built from. Default: the one in FOLDER.",
)
@output_option("The folder to write into (one that exists, or a path ending in '/'). Default: FOLDER.")
@format_option
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    envvar="SBOMGEN_JOBS",
    show_envvar=True,
    help="Worker processes. Default: one per core.",
)
@_creator_option
@provenance_options
@signing_options
@index_options
@limit_options
def release(
    folder: Path,
    check_manifest: Path | None,
    source: Path | None,
    output: str | None,
    output_format: str,
    jobs: int | None,
    output_dir: Path | None,
    **options: Any,
) -> None:
    """SBOMs, provenance and attestations for every artifact in a release FOLDER, and a
    signed list of it.

    Source tarballs (Python-X.Y.Z.tgz, .tar.xz) and Windows installers and embeddable
    zips are found by name and processed in parallel worker processes. Written beside
    them (or into -o): ARTIFACT.spdx.json (and the other formats asked for), the
    provenance, the SBOM attestation of each JSON SBOM (ARTIFACT.spdx.intoto.json,
    .cdx.intoto.json), release-attestation.intoto.json (in-toto Release v0.2: every file of
    the release and every file written, with SHA-256 and SHA-512), all signed as --sign
    says, and release-manifest.json with every file's size and SHA256. With --check,
    nothing is written: the folder is compared with a manifest or a release attestation
    (whose signature and signer are verified first) and every file added, removed or
    changed is named.
    """
    from ..errors import UsageError
    from ..workflows import release as rel
    from ..workflows.sbom import SbomOptions
    from ..workflows.trust import build_context
    from ..write.output import check_outputs, write_atomic

    checking = {k: options.pop(k) for k in SIGNER_FIELDS}
    if check_manifest is not None:
        drift, what = rel.check_any(check_manifest, folder, _check_request(checking, options))
        for mark, names in (("added", drift.added), ("removed", drift.removed), ("changed", drift.changed)):
            for name in names:
                click.echo(f"{mark}: {name}")
        if drift.empty:
            click.echo(f"{folder}: as the {what} records it")
            return
        exit_now(1)
    if any(checking.values()):
        given = ", ".join(f"--{k.replace('_', '-')}" for k, v in checking.items() if v)
        raise UsageError(f"{given}: only for the release attestation given to --check")
    how = signing(options)
    wanted = SbomOptions(formats=formats(output_format)).formats
    sources, windows, source, names = rel.release_outputs(folder, source, how.method, how.suffix, wanted)
    output = output_of(output, output_dir)
    if output is not None and not output.endswith(("/", "\\")) and not Path(output).is_dir():
        output_targets(output, [*names, rel.MANIFEST])  # says why -o must be a folder
    out = Path(output) if output is not None else folder
    targets = [out / name for name in [*names, rel.MANIFEST]]
    check_outputs(
        targets,
        [*sources, *windows, source, how.key, how.trust_config, *cache_files(options["cache_dir"])],
        create_folders=output is None or makes_folder(output),
    )
    rel.contents(folder, out / rel.MANIFEST)  # what the manifest would refuse fails before the work
    context = build_context(**{k: options.pop(k) for k in BUILD_FIELDS})
    sbom_options = _sbom_options(output_format, options)
    made = rel.make_release(folder, source, sbom_options, context, how, jobs, CommandSteps(), out)
    for message in made.notices:
        warn(message)
    make_folder(out)
    for name, body in made.outputs.items():
        write_atomic(out / name, body)
    written = {} if out.resolve() == folder.resolve() else {name: out / name for name in made.outputs}
    write_atomic(out / rel.MANIFEST, rel.manifest(folder, out / rel.MANIFEST, written))
    count = len(made.artifacts)
    info(
        f"wrote {count} SBOMs ({', '.join(wanted)}), {count} provenance files, SBOM attestations, "
        f"the release attestation and {out / rel.MANIFEST}"
    )


def _check_request(checking: dict[str, Any], options: dict[str, Any]) -> Any:
    """What ``release --check`` must establish of a release attestation's signer; None when
    no signer option was given."""
    from ..provenance.verify import Request

    if not any(checking.values()):
        return None
    return Request(
        identity=checking["identity"],
        identity_regexp=checking["identity_regexp"],
        issuer=checking["issuer"],
        key=checking["key"],
        offline=options["offline"] and checking["key"] is None,
        staging=options["staging"],
        trusted_root=checking["trusted_root"],
        trust_config=options["trust_config"],
    )
