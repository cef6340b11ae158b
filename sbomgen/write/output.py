"""Atomic output: a temporary file beside the target, then a rename.

A rename replaces whatever the target path names, so only a missing target or a regular
file is replaced: as root, renaming over ``/dev/null`` would turn the device into a file,
over ``/dev/stdout`` would replace the link and print nothing, over a symbolic link would
drop the link. ``/dev/stdout`` and its other spellings mean ``-`` (standard output).
Commands check their targets with ``check_outputs`` before the work starts.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import OutputError, UsageError

STDOUT = "-"
_STDOUT_NAMES = frozenset({"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/proc/thread-self/fd/1"})
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def is_stdout(target: str | os.PathLike[str]) -> bool:
    """``-``, or one of the names of this process's standard output (``/dev/stdout``,
    ``/dev/fd/1``, ``/proc/self/fd/1``). Any other name of a device, even the one standard
    output happens to be, is refused like every device: the answer must not depend on
    where the caller sent standard output."""
    text = os.fspath(target)
    return text == STDOUT or os.path.normpath(text) in _STDOUT_NAMES | {f"/proc/{os.getpid()}/fd/1"}


def _kind(mode: int) -> str | None:
    """What a target that must not be replaced is (None for a regular file)."""
    return next((name for test, name in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "not a file")


def _replaceable(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # the folder's check says what is missing
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    kind = _kind(mode)
    if kind is not None:
        raise OutputError(f"cannot write {path}: it is {kind}, and sbomgen replaces only regular files")


def _writable_folder(path: Path, folder: Path, create: bool) -> None:
    """``folder`` (to hold ``path``) exists and takes new files; with ``create``, the
    nearest folder that exists does."""
    existing = folder
    while create and not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        what = "does not exist" if not os.path.lexists(existing) else "is not a folder"
        raise OutputError(f"cannot write {path}: {existing} {what}")
    try:  # as root, access() says yes to everything but a read-only file system: try it
        fd, probe = tempfile.mkstemp(prefix=".sbomgen-", suffix=".tmp", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {existing}: {exc.strerror}") from None


def _same_file(path: Path, source: Path) -> bool:
    try:
        return os.path.samefile(path, source)
    except OSError:
        return os.path.realpath(path) == os.path.realpath(source)


def check_outputs(
    targets: Iterable[str | os.PathLike[str]],
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    create_folders: bool = False,
) -> None:
    """Before any work: a target that is one of ``inputs`` (under any name or link) is a
    UsageError; a target that is not a regular file, or whose folder is missing or takes
    no files, is an OutputError. ``create_folders``: the folders are made when writing."""
    sources = [Path(p) for p in inputs if p is not None]
    for target in targets:
        if is_stdout(target):
            continue
        path = Path(target)
        source = next((s for s in sources if _same_file(path, s)), None)
        if source is not None:
            raise UsageError(f"cannot write {path}: it is the input {source}; choose another output")
        _replaceable(path)
        _writable_folder(path, path.parent, create_folders)


def write_atomic(target: str | os.PathLike[str], data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (or its pieces, in order) to ``target`` (``-``: stdout) so that it
    holds all or nothing."""
    pieces = [data] if isinstance(data, bytes) else data
    if is_stdout(target):
        sys.stdout.buffer.writelines(pieces)
        sys.stdout.buffer.flush()
        return
    path = Path(target)
    _replaceable(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
            handle.writelines(pieces)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        _replaceable(path)  # again: the target may have changed while the pieces were made
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
