"""Decompress an artifact in a child process, digesting its raw bytes on the way in.

Decompression is the floor of a scan's cost. Done in a child process it runs on its own
core, free of the interpreter lock that the parent needs for parsing tar headers, hashing
members and preparing output, so the whole pass costs about as much as decompression
alone. A thread in the parent drains the pipe into a bounded queue: memory stays flat.

The child is the system's ``xz`` or ``gzip`` when there is one (it starts in a
millisecond and is the baseline decompression is measured against); otherwise this
module itself, which imports nothing outside the standard library and runs with
``python -I``. Either way a non-zero exit or an error message fails the read.
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import lzma
import os
import queue
import shutil
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

CHUNK = 1 << 20
_RAW_CHUNK = 1 << 18
_DEPTH = 6  # chunks in flight in the parent


class DecompressionError(Exception):
    """The compressed stream is damaged, truncated or not what its magic bytes say."""


class _Codec:
    """One compressed stream format, driven with large inputs and bounded outputs."""

    def __init__(self, make: Callable[[], Any], bounded_by_tail: bool) -> None:
        self.make = make
        self.bounded_by_tail = bounded_by_tail  # zlib keeps unused input in unconsumed_tail

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
            data = decompressor.unused_data or read(_RAW_CHUNK)
            while data and not data.strip(b"\0"):  # zero padding after the last stream
                data = read(_RAW_CHUNK)
            if not data:
                return


CODECS = {
    b"\x1f\x8b": _Codec(lambda: zlib.decompressobj(16 + zlib.MAX_WBITS), bounded_by_tail=True),
    b"\xfd7zXZ\x00": _Codec(lzma.LZMADecompressor, bounded_by_tail=False),
    b"BZh": _Codec(bz2.BZ2Decompressor, bounded_by_tail=False),
}
# bzip2 is left out: it accepts trailing garbage with only a warning.
TOOLS = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz"}


def system_tool(head: bytes) -> str | None:
    """The system decompressor for a stream starting with ``head``, if installed."""
    if os.environ.get("SBOMGEN_PYTHON_DECOMPRESSION"):
        return None
    name = next((tool for magic, tool in TOOLS.items() if head.startswith(magic)), None)
    return shutil.which(name) if name else None


def is_compressed(head: bytes) -> bool:
    return any(head.startswith(magic) for magic in CODECS)


def _child() -> int:
    """Read a compressed stream on stdin, write it decompressed to stdout; errors to stderr."""
    raw, out = sys.stdin.buffer, sys.stdout.buffer
    try:
        first = raw.read(_RAW_CHUNK)
        codec = next((c for magic, c in CODECS.items() if first.startswith(magic)), None)
        if codec is None:
            raise ValueError("not a gzip, xz or bzip2 stream")
        for chunk in codec.chunks(raw.read, first):
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        return 1  # the parent stopped reading: it knows why
    except (EOFError, OSError, ValueError, lzma.LZMAError, zlib.error) as exc:
        sys.stderr.write(f"{exc or type(exc).__name__}\n")
        return 1
    return 0


class DecompressingReader:
    """An artifact's decompressed bytes, chunk by chunk.

    A feeding thread reads the artifact once, digesting it on the way into the
    decompressor's stdin; a draining thread queues what comes out. ``checksums`` holds the
    digests of the raw artifact once everything was read.
    """

    def __init__(self, path: str | os.PathLike[str], algorithms: tuple[str, ...]) -> None:
        self.checksums: dict[str, str] = {}
        self._hashers = {a: hashlib.new(a.lower()) for a in algorithms}
        self._raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        tool = system_tool(os.pread(self._raw.fileno(), 8, 0))
        command = [tool, "-dc"] if tool else [sys.executable, "-I", os.path.abspath(__file__)]
        pipe = subprocess.PIPE
        self._process = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe)
        assert self._process.stdin is not None and self._process.stdout is not None
        # Wide pipes both ways: the threads that feed and drain them wait for the GIL.
        _widen_pipe(self._process.stdin.fileno())
        _widen_pipe(self._process.stdout.fileno())
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(_DEPTH)
        self._stop = threading.Event()
        self._done = False
        self._fed = False  # every byte of the artifact went to the decompressor
        self._feed_error: OSError | None = None
        self._feeder = threading.Thread(target=self._feed, daemon=True)
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._feeder.start()
        self._thread.start()

    def _feed(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            while not self._stop.is_set():
                data = self._raw.read(_RAW_CHUNK)
                if not data:
                    self._fed = True
                    break
                for hasher in self._hashers.values():
                    hasher.update(data)
                stdin.write(data)
        except BrokenPipeError:
            pass  # the decompressor stopped: its exit status says why
        except OSError as exc:
            self._feed_error = exc
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _drain(self) -> None:
        process = self._process
        assert process.stdout is not None and process.stderr is not None
        try:
            while not self._stop.is_set():
                chunk = process.stdout.read(CHUNK)  # whole chunks: the queue's depth counts chunks
                if not chunk:
                    break
                self._put(chunk)
            report = process.stderr.read().decode("utf-8", "replace").strip()
            status = process.wait()
            self._feeder.join()
            if self._feed_error is not None:
                raise self._feed_error
            if status != 0 or report:
                raise DecompressionError(report or f"exited with status {status}")
            if not self._fed:
                raise DecompressionError("the decompressor stopped before the end of the artifact")
            self.checksums = {a: h.hexdigest() for a, h in self._hashers.items()}
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

    def next_chunk(self) -> bytes:
        """The next chunk of decompressed bytes; empty at the end."""
        if self._done:
            return b""
        item = self._queue.get()
        if item is None or isinstance(item, BaseException):
            self._done = True
            if item is not None:
                raise item
            return b""
        return item

    def close(self) -> None:
        self._stop.set()
        if self._process.poll() is None:
            self._process.kill()
        self._feeder.join()
        self._thread.join()
        self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()
        self._raw.close()


def _widen_pipe(fd: int) -> None:
    """A 1 MiB pipe buffer (Linux only): the thread at this end may wait several
    milliseconds for the GIL without stalling the decompressor at the other."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), CHUNK)
    except (ImportError, OSError):
        pass


if __name__ == "__main__":
    sys.exit(_child())
