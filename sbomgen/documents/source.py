"""Opening what the user names: regular files only, read with a bound.

A FIFO or a device named as an input would block or never end, a directory is not a
document, and a file larger than its kind may be is refused before it is read whole.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import SbomgenError


@contextmanager
def open_regular(path: Path, what: str, error: type[SbomgenError]) -> Iterator[BinaryIO]:
    """``path`` opened for reading, if it is a regular file (opening never blocks)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"{what}: cannot read {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise error(f"{what}: {path} is not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with handle:
        yield handle


def read_bounded(path: Path, what: str, error: type[SbomgenError], limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them."""
    with open_regular(path, what, error) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"{what}: cannot read {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise error(f"{what}: {path} is larger than the {limit:,} bytes it may have")
    return data
