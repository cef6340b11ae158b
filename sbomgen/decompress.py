"""Decompress an artifact in a worker thread, digesting its raw bytes on the way.

zlib, bz2 and lzma release the GIL while they work, so the thread that reads tar headers
and hashes members runs alongside the one that decompresses: the pass costs about as
much as decompression alone. The queue between them is bounded, so memory stays flat.
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

CHUNK = 1 << 20
_RAW_CHUNK = 1 << 18
_DEPTH = 8  # chunks in flight between the threads


class _Codec:
    """One compressed stream format, driven with large inputs and bounded outputs.

    Large inputs matter: the standard library's file wrappers feed 8 KiB at a time,
    and every hand-back of the GIL between the two threads costs a switch interval.
    """

    def __init__(self, make: Callable[[], Any], bounded_by_tail: bool) -> None:
        self.make = make
        self.bounded_by_tail = bounded_by_tail  # zlib keeps input in unconsumed_tail

    def chunks(self, read: Callable[[int], bytes], first: bytes) -> Iterator[bytes]:
        data = first
        while True:
            decompressor = self.make()
            while not decompressor.eof:
                if not data:
                    data = read(_RAW_CHUNK)
                    if not data:
                        raise EOFError("compressed stream is truncated")
                out = decompressor.decompress(data, CHUNK)
                if self.bounded_by_tail:
                    data = decompressor.unconsumed_tail
                else:
                    data = b""
                    while not decompressor.eof and not decompressor.needs_input:
                        if out:
                            yield out
                        out = decompressor.decompress(b"", CHUNK)
                if out:
                    yield out
            data = decompressor.unused_data + (b"" if decompressor.unused_data else read(_RAW_CHUNK))
            while data and not data.strip(b"\0"):  # zero padding after the last stream
                data = read(_RAW_CHUNK)
            if not data:
                return


_CODECS = (
    (b"\x1f\x8b", _Codec(lambda: zlib.decompressobj(16 + zlib.MAX_WBITS), bounded_by_tail=True)),
    (b"\xfd7zXZ\x00", _Codec(lzma.LZMADecompressor, bounded_by_tail=False)),
    (b"BZh", _Codec(bz2.BZ2Decompressor, bounded_by_tail=False)),
)


class _Digesting:
    def __init__(self, raw: BinaryIO, algorithms: tuple[str, ...]) -> None:
        self.raw = raw
        self.hashers = {a: hashlib.new(a.lower()) for a in algorithms}

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        for hasher in self.hashers.values():
            hasher.update(data)
        return data

    def readable(self) -> bool:
        return True


def _plain(read: Callable[[int], bytes], first: bytes) -> Iterator[bytes]:
    chunk = first
    while chunk:
        yield chunk
        chunk = read(CHUNK)


class DecompressingReader:
    """A read-only file of the decompressed bytes; ``checksums`` of the raw file at EOF."""

    def __init__(self, raw: BinaryIO, algorithms: tuple[str, ...]) -> None:
        self.checksums: dict[str, str] = {}
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(_DEPTH)
        self._stop = threading.Event()
        self._view = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._work, args=(raw, algorithms), daemon=True)
        self._thread.start()

    def _work(self, raw: BinaryIO, algorithms: tuple[str, ...]) -> None:
        try:
            digesting = _Digesting(raw, algorithms)
            first = digesting.read(_RAW_CHUNK)
            chunks: Iterator[bytes] = _plain(digesting.read, first)
            for magic, codec in _CODECS:
                if first.startswith(magic):
                    chunks = codec.chunks(digesting.read, first)
                    break
            for chunk in chunks:
                if self._stop.is_set():
                    return
                self._put(chunk)
            while digesting.read(_RAW_CHUNK):  # anything after the last stream
                pass
            self.checksums = {a: h.hexdigest() for a, h in digesting.hashers.items()}
            self._put(None)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)

    def _put(self, item: bytes | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, size: int = -1) -> bytes:
        parts = []
        wanted = size if size >= 0 else 1 << 62
        while wanted > 0:
            if not self._view:
                if self._done:
                    break
                item = self._queue.get()
                if item is None:
                    self._done = True
                    break
                if isinstance(item, BaseException):
                    self._done = True
                    raise item
                self._view = memoryview(item)
            taken = self._view[:wanted]
            self._view = self._view[len(taken) :]
            parts.append(bytes(taken))
            wanted -= len(taken)
        return b"".join(parts)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
