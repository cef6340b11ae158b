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
    output_option,
    output_targets,
    verbosity_options,
    warn,
)


@click.group(epilog=exit_codes(8))
def cache() -> None:
    """The index metadata cache, for builds without network.

    \b
    On a machine with network:    sbomgen cache warm Python-3.13.5.tar.xz
                                  sbomgen cache export -o index-cache.json
    On the machine without:       sbomgen cache import index-cache.json
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


@cache.command("export", cls=Command, epilog=exit_codes(6, 8))
@verbosity_options
@click.argument("file", required=False, type=click.Path(path_type=Path))
@output_option("The file to write ('-': stdout).")
@cache_dir_option
def export_(file: Path | None, output: str | None, cache_dir: Path | None) -> None:
    """Write every cache entry to -o FILE (JSON, with checksums), to carry to another machine."""
    from ..enrich import default_cache_dir
    from ..enrich.cache import Cache
    from ..write.output import check_outputs, is_stdout, write_atomic

    if (file is None) == (output is None):
        raise click.UsageError("name the export once: -o FILE")
    output = output if output is not None else str(file)
    (target,) = output_targets(output, ["index-cache.json"])
    check_outputs([target], cache_files(cache_dir), create_folders=makes_folder(output))
    store = Cache(cache_dir or default_cache_dir())
    try:
        write_atomic(target, store.export())
    finally:
        store.close()
    if not is_stdout(target):
        info(f"exported the cache to {target}")


@cache.command("import", cls=Command, epilog=exit_codes(8))
@verbosity_options
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@cache_dir_option
def import_(file: Path, cache_dir: Path | None) -> None:
    """Check FILE (format, checksums) completely, then add its entries to the cache."""
    from ..documents.parse import MAX_DOCUMENT_BYTES
    from ..documents.source import read_bounded
    from ..enrich import default_cache_dir
    from ..enrich.cache import Cache, parse_export
    from ..errors import CacheError

    content = read_bounded(file, str(file), CacheError, MAX_DOCUMENT_BYTES)
    entries = parse_export(content, str(file))  # all of it checked before the cache is opened
    store = Cache(cache_dir or default_cache_dir())
    try:
        store.put(entries)
    finally:
        store.close()
    info(f"imported {len(entries)} entries from {file}")
