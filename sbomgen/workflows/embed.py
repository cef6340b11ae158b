"""PEP 770: a wheel that carries its own SBOM in ``*.dist-info/sboms/``, RECORD updated.

The new wheel holds the original's members in their order with their timestamps, the SBOM
beside them, and RECORD last, so the same input gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..documents.record import MAX_RECORD_BYTES, RecordRow, read_record, record_bytes, record_hash
from ..errors import ContentError
from ..model import Inventory
from ..write.spdx import SpdxWriter

SBOM_NAME = "sbomgen.spdx.json"


def wheel_with_sbom(wheel: Path, inventory: Inventory, creators: Sequence[str] = ()) -> bytes:
    """The bytes of ``wheel`` carrying the SPDX SBOM of ``inventory``, the wheel's own. Inside
    the new wheel the SBOM describes its content: the new file's digest cannot be in it, and
    the index's file, whose bytes differ, is not where the new wheel comes from."""
    root = replace(inventory.component(inventory.root), checksums=(), download_location=None)
    components = tuple(root if c.key == root.key else c for c in inventory.components)
    inner = replace(inventory, components=components)
    return embed(wheel, SpdxWriter(creators).render(inner))


def embed(wheel: Path, sbom: bytes) -> bytes:
    """The bytes of ``wheel`` with ``sbom`` at ``*.dist-info/sboms/sbomgen.spdx.json``."""
    try:
        source = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ContentError(f"{wheel.name}: not a wheel ({exc})") from None
    with source:
        infos = source.infolist()
        records = [
            i.filename
            for i in infos
            if i.filename.count("/") == 1 and i.filename.endswith(".dist-info/RECORD")
        ]
        if len(records) != 1:
            raise ContentError(f"{wheel.name}: no single *.dist-info/RECORD")
        record_path = records[0]
        dist_info = record_path.rsplit("/", 1)[0]
        sbom_path = f"{dist_info}/sboms/{SBOM_NAME}"
        record = read_record(
            _read_record(source, record_path, wheel.name),
            record_path,
            f"{wheel.name}:{record_path}",
            ContentError,
        )
        rows = [r for r in record.rows if r.path not in (record_path, sbom_path)]
        newest = max((i.date_time for i in infos), default=(1980, 1, 1, 0, 0, 0))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for info in infos:
                if info.filename in (record_path, sbom_path):
                    continue
                target.writestr(_member(info.filename, info.date_time, info.external_attr), source.read(info))
            target.writestr(_member(sbom_path, newest), sbom)
            rows.append(RecordRow(sbom_path, record_hash(hashlib.sha256(sbom).digest()), str(len(sbom))))
            rows.append(RecordRow(record_path, "", ""))
            target.writestr(_member(record_path, newest), record_bytes(rows))
    return buffer.getvalue()


def _member(
    name: str, date_time: tuple[int, int, int, int, int, int], external_attr: int = 0o644 << 16
) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = external_attr or (0o644 << 16)
    info.create_system = 3
    return info


def _read_record(source: zipfile.ZipFile, record_path: str, where: str) -> bytes:
    info = source.getinfo(record_path)
    if info.file_size > MAX_RECORD_BYTES:
        raise ContentError(f"{where}:{record_path}: {info.file_size:,} bytes, more than a RECORD may have")
    try:
        with source.open(info) as handle:
            return handle.read(MAX_RECORD_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        raise ContentError(f"{where}: cannot read {record_path} ({exc})") from None
