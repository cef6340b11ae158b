"""Tar archives byte by byte, for the headers no well-behaved writer makes."""

from __future__ import annotations

BLOCK = 512
TOP = "Python-3.99.0/"
END = bytes(2 * BLOCK)
POSIX, GNU = b"ustar\x0000", b"ustar  \x00"


def header(
    name: str,
    kind: bytes = b"0",
    size: int = 0,
    link: str = "",
    magic: bytes = POSIX,
    prefix: str = "",
    size_field: bytes | None = None,
) -> bytes:
    block = bytearray(BLOCK)
    block[0 : len(name.encode())] = name.encode()
    block[100:108] = b"0000644\x00"
    block[108:124] = b"0000000\x00" * 2
    block[124:136] = size_field if size_field is not None else b"%011o\x00" % size
    block[136:148] = b"%011o\x00" % 1_700_000_000
    block[156:157] = kind
    block[157 : 157 + len(link.encode())] = link.encode()
    block[257:265] = magic
    block[345 : 345 + len(prefix.encode())] = prefix.encode()
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def member(name: str, data: bytes = b"", kind: bytes = b"0", **fields: object) -> bytes:
    return header(name, kind, len(data), **fields) + padded(data)  # type: ignore[arg-type]


def pax(records: dict[str, str], kind: bytes = b"x") -> bytes:
    body = b""
    for key, value in records.items():
        record = f" {key}={value}\n".encode()
        length = len(record) + 1
        while len(str(length).encode() + record) != length:
            length += 1
        body += str(length).encode() + record
    return header("PaxHeaders/x", kind, len(body)) + padded(body)


def long_name(name: str, kind: bytes = b"L") -> bytes:
    data = name.encode() + b"\x00"
    return header("././@LongLink", kind, len(data), magic=GNU) + padded(data)


def release(*members: bytes) -> bytes:
    """A minimal CPython-like release holding ``members``, ended properly."""
    base = member(TOP, kind=b"5") + member(f"{TOP}Include/patchlevel.h", b'#define PY_VERSION "3.99.0"\n')
    return base + b"".join(members) + END
