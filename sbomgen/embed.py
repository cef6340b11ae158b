"""PEP 770: a wheel that carries its own SBOM in ``*.dist-info/sboms/``, RECORD updated.

The new wheel holds the original's members in their order with their timestamps, the SBOM
beside them, and RECORD last, so the same input gives the same bytes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from pathlib import Path

from .errors import ContentError

SBOM_NAME = "sbomgen.spdx.json"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


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
        rows = [
            row
            for row in csv.reader(io.StringIO(source.read(record_path).decode("utf-8")))
            if row and row[0] not in (record_path, sbom_path)
        ]
        newest = max((i.date_time for i in infos), default=(1980, 1, 1, 0, 0, 0))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for info in infos:
                if info.filename in (record_path, sbom_path):
                    continue
                target.writestr(_member(info.filename, info.date_time, info.external_attr), source.read(info))
            target.writestr(_member(sbom_path, newest), sbom)
            rows.append([sbom_path, _record_hash(sbom), str(len(sbom))])
            rows.append([record_path, "", ""])
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(rows)
            target.writestr(_member(record_path, newest), text.getvalue().encode())
    return buffer.getvalue()


def _member(
    name: str, date_time: tuple[int, int, int, int, int, int], external_attr: int = 0o644 << 16
) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = external_attr or (0o644 << 16)
    info.create_system = 3
    return info
