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


def _label(path: Path, what: str) -> str:
    """How errors name the file: ``what`` is an option, or the path itself."""
    return str(path) if what == str(path) else f"{what}: {path}"


@contextmanager
def open_regular(path: Path, what: str, error: type[SbomgenError]) -> Iterator[BinaryIO]:
    """``path`` opened for reading, if it is a regular file (opening never blocks)."""
    label = _label(path, what)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"{label}: cannot read it: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise error(f"{label} is not a regular file")
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
    label = _label(path, what)
    with open_regular(path, what, error) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise error(f"{label} is larger than the {limit:,} bytes it may have")
        try:
            data = handle.read(size + 1)
        except OSError as exc:
            raise error(f"{label}: cannot read it: {exc.strerror}") from None
    if len(data) > size:
        raise error(f"{label} changed while it was read")
    return data
