"""Decompress an artifact chunk by chunk, digesting its raw bytes on the way in.

Two ways, chosen per format for the least time on two cores:

- on a thread, for xz, bzip2 and (without python-isal) gzip: liblzma, libbz2 and zlib
  release the interpreter lock while they work, so decompression runs beside the tar
  parsing and hashing, on another core. Output comes in 128 KiB pieces, which are still
  in the processor's cache when they are hashed (liblzma then runs as fast as ``xz -dc``);
  a bounded queue between the two keeps memory flat;
- inline, for gzip when python-isal is installed: its inflate is about four times as fast
  as zlib's or the ``gzip`` tool's, but holds the lock, so it runs in the reading thread,
  a piece at a time, as the tar reader asks for more.

``SBOMGEN_DECOMPRESSION=thread`` or ``=inline`` forces one way for every format.
"""

from __future__ import annotations

import bz2
import collections
import hashlib
import lzma
import os
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

try:
    from isal import isal_zlib
except ImportError:  # no wheel for this platform: zlib on a thread is the next best
    isal_zlib = None  # type: ignore[assignment]

CHUNK = 1 << 20  # inline: decompressed bytes handed out at once
_PIECE = 1 << 17  # thread: decompressed bytes handed out at once
_RAW_CHUNK = 1 << 18
_PIECES = 16  # thread: pieces in flight (2 MiB: a pass blocked on the parent stays small)
_UNDIGESTED = 8 << 20  # thread: raw bytes waiting for the reading thread's digest, at most


def put_unless_stopped(into: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    """Put ``item`` into a bounded queue, waiting for room, unless ``stop`` is set first."""
    while not stop.is_set():
        try:
            into.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


class DecompressionError(Exception):
    """The compressed stream is damaged, truncated or not what its magic bytes say."""


class _Codec:
    """One compressed stream format, driven with large inputs and bounded outputs."""

    def __init__(self, make: Callable[[], Any], bounded_by_tail: bool, padded: bool = False) -> None:
        self.make = make
        self.bounded_by_tail = bounded_by_tail  # zlib keeps unused input in unconsumed_tail
        self.padded = padded  # xz: streams may be separated by zero bytes, four at a time

    def chunks(self, read: Callable[[int], bytes], first: bytes, size: int) -> Iterator[bytes]:
        data = first
        while True:
            decompressor = self.make()
            while not decompressor.eof:
                if not data:
                    data = read(_RAW_CHUNK)
                    if not data:
                        raise EOFError("compressed stream is truncated")
                out = decompressor.decompress(data, size)
                if self.bounded_by_tail:
                    data = decompressor.unconsumed_tail
                else:
                    data = b""
                    while not decompressor.eof and not decompressor.needs_input:
                        if out:
                            yield out
                        out = decompressor.decompress(b"", size)
                if out:
                    yield out
            data = decompressor.unused_data or read(_RAW_CHUNK)
            padding = 0
            while data[:1] == b"\0":  # zero bytes after a stream: padding, or the end
                rest = data.lstrip(b"\0")
                padding += len(data) - len(rest)
                data = rest or read(_RAW_CHUNK)
            if not data:
                return
            if padding and not (self.padded and padding % 4 == 0):
                raise DecompressionError(f"{padding} zero bytes between compressed streams")


_ISAL_ERRORS: tuple[type[Exception], ...] = (isal_zlib.error,) if isal_zlib is not None else ()  # type: ignore[assignment]
_GZIP, _XZ, _BZIP2 = b"\x1f\x8b", b"\xfd7zXZ\x00", b"BZh"


def _codec(first: bytes, inline: bool) -> _Codec:
    if first.startswith(_GZIP):
        inflating = isal_zlib if inline and isal_zlib is not None else zlib
        return _Codec(lambda: inflating.decompressobj(16 + zlib.MAX_WBITS), bounded_by_tail=True)
    if first.startswith(_XZ):
        return _Codec(lzma.LZMADecompressor, bounded_by_tail=False, padded=True)
    if first.startswith(_BZIP2):
        return _Codec(bz2.BZ2Decompressor, bounded_by_tail=False)
    raise DecompressionError("not a gzip, xz or bzip2 stream")


def is_compressed(head: bytes) -> bool:
    return head.startswith((_GZIP, _XZ, _BZIP2))


def open_decompressed(path: str | os.PathLike[str], head: bytes, algorithms: tuple[str, ...]) -> _Reader:
    """A reader of the artifact's decompressed bytes; ``head`` is its first bytes."""
    forced = os.environ.get("SBOMGEN_DECOMPRESSION")
    if forced == "inline" or (not forced and head.startswith(_GZIP) and isal_zlib is not None):
        return InlineReader(path, algorithms)
    return ThreadedReader(path, algorithms)


class _Reader:
    """The artifact read once: ``checksums`` holds its digests once ``next_chunk`` said b""."""

    def __init__(self, path: str | os.PathLike[str], algorithms: tuple[str, ...]) -> None:
        self.checksums: dict[str, str] = {}
        self._hashers = {a: hashlib.new(a.lower()) for a in algorithms}
        self._raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()

    def _digested(self) -> None:
        self.checksums = {a: h.hexdigest() for a, h in self._hashers.items()}

    def next_chunk(self) -> bytes:
        """The next chunk of decompressed bytes; empty at the end."""
        raise NotImplementedError

    def close(self) -> None:
        self._raw.close()


class InlineReader(_Reader):
    """Decompresses in the caller's thread, a chunk per call."""

    def __init__(self, path: str | os.PathLike[str], algorithms: tuple[str, ...]) -> None:
        super().__init__(path, algorithms)
        first = self._read(_RAW_CHUNK)
        self._chunks = _codec(first, inline=True).chunks(self._read, first, CHUNK)

    def _read(self, size: int) -> bytes:
        data = self._raw.read(size)
        for hasher in self._hashers.values():
            hasher.update(data)
        return data

    def next_chunk(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self._digested()
            return b""
        except _ISAL_ERRORS as exc:
            raise DecompressionError(str(exc)) from None


class ThreadedReader(_Reader):
    """Decompresses on a thread of its own, into a bounded queue. The artifact's own bytes
    are digested by the reading thread, as it takes pieces: the decompressing thread is
    the one a scan waits for."""

    def __init__(self, path: str | os.PathLike[str], algorithms: tuple[str, ...]) -> None:
        super().__init__(path, algorithms)
        self._undigested: collections.deque[bytes] = collections.deque()
        self._undigested_bytes = 0
        self._digesting = threading.Lock()
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(_PIECES)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _read_raw(self, size: int) -> bytes:
        data = self._raw.read(size)
        with self._digesting:
            self._undigested.append(data)
            self._undigested_bytes += len(data)
        if self._undigested_bytes > _UNDIGESTED:  # input that yields no output: digest it here
            self._digest_pending()
        return data

    def _digest_pending(self) -> None:
        with self._digesting:
            while self._undigested:
                data = self._undigested.popleft()
                self._undigested_bytes -= len(data)
                for hasher in self._hashers.values():
                    hasher.update(data)

    def _run(self) -> None:
        try:
            first = self._read_raw(_RAW_CHUNK)
            for piece in _codec(first, inline=False).chunks(self._read_raw, first, _PIECE):
                if self._stop.is_set():
                    return
                self._put(piece)
            self._put(None)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)

    def _put(self, item: bytes | BaseException | None) -> None:
        put_unless_stopped(self._queue, item, self._stop)

    def next_chunk(self) -> bytes:
        if self._done:
            return b""
        item = self._queue.get()
        self._digest_pending()
        if item is None or isinstance(item, BaseException):
            self._done = True
            if item is not None:
                raise item
            self._digested()
            return b""
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        super().close()
