"""The command line: thin wiring over the Python API."""

from __future__ import annotations

import gc
import io
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import SbomgenError

EXIT_CODES = """\b
Exit codes:
  0  success
  1  diff, check: the SBOMs differ; validate: a document is invalid; release --check:
     the folder changed; otherwise the process reading the artifact was killed
  2  bad command line, or an output that is one of the inputs
  3  the input is not a readable archive, or holds an unsafe member
  4  the artifact's own metadata is invalid or contradicts its contents
  5  a bug in sbomgen (the document it made failed validation, or an internal
     error): please report it; SBOMGEN_DEBUG=1 shows the traceback
  6  the output, or a temporary file in TMPDIR, could not be written (only regular
     files are replaced: not a device, FIFO, socket, folder or symbolic link)
  7  index metadata is missing (--strict), invalid, or contradicts the artifact
  8  the metadata cache or a cache export cannot be used
  9  verification failed (the line says which check)
 10  signing could not be done (identity, trust root, services)"""


MAX_SIGNED_BYTES = 4 << 30  # a file to sign is read whole: the largest release file is well under it


def _once(ctx: click.Context, param: click.Parameter, values: tuple[Any, ...]) -> Any:
    """The value of an option that may be given once. Given again (or through an alias), it
    must say the same: a later value silently winning would undo an earlier check."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        shown = ", ".join(repr(str(value)) for value in distinct)
        raise click.BadParameter(f"given more than once with different values ({shown}); give it once")
    return distinct[0] if distinct else None


def _once_option(*names: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option that may be given once (and then the same value again)."""
    return click.option(*names, multiple=True, callback=_once, **options)


def _notice(message: str) -> None:
    click.echo(f"sbomgen: {message}", err=True)


class _Progress:
    """Progress on a terminal, nothing otherwise: bytes read when there is no ``total``
    (an archive's unpacked size is known only once it is read), else items done of ``total``.

    The bar (and rich's refresh thread) starts at the first update: a scan forks its
    reading process before that, with no other thread alive.
    """

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        return self._update if sys.stderr.isatty() else None

    def _update(self, done: int) -> None:
        if self.bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
            )

            count = [BarColumn(), MofNCompleteColumn()] if self.total else [DownloadColumn()]
            self.bar = Progress(
                SpinnerColumn(), TextColumn(self.label), *count, console=Console(stderr=True), transient=True
            )
            self.task = self.bar.add_task(self.label, total=self.total)
            self.bar.start()
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.group(epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="sbomgen")
def cli() -> None:
    """SBOMs and signed provenance for CPython-style release artifacts."""


class _Size(click.ParamType):
    """A byte count: 1000, 64K, 256M, 2G."""

    name = "size"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper()
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:], 1)
        try:
            number = int(text[:-1] if scale > 1 else text)
        except ValueError:
            self.fail(f"{value!r} is not a size such as 1000, 64K, 256M or 2G", param, ctx)
        if number <= 0:
            self.fail(f"{value!r} must be positive", param, ctx)
        return number * scale


def _limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    from .read.archive import Limits

    defaults = Limits()
    options = [
        click.option(
            "--max-member-size",
            type=_Size(),
            default=defaults.max_member_size,
            help="Largest member, in bytes (default 2G).",
        ),
        click.option(
            "--max-total-size",
            type=_Size(),
            default=defaults.max_total_size,
            help="Most bytes unpacked in all (default 16G).",
        ),
        click.option(
            "--max-members",
            type=click.IntRange(1),
            default=defaults.max_members,
            help="Most members (default 1000000).",
        ),
        click.option(
            "--max-ratio",
            type=click.FloatRange(1),
            default=defaults.max_ratio,
            help="Largest expansion ratio once past 128M unpacked (default 250).",
        ),
        click.option(
            "--max-nested-size",
            type=_Size(),
            default=defaults.max_nested_size,
            help="Largest member opened whole, such as a bundled wheel (default 256M). "
            "Nested archives are opened one level deep only.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _limits(options: dict[str, Any]) -> Any:
    from .read.archive import Limits

    return Limits(
        max_member_size=options.pop("max_member_size"),
        max_total_size=options.pop("max_total_size"),
        max_members=options.pop("max_members"),
        max_ratio=options.pop("max_ratio"),
        max_nested_size=options.pop("max_nested_size"),
    )


def _index_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--index-url",
            metavar="URL",
            help="Package index: its JSON API base (…/pypi) or pip-style simple URL (…/simple). "
            "Default: PIP_INDEX_URL, else pip's configuration, else https://pypi.org/pypi.",
        ),
        click.option(
            "--offline", is_flag=True, help="Never touch the network: index metadata from the cache only."
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Fail when index metadata for a package is missing, instead of warning.",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder of the index metadata cache. Default: the user cache folder.",
        ),
        click.option(
            "--timeout", type=float, default=10.0, show_default=True, help="Seconds per index request."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _enrich_options(
    index_url: str | None, offline: bool, strict: bool, cache_dir: Path | None, timeout: float
) -> Any:
    from .enrich import EnrichOptions
    from .enrich.index import IndexSettings, configured_index_url

    settings = IndexSettings(url=configured_index_url(index_url), timeout=timeout)
    return EnrichOptions(index=settings, cache_dir=cache_dir, offline=offline, strict=strict)


def _signing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--identity-token", metavar="JWT", help="OIDC token for keyless signing. Default: from the CI."
        ),
        click.option("--staging", is_flag=True, help="Use Sigstore's staging instance."),
        click.option(
            "--trust-config",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="A Sigstore client trust configuration (trusted root + signing config) of another instance.",
        ),
        click.option(
            "-d",
            "--output-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Where to write what is made.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _provenance_context_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--sign",
            "signing",
            metavar="sigstore|key:PATH",
            help="Sign keylessly with Sigstore (ARTIFACT.intoto.sigstore.json) or with a local ECDSA P-256 / "
            "Ed25519 PEM key (a DSSE envelope, ARTIFACT.intoto.json). Default: the unsigned statement.",
        ),
        click.option("--builder-id", metavar="URI", help="Default: from the CI environment."),
        click.option("--invocation-id", metavar="ID", help="Default: from the CI environment."),
        click.option("--source-uri", metavar="URI", help="git+https://HOST/REPO@REF. Default: from the CI."),
        click.option(
            "--source-digest", metavar="ALG:HEX", help="For example gitCommit:1a2b…. Default: from the CI."
        ),
        click.option("--started-on", metavar="TIME", help="RFC 3339. Default: from the CI, else omitted."),
        click.option("--finished-on", metavar="TIME", help="RFC 3339. Default: SOURCE_DATE_EPOCH, else now."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_BUILD_FIELDS = ("builder_id", "invocation_id", "source_uri", "source_digest", "started_on", "finished_on")


def _build_context(
    builder_id: str | None,
    invocation_id: str | None,
    source_uri: str | None,
    source_digest: str | None,
    started_on: str | None,
    finished_on: str | None,
) -> Any:
    """The build, from the command line first, then the CI environment; nothing invented."""
    from .provenance.statement import BuildContext, from_environment, parse_source_digest, parse_time

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
        raise click.UsageError("no builder id: run in GitHub Actions or GitLab CI, or pass --builder-id")
    return context


def _statement_suffix(signing: str | None) -> str:
    """The ending of the provenance file names ``--sign`` makes."""
    return ".intoto.sigstore.json" if signing == "sigstore" else ".intoto.json"


def _key_path(signing: str | None) -> Path | None:
    return Path(signing[4:]) if signing and signing.startswith("key:") else None


def _cache_files(cache_dir: Path | None) -> list[Path]:
    """The index cache's files: an input of every command that enriches, never an output."""
    from .enrich.cache import default_cache_dir

    folder = cache_dir or default_cache_dir()
    return [folder / f"index.sqlite3{end}" for end in ("", "-wal", "-shm")]  # as Cache names them


def _make_dir(path: Path) -> None:
    from .errors import OutputError

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {path}: {exc.strerror}") from None


def _now() -> Any:
    import datetime

    from .scan import source_date_epoch

    epoch = source_date_epoch()
    if epoch is not None:
        return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc)


@cli.command(epilog=EXIT_CODES)
@click.argument("artifact", type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="Where to write the SBOM ('-' for stdout); a folder when several formats are asked for. "
    "Default: NAME.spdx.json (or .cdx.json, …) in the current directory.",
)
@click.option(
    "--checksum",
    "extra_checksums",
    multiple=True,
    type=click.Choice(["sha512"], case_sensitive=False),
    help="Add a checksum algorithm to every file and package (SHA1 and SHA256 are always given).",
)
@click.option(
    "--allow-mismatch",
    is_flag=True,
    help="Warn, instead of failing, when a file listed in Misc/sbom.spdx.json differs from the artifact.",
)
@click.option(
    "-f",
    "--format",
    "output_format",
    default="spdx-json",
    show_default=True,
    metavar="FORMATS",
    help="Comma-separated: spdx-json, spdx-tv, cyclonedx-json, cyclonedx-xml (CycloneDX 1.6).",
)
@click.option(
    "--creator",
    "creators",
    multiple=True,
    metavar="ACTOR",
    help="Add an SPDX creator, e.g. 'Person: Python Release Managers' (repeatable). sbomgen names itself.",
)
@_index_options
@_limit_options
def tarball(
    artifact: Path,
    output: str | None,
    extra_checksums: tuple[str, ...],
    allow_mismatch: bool,
    creators: tuple[str, ...],
    output_format: str,
    **index_options: Any,
) -> None:
    """Write the SPDX 2.3 SBOM of a CPython source release.

    ARTIFACT is a .tgz, .tar.gz, .tar.xz, .tar.bz2 or .zip source archive, or an unpacked
    source directory. It is read once, as a stream; nothing is extracted to disk. What the
    SBOM says of each file waits in the temporary folder (TMPDIR; about 1 KB a file), not
    in memory.

    The SBOM lists every file with SHA1 and SHA256, the packages CPython declares in
    Misc/sbom.spdx.json (whose file checksums are verified against the archive), the
    bundled pip wheel and the packages pip vendors. created comes from SOURCE_DATE_EPOCH
    when set, else from the archive's newest member, so reruns are byte-identical.

    Download locations, index checksums and declared licenses of pip and its vendored
    packages come from the package index, through a verified cache that is used alone
    with --offline, and automatically when the index cannot be reached.
    """
    from .scan import DEFAULT_CHECKSUMS, collection_paused, scan
    from .write.output import check_outputs, is_stdout, write_atomic

    limits = _limits(index_options)
    formats = _formats(output_format)
    targets = _targets(artifact, formats, output)
    check_outputs(targets.values(), [artifact, *_cache_files(index_options["cache_dir"])])
    writer = _DeferredSpdxWriter(creators)
    with collection_paused():
        with _Progress(f"Reading {artifact.name}") as progress:
            inventory = scan(
                artifact,
                checksums=DEFAULT_CHECKSUMS + tuple(c.upper() for c in extra_checksums),
                allow_mismatch=allow_mismatch,
                limits=limits,
                progress=progress,
                on_file=writer.prepare_file if "spdx-json" in formats else None,
                yield_to_reading=True,  # the command ends with this scan
            )
        from .enrich import enrich

        inventory, enrich_notices = enrich(inventory, _enrich_options(**index_options))
        for message in (*inventory.notices, *enrich_notices):
            _notice(message)
        rendered = [(targets[f], _render(f, inventory, writer)) for f in formats]  # all or nothing
        for target, data in rendered:
            write_atomic(target, data)
            if not is_stdout(target):
                _notice(f"wrote {target}: {len(inventory.components)} packages, {len(inventory.files)} files")


FORMATS = {
    "spdx-json": ".spdx.json",
    "spdx-tv": ".spdx",
    "cyclonedx-json": ".cdx.json",
    "cyclonedx-xml": ".cdx.xml",
}


def _formats(text: str) -> list[str]:
    formats = list(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise click.UsageError(
            f"--format: unknown {', '.join(unknown) or 'nothing'}; choose from {', '.join(FORMATS)}"
        )
    return formats


def _targets(artifact: Path, formats: list[str], output: str | None) -> dict[str, str]:
    """One format: -o is the file ('-' for stdout). Several: -o is the folder."""
    name = artifact.resolve().name
    if len(formats) == 1:
        return {formats[0]: output if output is not None else f"{name}{FORMATS[formats[0]]}"}
    if output == "-":
        raise click.UsageError("-o -: only one format can go to stdout")
    folder = Path(output if output is not None else ".")
    if folder.exists() and not folder.is_dir():
        raise click.UsageError(f"-o {folder}: with several formats, -o names a folder")
    _make_dir(folder)
    return {f: str(folder / f"{name}{FORMATS[f]}") for f in formats}


def _render(output_format: str, inventory: Any, writer: _DeferredSpdxWriter) -> bytes | Iterable[bytes]:
    if output_format == "spdx-json":
        return writer.render_parts(inventory)
    if output_format == "spdx-tv":
        return writer.render_tag_value(inventory)
    from .write import cyclonedx

    return cyclonedx.render(inventory, xml=output_format == "cyclonedx-xml")


@cli.command(epilog=EXIT_CODES)
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
    metavar="NAME=VERSION",
    help="A bundled library replaced by the system's copy (repeatable), e.g. expat=2.7.1.",
)
@click.option(
    "-o", "--output", metavar="PATH", help="Default: NAME.spdx.json in the current directory ('-': stdout)."
)
def regenerate(
    upstream: Path,
    tree: Path | None,
    tarball: Path | None,
    system_packages: tuple[str, ...],
    output: str | None,
) -> None:
    """Write the SBOM of a modified tree, derived from UPSTREAM (an SPDX JSON SBOM), offline.

    Packages whose files are gone are dropped, with what they vendor; changed and added
    files are recorded; each difference from upstream is stated in an annotation, and the
    upstream document is referenced with its checksum. What upstream says about the
    packages that remain is kept, so no network is used.
    """
    from .workflows.regenerate import parse_system_packages
    from .workflows.regenerate import regenerate as derive
    from .write.output import check_outputs, is_stdout, write_atomic
    from .write.spdx import SpdxWriter

    if (tree is None) == (tarball is None):
        raise click.UsageError("give exactly one of --tree and --tarball")
    source = tree if tree is not None else tarball
    assert source is not None
    target = output if output is not None else f"{source.resolve().name}.spdx.json"
    check_outputs([target], [upstream, source])
    inventory = derive(upstream, source, parse_system_packages(system_packages))
    for message in inventory.notices:
        _notice(message)
    write_atomic(target, SpdxWriter().render(inventory))
    if not is_stdout(target):
        _notice(f"wrote {target}: {len(inventory.changes)} changes from {upstream.name}")


@cli.command(epilog=EXIT_CODES)
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--check",
    "check_manifest",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Compare FOLDER with this manifest instead: name every file added, removed or changed (exit 1).",
)
@click.option(
    "--source",
    type=click.Path(exists=True, path_type=Path),
    help="The source tarball (or tree) the Windows artifacts were built from. Default: the one in FOLDER.",
)
@click.option("-j", "--jobs", type=click.IntRange(1, 64), help="Worker processes. Default: one per core.")
@_provenance_context_options
@_signing_options
@_index_options
def release(
    folder: Path,
    check_manifest: Path | None,
    source: Path | None,
    jobs: int | None,
    signing: str | None,
    identity_token: str | None,
    staging: bool,
    trust_config: Path | None,
    output_dir: Path,
    **options: Any,
) -> None:
    """SBOM and provenance for every artifact in a release FOLDER, and a manifest of it.

    Source tarballs (Python-X.Y.Z.tgz, .tar.xz) and Windows installers and embeddable
    zips are found by name and processed in parallel worker processes. Written beside
    them (or into -d): ARTIFACT.spdx.json, the provenance, and release-manifest.json with
    every file's size and SHA256. With --check, nothing is written: the folder is compared
    with a manifest and every file added, removed or changed is named.
    """
    from concurrent.futures import ProcessPoolExecutor

    from .provenance import signing as sig
    from .provenance.statement import statement
    from .workflows import release as rel
    from .write.output import check_outputs, write_atomic

    if check_manifest is not None:
        drift = rel.check(check_manifest, folder)
        for mark, names in (("added", drift.added), ("removed", drift.removed), ("changed", drift.changed)):
            for name in names:
                click.echo(f"{mark}: {name}")
        if drift.empty:
            click.echo(f"{folder}: as the manifest records it")
            return
        sys.stdout.flush()
        os._exit(1)
    sources, windows = rel.find_artifacts(folder)
    if not sources and not windows:
        raise click.UsageError(
            f"{folder}: no release artifacts (Python-X.Y.Z.tgz/.tar.xz, python-X.Y.Z*.exe/-embed-*.zip)"
        )
    if windows and source is None:
        if not sources:
            raise click.UsageError("Windows artifacts need --source: the source tarball they were built from")
        source = sources[-1]
    artifacts = sources + windows
    out = folder if output_dir == Path(".") else output_dir
    suffixes = (".spdx.json", _statement_suffix(signing))
    check_outputs(
        [out / rel.MANIFEST, *(out / f"{a.name}{suffix}" for a in artifacts for suffix in suffixes)],
        [*artifacts, source, _key_path(signing), trust_config, *_cache_files(options["cache_dir"])],
        create_folders=True,
    )
    rel.contents(folder, out / rel.MANIFEST)  # what the manifest would refuse fails before the work
    context = _build_context(**{k: options.pop(k) for k in _BUILD_FIELDS})
    enrich_options = _enrich_options(**options)
    jobs_list: list[tuple[str, Any, Any]] = [(str(p), None, enrich_options) for p in sources]
    if windows:
        from .workflows.windows import read_source

        assert source is not None
        parts = read_source(source)  # once, for every Windows artifact
        jobs_list += [(str(p), parts, enrich_options) for p in windows]
    results: dict[str, bytes] = {}
    workers = min(jobs or os.cpu_count() or 1, len(jobs_list))
    with _Progress("SBOMs", total=len(jobs_list)) as progress, ProcessPoolExecutor(workers) as pool:
        for done, (name, data, notices) in enumerate(pool.map(rel.sbom_job, jobs_list), start=1):
            results[name] = data
            for message in notices:
                _notice(f"{name}: {message}")
            if progress is not None:
                progress(done)
    statements = [statement([a], context, (f"{a.name}.spdx.json", results[a.name])) for a in artifacts]
    signed = sig.sign_statements(
        [a.name for a in artifacts], statements, signing, identity_token, staging, trust_config
    )
    _make_dir(out)
    for artifact in artifacts:
        write_atomic(out / f"{artifact.name}.spdx.json", results[artifact.name])
    for name, body in signed:
        write_atomic(out / name, body)
    write_atomic(out / rel.MANIFEST, rel.manifest(folder, out / rel.MANIFEST))
    _notice(f"wrote {len(artifacts)} SBOMs, {len(signed)} provenance files and {out / rel.MANIFEST}")


@cli.command(epilog=EXIT_CODES)
@click.argument("sbom", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_index_options
def check(sbom: Path, as_json: bool, **index_options: Any) -> None:
    """Ask the index (or the cache, --offline) whether the releases an SBOM names have gained
    or lost files since it was made. An added wheel is shown with its tags: a more specific
    wheel is what an installer would pick. Exit 1 when anything changed."""
    import json

    from .workflows.check import as_dict
    from .workflows.check import check as run

    drifts = run(sbom, _enrich_options(**index_options))
    changed = as_dict(drifts)
    if as_json:
        click.echo(json.dumps(changed, indent=2))
    else:
        for drift in drifts:
            if drift.empty:
                continue
            click.echo(f"{drift.name} {drift.version}:")
            for name, tags in drift.added:
                click.echo(f"  added: {name}" + (f" (tags: {', '.join(tags)})" if tags else ""))
            for name in drift.removed:
                click.echo(f"  removed: {name}")
            for name in drift.changed:
                click.echo(f"  changed: {name}")
        if not changed:
            click.echo(f"{len(drifts)} releases: unchanged since the SBOM was made")
    if changed:
        sys.stdout.flush()
        os._exit(1)


@cli.command(epilog=EXIT_CODES)
@click.argument("wheel_path", metavar="WHEEL", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="The SBOM ('-': stdout); with --embed, the folder for the new wheel.",
)
@click.option(
    "--embed", is_flag=True, help="Write a copy of the wheel carrying its SBOM (PEP 770), RECORD updated."
)
@_index_options
def wheel(wheel_path: Path, output: str | None, embed: bool, **index_options: Any) -> None:
    """The SPDX SBOM of a wheel: the project from its METADATA, every file checked against
    RECORD, vendored packages, and the components of SBOMs it already carries (PEP 770)."""
    _distribution(wheel_path, output, embed, True, index_options)


@cli.command(epilog=EXIT_CODES)
@click.argument("sdist_path", metavar="SDIST", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("-o", "--output", metavar="PATH", help="The SBOM ('-': stdout). Default: NAME.spdx.json here.")
@_index_options
def sdist(sdist_path: Path, output: str | None, **index_options: Any) -> None:
    """The SPDX SBOM of a source distribution: the project from PKG-INFO, every file, and
    vendored packages."""
    _distribution(sdist_path, output, False, False, index_options)


def _distribution(
    path: Path, output: str | None, embed: bool, is_wheel: bool, index_options: dict[str, Any]
) -> None:
    from dataclasses import replace

    from .enrich import enrich
    from .scan import scan
    from .scan.distribution import DistributionScanner
    from .write.output import check_outputs, is_stdout, write_atomic
    from .write.spdx import SpdxWriter

    folder = Path(output or ".")
    target = folder / path.name if embed else output if output is not None else f"{path.name}.spdx.json"
    if embed and folder.resolve() == path.resolve().parent:
        raise click.UsageError("--embed -o: choose a folder other than the wheel's own")
    check_outputs([target], [path, *_cache_files(index_options["cache_dir"])], create_folders=embed)
    inventory = scan(path, scanners=[DistributionScanner(wheel=is_wheel)], top_folder=not is_wheel)
    inventory, notices = enrich(inventory, _enrich_options(**index_options))
    for message in (*inventory.notices, *notices):
        _notice(message)
    if embed:
        from .workflows.embed import embed as embed_sbom

        # Inside the wheel the SBOM describes its content: the file's own digest cannot be in it.
        root = replace(inventory.component(inventory.root), checksums=())
        inner = replace(
            inventory, components=tuple(root if c.key == root.key else c for c in inventory.components)
        )
        _make_dir(folder)
        write_atomic(folder / path.name, embed_sbom(path, SpdxWriter().render(inner)))
        _notice(f"wrote {folder / path.name} with its SBOM at *.dist-info/sboms/")
        return
    write_atomic(target, SpdxWriter().render(inventory))
    if not is_stdout(target):
        _notice(f"wrote {target}: {len(inventory.components)} packages, {len(inventory.files)} files")


@cli.group(epilog=EXIT_CODES)
def cache() -> None:
    """The index metadata cache, for builds without network.

    \b
    On a machine with network:    sbomgen cache warm Python-3.13.5.tar.xz
                                  sbomgen cache export index-cache.json
    On the machine without:       sbomgen cache import index-cache.json
                                  sbomgen tarball --offline Python-3.13.5.tar.xz
    """


@cache.command(epilog=EXIT_CODES)
@click.argument("artifacts", nargs=-1, required=True, type=click.Path(path_type=Path))
@_index_options
def warm(artifacts: tuple[Path, ...], **index_options: Any) -> None:
    """Look up every package of ARTIFACTS on the index and store it in the cache."""
    from dataclasses import replace

    from .enrich import enrich
    from .scan import scan

    options = replace(_enrich_options(**index_options), strict=True)
    if options.offline:
        raise click.UsageError("warm fills the cache from the index: it cannot be --offline")
    for artifact in artifacts:
        inventory, notices = enrich(scan(artifact), options)
        for message in notices:
            _notice(message)
        _notice(f"cached the index metadata of {artifact.name}")


_cache_dir_option = click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: the user cache folder."
)


@cache.command("export", epilog=EXIT_CODES)
@click.argument("file", type=click.Path(path_type=Path))
@_cache_dir_option
def export_(file: Path, cache_dir: Path | None) -> None:
    """Write every cache entry to FILE (JSON, with checksums), to carry to another machine."""
    from .enrich.cache import Cache, default_cache_dir
    from .write.output import check_outputs, write_atomic

    check_outputs([file], _cache_files(cache_dir))
    store = Cache(cache_dir or default_cache_dir())
    try:
        write_atomic(file, store.export())
    finally:
        store.close()
    _notice(f"exported the cache to {file}")


@cache.command("import", epilog=EXIT_CODES)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_cache_dir_option
def import_(file: Path, cache_dir: Path | None) -> None:
    """Check FILE (format, checksums) completely, then add its entries to the cache."""
    from .documents.parse import MAX_DOCUMENT_BYTES
    from .documents.source import read_bounded
    from .enrich.cache import Cache, default_cache_dir
    from .errors import CacheError

    content = read_bounded(file, str(file), CacheError, MAX_DOCUMENT_BYTES)
    store = Cache(cache_dir or default_cache_dir())
    try:
        count = store.import_(content, str(file))
    finally:
        store.close()
    _notice(f"imported {count} entries from {file}")


@cli.command(epilog=EXIT_CODES)
@click.argument(
    "artifacts", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--sbom",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The SBOM, recorded as a byproduct.",
)
@click.option("--single", is_flag=True, help="One statement naming every artifact (release.intoto.json).")
@_provenance_context_options
@_signing_options
def provenance(
    artifacts: tuple[Path, ...],
    sbom: Path | None,
    single: bool,
    signing: str | None,
    identity_token: str | None,
    staging: bool,
    trust_config: Path | None,
    output_dir: Path,
    **build: Any,
) -> None:
    """Write SLSA v1 provenance (an in-toto statement) for each of ARTIFACTS, signed as --sign says.

    Builder, invocation and source are read from the CI environment (GitHub Actions,
    GitLab CI) or given here; nothing is invented. Nothing is written unless every
    statement was made and signed.
    """
    from .provenance import signing as sig
    from .provenance.statement import (
        statement,
    )
    from .write.output import check_outputs, write_atomic

    groups = [list(artifacts)] if single else [[a] for a in artifacts]
    stems = ["release" if single else group[0].name for group in groups]
    check_outputs(
        [output_dir / f"{stem}{_statement_suffix(signing)}" for stem in stems],
        [*artifacts, sbom, _key_path(signing), trust_config],
        create_folders=True,
    )
    context = _build_context(**build)
    statements = [statement(group, context, sbom) for group in groups]
    outputs = sig.sign_statements(stems, statements, signing, identity_token, staging, trust_config)
    _make_dir(output_dir)
    for name, body in outputs:
        write_atomic(output_dir / name, body)
        _notice(f"wrote {output_dir / name}")


@cli.command(epilog=EXIT_CODES)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@_signing_options
def sign(
    files: tuple[Path, ...],
    identity_token: str | None,
    staging: bool,
    trust_config: Path | None,
    output_dir: Path,
) -> None:
    """Sign FILES keylessly with Sigstore: a message-signature bundle FILE.sigstore for each.

    Any file: a tarball, its SBOM, its provenance (CPython publishes .sigstore files
    beside its release files). Nothing is written unless every file was signed.
    """
    from .documents.source import read_bounded
    from .errors import UsageError
    from .provenance import signing as sig
    from .write.output import check_outputs, write_atomic

    targets = [output_dir / f"{p.name}.sigstore" for p in files]
    check_outputs(targets, [*files, trust_config], create_folders=True)
    token = sig.identity_token(identity_token)
    contents = [read_bounded(path, str(path), UsageError, MAX_SIGNED_BYTES) for path in files]
    bundles = sig.sign_keyless(contents, False, token, sig.trust_config(staging, trust_config))
    _make_dir(output_dir)
    for path, bundle in zip(files, bundles, strict=True):
        write_atomic(output_dir / f"{path.name}.sigstore", bundle)
        _notice(f"wrote {output_dir / path.name}.sigstore")


@cli.command(epilog=EXIT_CODES)
@click.argument("artifact", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_once_option(
    "--bundle",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A Sigstore bundle (DSSE or message signature), a key-signed DSSE envelope, or a statement.")
@_once_option(
    "--identity",
    "--cert-identity",
    "--certificate-identity",
    "identity",
    metavar="ID",
    help="The signer's identity (a SAN of the certificate), exactly. Needs --issuer.")
@_once_option(
    "--identity-regexp",
    "--cert-identity-regexp",
    "--certificate-identity-regexp",
    "identity_regexp",
    metavar="REGEXP",
    help="The signer's identity as an anchored regular expression ('^...$'), matched whole.")
@_once_option(
    "--issuer",
    "--cert-oidc-issuer",
    "--certificate-oidc-issuer",
    "issuer",
    metavar="URL",
    help="The identity's OIDC issuer. Needs --identity or --identity-regexp.")
@_once_option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM public key of a key-signed envelope (not with the Sigstore options).")
@click.option("--offline", is_flag=True, help="Use the trust root shipped with sigstore; no network.")
@click.option("--staging", is_flag=True, help="Trust Sigstore's staging instance.")
@_once_option(
    "--trusted-root",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A trusted root file.")
@_once_option(
    "--trust-config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A Sigstore client trust configuration (as given to signing); its trusted root is used.")
@_once_option(
    "--predicate-type",
    metavar="URI",
    help="The predicate type the statement must have. Default: SLSA Provenance v1, for bundles "
    "that hold a statement; given with a message signature, the check fails.")
@_once_option("--builder-id", metavar="URI", help="Require this builder id in the provenance.")
@_once_option("--source-uri", metavar="URI", help="Require this source among the resolved dependencies.")
@_once_option(
    "--sbom",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Require the provenance to record this SBOM file (its SHA256) as a byproduct.")
def verify(artifact: Path, bundle: Path, **request: Any) -> None:
    """Verify ARTIFACT against a signature bundle.

    The options say which checks are made: the bundle is read and is of the kind the
    signer option verifies; its signature (Sigstore: certificate chain, transparency log;
    or --key); the signer's identity and issuer; that it is about ARTIFACT; the predicate
    type; and, when given, builder id, source and SBOM. A check asked for that cannot apply
    to the bundle fails. Every check made is printed (ok / FAILED); exit 0 only when all
    passed, else exit 9 with one line naming the first that failed.
    """
    from .errors import VerificationFailed
    from .provenance.verify import Request
    from .provenance.verify import verify as run

    result = run(artifact, bundle, Request(**request))
    for outcome in result.outcomes:
        click.echo(f"{'ok' if outcome.passed else 'FAILED'}  {outcome}")
    failure = result.first_failure
    if not result.ok:
        raise VerificationFailed(str(failure) if failure else "no check was made")


@cli.command(epilog=EXIT_CODES)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option("--ntia", is_flag=True, help="Also check SPDX documents for the NTIA minimum elements.")
def validate(files: tuple[Path, ...], ntia: bool) -> None:
    """Validate SBOMs and statements: SPDX 2.2/2.3 (JSON, tag-value, YAML, XML, RDF),
    CycloneDX 1.4-1.6 (JSON, XML), in-toto statements. Every problem is listed with where
    it is. Exit 0 only if every file is valid, else 1."""
    from .workflows.validate import validate_file

    invalid = 0
    for path in files:
        kind, problems = validate_file(path, ntia)
        if problems:
            invalid += 1
            click.echo(f"{path}: INVALID {kind} ({len(problems)} problem(s))")
            for problem in problems:
                click.echo(f"  {path}: {problem}")
        else:
            click.echo(
                f"{path}: valid {kind}" + (" (NTIA minimum elements met)" if ntia and "SPDX" in kind else "")
            )
    if invalid:
        sys.stdout.flush()
        os._exit(1)


@cli.command(epilog=EXIT_CODES)
@click.argument("old", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--markdown", is_flag=True, help="Markdown, for release notes.")
@click.option(
    "--files", "list_files", is_flag=True, help="List the files added, removed and changed, not just counts."
)
def diff(old: Path, new: Path, as_json: bool, markdown: bool, list_files: bool) -> None:
    """Compare two SBOMs (SPDX or CycloneDX JSON, in any mix). Exit 1 when they differ.

    Components added, removed and changed (version, checksums, license, download
    location, supplier); files added, removed and changed. A vendored package is named
    after what vendors it: pip/urllib3.
    """
    import json

    from .workflows import diff as sbom_diff

    difference = sbom_diff.compare(sbom_diff.load(old), sbom_diff.load(new))
    if as_json:
        click.echo(json.dumps(difference.as_dict(list_files), indent=2))
    elif markdown:
        click.echo(sbom_diff.as_markdown(difference, old.name, new.name, list_files), nl=False)
    else:
        _diff_table(difference, list_files)
    if not difference.empty:
        sys.stdout.flush()
        os._exit(1)


def _diff_table(difference: Any, list_files: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    table = Table("", "component", "field", "old", "new", title="Components", title_justify="left")

    def row(*cells: str) -> None:  # as text: "[/x]" in a version is not rich markup
        table.add_row(*(Text(cell) for cell in cells))

    for key, version in difference.added:
        row("+", key, "", "", version or "")
    for key, version in difference.removed:
        row("-", key, "", version or "", "")
    for key, name, before, after in difference.changed:
        row("~", key, name, _short(before), _short(after))
    if table.row_count:
        console.print(table)
    else:
        console.print("Components: no change")
    console.print(
        f"Files: {len(difference.files_added)} added, {len(difference.files_removed)} removed, "
        f"{len(difference.files_changed)} changed"
    )
    if list_files:
        for mark, paths in (
            ("+", difference.files_added),
            ("-", difference.files_removed),
            ("~", difference.files_changed),
        ):
            for path in paths:
                console.print(f"  {mark} {path}", markup=False, highlight=False)


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value if v is not None)
    return "" if value is None else str(value)


@cli.command(epilog=EXIT_CODES)
@click.argument("sbom", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--provenance",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A provenance statement, envelope or bundle to summarise beside the SBOM.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write.",
)
def report(sbom: Path, provenance: Path | None, output: Path) -> None:
    """One self-contained HTML page about an SBOM (SPDX or CycloneDX JSON): the artifact and
    its checksums, the components, what pip vendors, file counts, and provenance status."""
    from .write.output import check_outputs, is_stdout, write_atomic
    from .write.report import render

    check_outputs([output], [sbom, provenance])
    write_atomic(output, render(sbom, provenance))
    if not is_stdout(output):
        _notice(f"wrote {output}")


class _DeferredSpdxWriter:
    """The SPDX writer, imported at the first file: the imports then overlap decompression.

    The enrichment modules are imported there too, for the same reason.
    """

    def __init__(self, creators: tuple[str, ...]) -> None:
        self.creators = creators
        self.writer: Any = None

    def prepare_file(self, entry: Any) -> None:
        self._writer().prepare_file(entry)

    def render_parts(self, inventory: Any) -> Iterable[bytes]:
        return self._writer().render_parts(inventory)

    def render_tag_value(self, inventory: Any) -> bytes:
        return self._writer().render_tag_value(inventory)

    def _writer(self) -> Any:
        if self.writer is None:
            from . import enrich  # noqa: F401
            from .write.spdx import SpdxWriter

            self.writer = SpdxWriter(self.creators)
        return self.writer


def main() -> None:
    # No cyclic garbage collection in this short-lived process: a scan and its outputs make
    # tens of thousands of objects and no cycles; re-enabled after the scan, the collector's
    # first pass walked them all (7-17 ms) and freed nothing.
    gc.disable()
    for stream in (sys.stdout, sys.stderr):  # a value no encoding of the terminal has is escaped
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        cli.main(standalone_mode=False)
    except SbomgenError as exc:
        _notice(f"error: {exc}")
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _notice("aborted")
        sys.exit(130)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "sbomgen"
        _notice(f"error: {' '.join(exc.format_message().split())} (see '{where} --help')")
        sys.exit(2)
    except click.ClickException as exc:
        _notice(f"error: {' '.join(exc.format_message().split())}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _notice("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SBOMGEN_DEBUG"):
            raise
        from .errors import first_line

        what = f"{type(exc).__name__}: {first_line(exc)}"
        _notice(f"error: internal error, a bug in sbomgen (please report it): {what}")
        sys.exit(5)
    # The output is written and synced. Freeing a large scan's objects one by one would take
    # longer than everything else the interpreter does at exit, so leave without it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
