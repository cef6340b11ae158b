"""The commands that read what others made: validate, diff, report, check."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .common import (
    CommandSteps,
    command,
    enrich_options,
    exit_codes,
    exit_now,
    index_options,
    info,
    makes_folder,
    output_option,
    output_targets,
    warn,
)

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


@command(
    epilog=exit_codes(
        1,
        4,
        c1="a document is invalid, or misses an element of the --profile",
        c4="with --profile: a file is not an SBOM sbomgen reads",
    )
)
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("--ntia", is_flag=True, help="Also check SPDX documents for the NTIA minimum elements.")
@click.option(
    "--profile",
    type=click.Choice(["ntia", "cisa-2024", "bsi-2.1"]),
    help="Instead of the schema, judge each SBOM (SPDX 2.3 JSON, SPDX 3.0.1 JSON-LD, CycloneDX"
    " 1.4-1.7 JSON or XML) by a compliance profile: the NTIA minimum elements (2021), CISA's 2024 minimum"
    " expectation (Framing Software Component Transparency) or BSI TR-03183-2 v2.1.0. Lists each"
    " element with pass or FAIL and the components that miss it.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="With --profile: the verdicts as a JSON list, one object a file."
)
def validate(files: tuple[Path, ...], ntia: bool, profile: str | None, as_json: bool) -> None:
    """Validate SBOMs and statements: SPDX 2.2/2.3 (JSON, tag-value, YAML, XML, RDF), SPDX
    3.0.1 (JSON-LD), CycloneDX 1.4-1.7 (JSON, XML), in-toto statements, sbomgen release manifests. Every
    problem is listed with where it is; a file of none of these kinds is said so in one
    line. Exit 0 only if every file is valid, else 1.

    With --profile, each SBOM is judged by the profile's elements instead (exit 0 only if
    every element passes in every file, else 1)."""
    if profile is not None or as_json:
        if profile is None:
            raise click.UsageError("--json needs --profile")
        if ntia:
            raise click.UsageError("--ntia and --profile: choose one (--profile ntia is the NTIA profile)")
        _profile(files, profile, as_json)
        return
    from ..documents.text import printable
    from ..workflows.validate import outcome

    steps = CommandSteps()
    invalid = 0
    for path in files:
        with steps.step(f"Validating {path.name}"):
            valid, lines = outcome(path, ntia)
        invalid += not valid
        for line in lines:
            click.echo(printable(line))  # a file's name may hold a terminal's escapes
    if invalid:
        exit_now(1)


def _profile(files: tuple[Path, ...], profile: str, as_json: bool) -> None:
    from ..documents.text import printable
    from ..workflows.profiles import check

    failed = 0
    results = []
    for path in files:
        passed, lines, result = check(path, profile)
        failed += not passed
        if as_json:
            results.append(result)
        else:
            for line in lines:
                click.echo(printable(line))
    if as_json:
        click.echo(json.dumps(results, indent=2))
    if failed:
        exit_now(1)


@command(epilog=exit_codes(1, 4, c1="the SBOMs differ", c4="an SBOM is not one sbomgen reads"))
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--markdown", is_flag=True, help="Markdown, for release notes.")
@click.option(
    "--files", "list_files", is_flag=True, help="List the files added, removed and changed, not just counts."
)
def diff(old: Path, new: Path, as_json: bool, markdown: bool, list_files: bool) -> None:
    """Compare two SBOMs (SPDX 2, SPDX 3 or CycloneDX JSON, in any mix). Exit 1 when they differ.

    Components added, removed and changed (version, checksums, license, download
    location, supplier); files added, removed and changed. A vendored package is named
    after what vendors it: pip/urllib3. On a terminal a table; piped, plain lines with
    every value in full.
    """
    from ..documents.text import printable
    from ..workflows import diff as sbom_diff

    if as_json and markdown:
        raise click.UsageError("--json and --markdown: choose one")
    difference = sbom_diff.compare(sbom_diff.load(old), sbom_diff.load(new))
    if as_json:
        click.echo(json.dumps(difference.as_dict(list_files), indent=2))
    elif markdown:
        click.echo(
            sbom_diff.as_markdown(difference, printable(old.name), printable(new.name), list_files), nl=False
        )
    elif sys.stdout.isatty():
        _diff_table(difference, list_files)
    else:
        click.echo(sbom_diff.as_text(difference, list_files), nl=False)
    if not difference.empty:
        exit_now(1)


def _diff_table(difference: Any, list_files: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..workflows.diff import file_lines

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
    for line in file_lines(difference, list_files):
        console.print(line, markup=False, highlight=False)


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value if v is not None)
    return "" if value is None else str(value)


@command(epilog=exit_codes(4, 6, c4="the SBOM or provenance is not one sbomgen reads"))
@click.argument("sbom", type=_FILE)
@click.option(
    "--provenance",
    type=_FILE,
    help="A provenance statement, envelope or bundle to summarise beside the SBOM.",
)
@output_option("The HTML file to write ('-': stdout), or a folder for report.html. Default: report.html.")
def report(sbom: Path, provenance: Path | None, output: str | None) -> None:
    """One self-contained HTML page about an SBOM (SPDX 2, SPDX 3 or CycloneDX JSON): the artifact and
    its checksums, the components, what pip vendors, file counts, and provenance status."""
    from ..workflows.report import render
    from ..write.output import check_outputs, is_stdout, write_atomic

    (target,) = output_targets(output, ["report.html"])
    check_outputs([target], [sbom, provenance], create_folders=makes_folder(output))
    with CommandSteps().step(f"Reading {sbom.name}"):
        page = render(sbom, provenance)
    write_atomic(target, page)
    if not is_stdout(target):
        info(f"wrote {target}")


@command(
    epilog=exit_codes(
        1, 4, 7, 8, c1="a release the SBOM names gained a file after it was made, or one was yanked"
    )
)
@click.argument("sbom", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@index_options
def check(sbom: Path, as_json: bool, **index_options: Any) -> None:
    """Ask the index (or the cache, --offline) about every PyPI release an SBOM names
    (pkg:pypi/NAME@VERSION; any SPDX 2 or 3 JSON or CycloneDX SBOM, not only sbomgen's): each file
    uploaded after the SBOM was made (its created time against PEP 700 upload-time; a file
    the index gives no upload time is said to be undecidable), each file yanked, and where
    the SBOM recorded the release's files, each added, removed or changed since (where it
    recorded only the file it took, with its SHA256: that file removed or changed). An added
    wheel is shown with its tags: a more specific wheel is what an installer would pick.
    Exit 1 when anything is reported."""
    from ..workflows.check import as_dict
    from ..workflows.check import check as run

    with CommandSteps().step("Asking the package index"):
        result = run(sbom, enrich_options(**index_options))
    for drift in result.releases:
        if drift.unsigned_export is not None:
            warn(
                f"warning: {drift.name} {drift.version}: the cached index metadata comes from an export "
                f"imported unsigned (--allow-unsigned), SHA256 {drift.unsigned_export}; the answer is only "
                "as good as that export"
            )
    if as_json:
        click.echo(json.dumps(as_dict(result), indent=2))
    else:
        for skipped in result.skipped:
            click.echo(f"not checked: {skipped}")
        for drift in result.changed:
            click.echo(f"{drift.name} {drift.version}:")
            if drift.missing:
                click.echo(f"  cannot check: {drift.missing}")
            for name, time in drift.uploaded_after:
                click.echo(f"  uploaded after the SBOM was made ({result.created}): {name} ({time})")
            for name in drift.undated:
                click.echo(f"  cannot tell when uploaded (the index gives no upload-time): {name}")
            for name, reason in drift.yanked:
                click.echo(f"  yanked: {name}" + (f" (reason: {reason})" if reason else ""))
            for name, tags in drift.added:
                click.echo(f"  added: {name}" + (f" (tags: {', '.join(tags)})" if tags else ""))
            for name in drift.removed:
                click.echo(f"  removed: {name}")
            for name in drift.changed:
                click.echo(f"  changed: {name}")
        if not result.changed:
            click.echo(f"{len(result.releases)} releases: unchanged since the SBOM was made")
    if result.changed:
        exit_now(1)
