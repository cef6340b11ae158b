"""Zip archives byte by byte, for the flags, methods and extra fields zipfile will not write."""

from __future__ import annotations

import bz2
import struct
import zipfile
import zlib
from dataclasses import dataclass

UTF8 = 0x800
ENCRYPTED = 0x1
FILE, DIRECTORY, SYMLINK = 0o100644, 0o40755, 0o120777


def unicode_path(name: str, header_name: bytes) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075) naming a member ``name``."""
    data = b"\x01" + struct.pack("<I", zlib.crc32(header_name)) + name.encode()
    return struct.pack("<HH", 0x7075, len(data)) + data


@dataclass
class Entry:
    name: bytes
    data: bytes = b""
    method: int = 0  # 0 stored; 8, 12 and 14 compressed here (unless raw); others: data as given
    flags: int = UTF8
    extra: bytes = b""  # central directory
    local_extra: bytes = b""
    mode: int = FILE
    system: int = 3  # Unix: the mode is recorded
    raw: bool = False  # data stored as given whatever the method says
    local_flags: int | None = None  # the local header's, when they differ from the central


def build(*entries: Entry) -> bytes:
    body = bytearray()
    central = bytearray()
    for entry in entries:
        packed = entry.data
        if entry.method == 8 and not entry.raw:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = compressor.compress(entry.data) + compressor.flush()
        elif entry.method == 12 and not entry.raw:
            packed = bz2.compress(entry.data)
        elif entry.method == 14 and not entry.raw:
            lzma = zipfile.LZMACompressor()
            packed = lzma.compress(entry.data) + lzma.flush()
        crc = zlib.crc32(entry.data)
        common = struct.pack(
            "<HHHHHIIIHH",
            20,
            entry.flags,
            entry.method,
            0,
            33,  # 1980-01-01
            crc,
            len(packed),
            len(entry.data),
            len(entry.name),
            0,
        )
        offset = len(body)
        local_common = common
        if entry.local_flags is not None:
            local_common = common[:2] + struct.pack("<H", entry.local_flags) + common[4:]
        local = b"PK\x03\x04" + local_common[:-2] + struct.pack("<H", len(entry.local_extra))
        body += local + entry.name + entry.local_extra + packed
        central += (
            b"PK\x01\x02"
            + struct.pack("<H", entry.system << 8 | 20)
            + common[:-2]
            + struct.pack("<HHHHII", len(entry.extra), 0, 0, 0, entry.mode << 16, offset)
            + entry.name
            + entry.extra
        )
    end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(body), 0
    )
    return bytes(body + central + end)


def release(*entries: Entry, top: str = "Python-3.99.0/") -> bytes:
    """A minimal CPython-like zip holding ``entries`` after its top folder and patchlevel.h."""
    base = [
        Entry(top.encode(), mode=DIRECTORY),
        Entry(f"{top}Include/patchlevel.h".encode(), b'#define PY_VERSION "3.99.0"\n'),
    ]
    return build(*base, *entries)
