"""The SBOM of one artifact: a source archive or tree, a wheel, an sdist, a Windows
artifact. Read once, enriched from the package index, rendered in every format asked for
and validated before anything is returned."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..enrich import EnrichOptions
from ..model import Inventory
from ..read.archive import Limits
from .steps import SILENT, Steps

FORMATS = {
    "spdx-json": ".spdx.json",
    "spdx-tv": ".spdx",
    "spdx3-json": ".spdx3.json",
    "cyclonedx-json": ".cdx.json",
    "cyclonedx-xml": ".cdx.xml",
}
CYCLONEDX_VERSIONS = ("1.7", "1.6")  # the first is the default
MEDIA_TYPES = {
    "spdx-json": "application/spdx+json",
    "spdx-tv": "text/spdx",
    "spdx3-json": "application/spdx+json",
    "cyclonedx-json": "application/vnd.cyclonedx+json",
    "cyclonedx-xml": "application/vnd.cyclonedx+xml",
}


@dataclass(frozen=True)
class SbomOptions:
    """What every SBOM-making job takes. ``formats``: keys of FORMATS; ``extra_checksums``:
    "SHA512" (SHA1 and SHA256 are always given); ``creators``: who made the SBOM, as
    ``--creator`` takes them ("Organization: NAME (https://URL)", "Person: NAME <E-MAIL>");
    ``cyclonedx_version``: "1.7" or "1.6"."""

    formats: tuple[str, ...] = ("spdx-json",)
    cyclonedx_version: str = CYCLONEDX_VERSIONS[0]
    extra_checksums: tuple[str, ...] = ()
    allow_mismatch: bool = False
    creators: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    index: EnrichOptions = field(default_factory=EnrichOptions)

    def __post_init__(self) -> None:
        from ..errors import UsageError

        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise UsageError(
                f"--format: unknown {', '.join(unknown) or 'nothing'}; choose from {', '.join(FORMATS)}"
            )
        if self.cyclonedx_version not in CYCLONEDX_VERSIONS:
            raise UsageError(
                f"--cyclonedx-version: {self.cyclonedx_version!r} is not one of "
                + ", ".join(CYCLONEDX_VERSIONS)
            )


class Document:
    """One rendered, validated document. Its bytes come as pieces (SPDX JSON streams its
    files from a temporary database), to be consumed once: ``pieces()`` to write them,
    or ``data`` for the whole."""

    def __init__(self, format: str, pieces: bytes | Iterable[bytes]) -> None:
        self.format = format
        self.suffix = FORMATS[format]
        self._data: bytes | None = pieces if isinstance(pieces, bytes) else None
        self._pieces: Iterable[bytes] = () if isinstance(pieces, bytes) else pieces

    def pieces(self) -> Iterable[bytes]:
        if self._data is not None:
            return (self._data,)
        pieces, self._pieces = self._pieces, ()
        return pieces

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = b"".join(self.pieces())
        return self._data


@dataclass(frozen=True)
class Sbom:
    """What a job made: the inventory, the notices worth telling a user (missing metadata,
    versions that disagree), and one Document per format asked for, in the order asked."""

    inventory: Inventory
    notices: tuple[str, ...]
    documents: Mapping[str, Document]


def source_sbom(
    artifact: str | os.PathLike[str],
    options: SbomOptions | None = None,
    steps: Steps = SILENT,
    *,
    process_ends: bool = False,
) -> Sbom:
    """The SBOM of a CPython source release (a .tgz, .tar.xz, .tar.bz2, .tar or .zip
    archive, or an unpacked tree): what ``sbomgen tarball`` writes. ``process_ends``: the
    calling process ends after this job (the command line), so it lowers its own priority
    while a forked child reads the artifact."""
    from ..scan import DEFAULT_CHECKSUMS, collection_paused, default_scanners, scan

    options = options or SbomOptions()
    artifact = Path(artifact)
    writer = _DeferredSpdxWriter(options.creators)
    with collection_paused():
        with steps.step(f"Reading {artifact.name}", forks=True) as update:
            inventory = scan(
                artifact,
                checksums=DEFAULT_CHECKSUMS + tuple(c.upper() for c in options.extra_checksums),
                allow_mismatch=options.allow_mismatch,
                limits=options.limits,
                scanners=default_scanners(cache_dir=options.index.cache_dir),
                progress=update,
                yield_to_reading=process_ends,
            )
        return _finish(inventory, options, writer, steps)


def distribution_sbom(
    path: str | os.PathLike[str], options: SbomOptions | None = None, steps: Steps = SILENT
) -> Sbom:
    """The SBOM of a wheel (.whl: the project from its METADATA, every file checked against
    RECORD, vendored packages, the SBOMs it carries) or an sdist (PKG-INFO, every file,
    vendored packages): what ``sbomgen wheel`` and ``sbomgen sdist`` write."""
    from ..scan import scan
    from ..scan.distribution import DistributionScanner

    options = options or SbomOptions()
    path = Path(path)
    is_wheel = path.name.endswith(".whl")
    with steps.step(f"Reading {path.name}", forks=True):
        inventory = scan(
            path,
            scanners=[DistributionScanner(wheel=is_wheel, cache_dir=options.index.cache_dir)],
            top_folder=not is_wheel,
            limits=options.limits,
            checksums=("SHA1", "SHA256", *(c.upper() for c in options.extra_checksums)),
        )
    return _finish(inventory, options, _DeferredSpdxWriter(options.creators), steps)


def embedded_wheel(
    wheel: str | os.PathLike[str], options: SbomOptions | None = None, steps: Steps = SILENT
) -> tuple[bytes, Sbom]:
    """A copy of ``wheel`` carrying its SPDX SBOM (PEP 770: ``*.dist-info/sboms/``, RECORD
    updated), and the SBOM of the wheel as given (its documents: ``options.formats``)."""
    from .embed import wheel_with_sbom

    options = options or SbomOptions()
    made = distribution_sbom(wheel, options, steps)
    with steps.step("Embedding the SBOM"):
        return wheel_with_sbom(Path(wheel), made.inventory, options.creators), made


def windows_sbom(
    artifact: str | os.PathLike[str],
    source: str | os.PathLike[str],
    options: SbomOptions | None = None,
    steps: Steps = SILENT,
) -> Sbom:
    """The SBOM of a Windows installer or embeddable zip, built from ``source`` (the source
    tarball or tree it was built from)."""
    from .windows import read_source, windows_inventory

    options = options or SbomOptions()
    with steps.step(f"Reading {Path(source).name}", forks=True):
        parts = read_source(Path(source), options.limits)
    with steps.step(f"Reading {Path(artifact).name}", forks=True):
        inventory = windows_inventory(Path(artifact), parts, options.limits)
    return _finish(inventory, options, _DeferredSpdxWriter(options.creators), steps)


def _finish(inventory: Inventory, options: SbomOptions, writer: _DeferredSpdxWriter, steps: Steps) -> Sbom:
    from ..enrich.lookup import enrich

    with steps.step("Asking the package index"):
        inventory, enrich_notices = enrich(inventory, options.index)
    documents = {}
    for output_format in options.formats:  # all or nothing: every document is validated first
        with steps.step(f"Writing {output_format}"):
            made = render(output_format, inventory, writer, options.cyclonedx_version)
            documents[output_format] = Document(output_format, made)
    return Sbom(inventory, (*inventory.notices, *enrich_notices), documents)


def render(
    output_format: str,
    inventory: Inventory,
    writer: Any = None,
    cyclonedx_version: str = CYCLONEDX_VERSIONS[0],
    creators: tuple[str, ...] = (),
) -> bytes | Iterable[bytes]:
    """One format of an inventory, validated; ``writer``: the SPDX writer files were prepared in
    (with its creators), else ``creators`` (``--creator`` values)."""
    writer = writer or _DeferredSpdxWriter(creators)
    if output_format == "spdx-json":
        return writer.render_parts(inventory)
    if output_format == "spdx-tv":
        return writer.render_tag_value(inventory)
    if output_format == "spdx3-json":
        from ..write import spdx3

        return spdx3.render_parts(inventory, writer.creators)
    from ..write import cyclonedx

    schema = cyclonedx.VERSIONS[cyclonedx_version]
    return cyclonedx.render_parts(
        inventory, xml=output_format == "cyclonedx-xml", schema=schema, creators=writer.creators
    )


class _DeferredSpdxWriter:
    """The SPDX writer, made (and its library loaded) when a document is first rendered:
    after the reading process has ended, so that the two never hold their memory at once."""

    def __init__(self, creators: tuple[str, ...]) -> None:
        self.creators = creators
        self.writer: Any = None

    def render_parts(self, inventory: Inventory) -> Iterator[bytes]:
        return self._writer().render_parts(inventory)

    def render_tag_value(self, inventory: Inventory) -> bytes:
        return self._writer().render_tag_value(inventory)

    def _writer(self) -> Any:
        if self.writer is None:
            from ..write.spdx import SpdxWriter

            self.writer = SpdxWriter(self.creators)
        return self.writer
