"""The command line: thin wiring over the Python API."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import SbomgenError

EXIT_CODES = """\b
Exit codes:
  0  success
  2  bad command line
  3  the input is not a readable archive, or holds an unsafe member
  4  the artifact's own metadata is invalid or contradicts its contents
  5  the generated document failed validation (a bug: please report it)
  6  the output could not be written"""


def _notice(message: str) -> None:
    click.echo(f"sbomgen: {message}", err=True)


class _Progress:
    """Unpacked bytes so far, on a terminal; nothing otherwise.

    There is no honest total: an archive's unpacked size is known only once it is read.
    """

    def __init__(self, label: str) -> None:
        self.bar: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import DownloadColumn, Progress, SpinnerColumn, TextColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn(label),
                DownloadColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task(label, total=None)

    def __enter__(self) -> Callable[[int], None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        return lambda done: self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.group(epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="sbomgen")
def cli() -> None:
    """SBOMs and signed provenance for CPython-style release artifacts."""


@cli.command(epilog=EXIT_CODES)
@click.argument("artifact", type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="Where to write the SBOM ('-' for stdout). Default: NAME.spdx.json in the current directory.",
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
    "--creator",
    "creators",
    multiple=True,
    metavar="ACTOR",
    help="Add an SPDX creator, e.g. 'Person: Python Release Managers' (repeatable). sbomgen names itself.",
)
def tarball(
    artifact: Path,
    output: str | None,
    extra_checksums: tuple[str, ...],
    allow_mismatch: bool,
    creators: tuple[str, ...],
) -> None:
    """Write the SPDX 2.3 SBOM of a CPython source release.

    ARTIFACT is a .tgz, .tar.gz, .tar.xz, .tar.bz2 or .zip source archive, or an unpacked
    source directory. It is read once, as a stream; nothing is extracted to disk.

    The SBOM lists every file with SHA1 and SHA256, the packages CPython declares in
    Misc/sbom.spdx.json (whose file checksums are verified against the archive), the
    bundled pip wheel and the packages pip vendors. created comes from SOURCE_DATE_EPOCH
    when set, else from the archive's newest member, so reruns are byte-identical.
    """
    from .scan import DEFAULT_CHECKSUMS, scan
    from .write.output import write_atomic

    target = output if output is not None else f"{artifact.resolve().name}.spdx.json"
    writer = _DeferredSpdxWriter(creators)
    with _Progress(f"Reading {artifact.name}") as progress:
        inventory = scan(
            artifact,
            checksums=DEFAULT_CHECKSUMS + tuple(c.upper() for c in extra_checksums),
            allow_mismatch=allow_mismatch,
            progress=progress,
            on_file=writer.prepare_file,
        )
    for message in inventory.notices:
        _notice(message)
    write_atomic(target, writer.render(inventory))
    if target != "-":
        _notice(f"wrote {target}: {len(inventory.components)} packages, {len(inventory.files)} files")


class _DeferredSpdxWriter:
    """The SPDX writer, imported at the first file: the import then overlaps decompression."""

    def __init__(self, creators: tuple[str, ...]) -> None:
        self.creators = creators
        self.writer: Any = None

    def prepare_file(self, entry: Any) -> None:
        self._writer().prepare_file(entry)

    def render(self, inventory: Any) -> bytes:
        return self._writer().render(inventory)

    def _writer(self) -> Any:
        if self.writer is None:
            from .write.spdx import SpdxWriter

            self.writer = SpdxWriter(self.creators)
        return self.writer


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except SbomgenError as exc:
        _notice(f"error: {exc}")
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _notice("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        _notice("interrupted")
        sys.exit(130)
