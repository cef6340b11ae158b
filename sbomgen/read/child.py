"""The one pass over an artifact's bytes, in a forked child where the platform can fork.

The pass (decompression, tar parsing, the checks on every name, the digests of every
member) then runs beside the parent's own light work (the file table, the scanners that
look at members as they come), each on its own core; the parent loads its heavy libraries
(the document models, the output libraries) once the child has ended, so that the two
processes never hold their largest memory at once. The parent receives
each member as a small record: path, kind, size, time, link and digests, plus the whole
content of the few members a scanner asked for. Errors raised in the pass reach the
parent as the same sbomgen error, with the same message.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from .. import errors
from ..errors import ArchiveError
from .archive import ArchiveReader, Kind

# (path, kind, size, mtime, link, digests or None, whole content or None)
Record = tuple[str, str, int, int, "str | None", "tuple[str, ...] | None", "bytes | None"]
_END, _ERROR, _CRASH = "end", "error", "crash"
_CONTENT = "content"  # a record whose content follows as a frame of its own, not marshalled
_PIPE_SIZE = 1 << 20
_SEND_BUFFER = 1 << 16
_READ = 1 << 16  # bytes of one pipe read in the parent
_DEPTH = 16  # its buffers: what may wait for the parent, 1 MiB
_NICENESS = 10
# Wanted contents kept for links to them, at most: a link to one not kept costs a second
# pass, and an archive of many wanted members (license files, wheels) keeps memory flat.
_KEPT = 1 << 20


class Summary:
    """What the pass knows once the last member is read; ``case_clashes``: how many member
    paths differ only in case or normalisation from an earlier one's, and the first such
    pair; ``through_links``: the content of each wanted member that is a link, read through it."""

    def __init__(
        self,
        top: str | None,
        checksums: dict[str, str],
        case_clashes: tuple[int, tuple[str, str] | None],
        through_links: dict[str, bytes] | None = None,
    ):
        self.top = top
        self.checksums = checksums
        self.case_clashes = case_clashes
        self.through_links = through_links or {}


def records(
    reader: ArchiveReader,
    algorithms: tuple[str, ...],
    wants: Callable[[str], bool],
    heads: Callable[[str], int] | None = None,
    keeps_head: Callable[[str, bytes], bool] | None = None,
) -> Iterator[Record | Summary]:
    """Each member as a record, then the Summary; the pass itself, wherever it runs.
    ``heads``: how many leading bytes of a member nobody wants whole to send along (0: none);
    ``keeps_head``: whether a member's head is worth sending (else it is not sent)."""
    constructors = [getattr(hashlib, a.lower()) for a in algorithms]
    kept: dict[str, bytes] = {}  # wanted contents up to _KEPT bytes, for a link to one of them
    links: list[str] = []  # wanted paths that are links or lie below one
    try:
        yield from _members(
            reader, constructors, wants, kept, links, heads or _no_head, keeps_head or _any_head
        )
    except ArchiveError:
        reader.check_names()
        raise
    links += [path for path in reader.paths_through_linked_folders() if wants(path)]
    through = _through_links(reader, links, kept, constructors[:1]) if links else {}
    yield Summary(reader.top, reader.checksums, reader.case_clashes(), through)


def _members(
    reader: ArchiveReader,
    constructors: list[Any],
    wants: Callable[[str], bool],
    kept: dict[str, bytes],
    links: list[str],
    heads: Callable[[str], int],
    keeps_head: Callable[[str, bytes], bool],
) -> Iterator[Record]:
    kept_size = 0
    for member, content in reader.members():
        if content is None:
            if member.kind in (Kind.SYMLINK, Kind.HARDLINK) and wants(member.path):
                links.append(member.path)
            elif member.kind is Kind.DIR and wants(member.path):
                raise ArchiveError(
                    f"{reader.where}: {member.path} is a folder, and sbomgen must read it as a file"
                )
            yield (member.path, member.kind.value, member.size, member.mtime, member.link, None, None)
            continue
        wanted = wants(member.path)
        if wanted and member.size > reader.limits.max_nested_size:
            raise ArchiveError(
                f"{reader.where}: {member.path} is {member.size} bytes, over the limit of "
                f"{reader.limits.max_nested_size} for a member opened whole (--max-nested-size)"
            )
        head = 0 if wanted else heads(member.path)
        hashers = [new() for new in constructors]
        kept_chunks: list[bytes] = []
        size = 0
        for chunk in content.chunks():
            for hasher in hashers:
                hasher.update(chunk)
            if wanted:
                kept_chunks.append(bytes(chunk))
            elif size < head:
                kept_chunks.append(bytes(chunk[: head - size]))
            size += len(chunk)
        digests = tuple(h.hexdigest() for h in hashers)
        whole = None
        if wanted:
            whole = b"".join(kept_chunks)
            kept_chunks.clear()  # one copy of a bundled wheel at a time, not two
            if kept_size + size <= _KEPT:
                kept[member.path] = whole
                kept_size += size
        elif head:
            whole = b"".join(kept_chunks)
            if not keeps_head(member.path, whole):
                whole = None
        if digests:  # to tell whether a second pass reads the same bytes
            reader.note_digest(digests[0])
        yield (member.path, Kind.FILE.value, size, member.mtime, None, digests, whole)


def _no_head(path: str) -> int:
    return 0


def _any_head(path: str, head: bytes) -> bool:
    return True


def _through_links(
    reader: ArchiveReader,
    links: list[str],
    kept: dict[str, bytes],
    constructors: list[Any],
) -> dict[str, bytes]:
    """The content of each wanted link, as an extracted tree gives it to whoever opens the
    link: the regular file behind it. A file the pass did not keep (a link to a member
    nobody wanted, or to a later one) is read by a second pass; a link that leads to no
    file is an error, never a silent skip."""
    behind: dict[str, str] = {}
    for path in links:
        target = reader.file_behind(path)
        if target is None:
            raise ArchiveError(
                f"{reader.where}: {path} is a link that leads to no file in the archive, "
                "and sbomgen must read it"
            )
        behind[path] = target
    missing = {target for target in behind.values() if target not in kept}
    if missing:
        for target, content in reader.read_again(missing).items():
            if constructors and constructors[0](content).hexdigest() != reader.digest_of(target):
                raise ArchiveError(f"{reader.where}: {target} changed between two reads of the artifact")
            kept[target] = content
        gone = sorted(missing - kept.keys())
        if gone:
            raise ArchiveError(f"{reader.where}: {', '.join(gone)} vanished on a second read")
    through = {path: kept[target] for path, target in behind.items()}
    # Many links to one big member would hand the scanners its bytes many times over.
    total = sum(map(len, through.values()))
    if total > reader.limits.max_total_size:
        raise ArchiveError(
            f"{reader.where}: the members read through links add up to more than "
            f"{reader.limits.max_total_size} bytes (--max-total-size)"
        )
    return through


def read(
    reader: ArchiveReader,
    algorithms: tuple[str, ...],
    wants: Callable[[str], bool],
    yield_to_reading: bool = False,
    bytes_read: Callable[[int], None] | None = None,
    heads: Callable[[str], int] | None = None,
    keeps_head: Callable[[str, bytes], bool] | None = None,
) -> Iterator[Record | Summary]:
    """``records``, produced in a forked child where that is safe: the platform can fork
    and no other thread is alive to hold a lock the child would need (SBOMGEN_NO_FORK=1:
    never). ``yield_to_reading``: lower this process's priority meanwhile, for good.
    ``bytes_read``: called now and then with the bytes the child has read from its files,
    where the system tells (Linux); that is how far into a compressed artifact it is."""
    if not hasattr(os, "fork") or _other_threads() or os.environ.get("SBOMGEN_NO_FORK"):
        yield from records(reader, algorithms, wants, heads, keeps_head)
        return
    receiving, sending = os.pipe()
    _widen_pipe(sending)
    pid = os.fork()
    if pid == 0:
        _child(lambda: _produce(records(reader, algorithms, wants, heads, keeps_head), sending), receiving)
    os.close(sending)
    receiver = _Receiver(receiving)
    reaped = False
    try:
        if yield_to_reading:
            _yield_to_reading()
        watch = _BytesRead(pid, bytes_read) if bytes_read is not None else None
        for item in receiver.items():
            if watch is not None:
                watch.poll()
            if item[0] == _END:
                yield Summary(*item[1])
                return
            if item[0] == _ERROR:
                raise _error(*item[1:])
            if item[0] == _CRASH:
                raise RuntimeError(f"the reading process failed:\n{item[1]}")
            yield item[1]
        reaped = True  # the child closed the pipe without saying how the pass ended
        raise _stopped(pid)
    finally:
        try:
            if not reaped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        finally:
            receiver.close()


class _BytesRead:
    """The child's ``rchar`` from /proc, read at most ten times a second."""

    def __init__(self, pid: int, report: Callable[[int], None]) -> None:
        self.path = f"/proc/{pid}/io"
        self.report = report
        self.next = 0.0

    def poll(self) -> None:
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + 0.1
        try:
            with open(self.path, "rb") as io:
                line = next(line for line in io if line.startswith(b"rchar:"))
        except (OSError, StopIteration):
            self.next = float("inf")  # not a system that tells
            return
        self.report(int(line.split()[1]))


def _child(produce: Callable[[], int], receiving: int) -> NoReturn:
    """The forked child: run the pass and exit, whatever happens; never return into the
    caller's code. Interrupts end it at once: the parent reports them."""
    status = 1
    try:
        for number in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(number) is not signal.SIG_IGN:  # ignored stays ignored (nohup, &)
                signal.signal(number, signal.SIG_DFL)
        os.close(receiving)
        status = produce()
    finally:
        os._exit(status)


def _other_threads() -> bool:
    """Whether any thread but this one is alive, counting threads Python did not start."""
    try:
        return len(os.listdir("/proc/self/task")) > 1
    except OSError:
        return threading.active_count() > 1


def _error(name: str, message: str, exit_code: int) -> errors.SbomgenError:
    """The sbomgen error the child raised, rebuilt."""
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, errors.SbomgenError):
        return kind(message)
    error = errors.SbomgenError(message)
    error.exit_code = exit_code
    return error


def _stopped(pid: int) -> errors.SbomgenError:
    """The child ended without saying how: killed, most likely (out of memory?). Reaps it."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 0
    if os.WIFSIGNALED(status):
        how = f"was killed by signal {os.WTERMSIG(status)}"
    else:
        how = f"stopped before the end (status {os.waitstatus_to_exitcode(status)})"
    return errors.SbomgenError(f"the process reading the artifact {how}")


def _yield_to_reading() -> None:
    """Lower this process's priority, the child's pass being what the run waits for: while
    the parent takes in the records, three threads (the decompressor's, the child's and the
    parent's) want two cores, and the scheduler should let the parent wait."""
    with contextlib.suppress(OSError):
        os.nice(max(0, _NICENESS - os.nice(0)))


def _produce(produced: Iterator[Record | Summary], fd: int) -> int:
    """Send every record down ``fd``, then how the pass ended. The child's exit status."""
    try:
        with open(fd, "wb", buffering=_SEND_BUFFER) as out:
            try:
                for item in produced:
                    if isinstance(item, Summary):
                        message: tuple[Any, ...] = (
                            _END,
                            (item.top, item.checksums, item.case_clashes, item.through_links),
                        )
                    else:
                        message = ("", item)
                    _send(out, message)
            except errors.SbomgenError as exc:
                _send(out, (_ERROR, type(exc).__name__, str(exc), exc.exit_code))
            except Exception:
                import traceback

                _send(out, (_CRASH, traceback.format_exc()))
        return 0
    except (OSError, KeyboardInterrupt):  # the parent is gone or was interrupted: it knows why
        return 1


def _send(out: Any, message: tuple[Any, ...]) -> None:
    content = message[1][6] if message[0] == "" else None
    if content is not None:  # written as it is: marshalling would copy it once more
        message = (_CONTENT, message[1][:6])
    data = marshal.dumps(message)
    out.write(len(data).to_bytes(8, "little"))
    out.write(data)
    if content is not None:
        out.write(len(content).to_bytes(8, "little"))
        out.write(content)


class _Receiver:
    """Messages from the child; a thread drains the pipe so the child never waits on the
    parent's imports, into a fixed set of buffers so memory stays flat when the parent falls
    behind. The buffers are made once and passed back and forth: whatever the draining
    thread allocated would come from a malloc arena of its own, which grows with the run
    (to 10 MB over 77,000 files) however little is alive in it at once."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(_DEPTH):
            self._free.put(bytearray(_READ))
        self._filled: queue.Queue[tuple[bytearray, int]] = queue.Queue()  # never more than _DEPTH
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                free = self._free.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                count = os.readv(self._fd, [free])
            except OSError:
                count = 0
            self._filled.put((free, count))
            if not count:
                return

    def items(self) -> Iterator[tuple[Any, ...]]:
        """Each message; a record whose content came as a frame of its own, whole again."""
        buffer = bytearray()
        start = 0
        waiting: tuple[Any, ...] | None = None  # the record the next frame is the content of
        while True:
            filled, count = self._filled.get()
            if not count:
                return
            if start:
                del buffer[:start]
                start = 0
            with memoryview(filled) as data:
                buffer += data[:count]
            self._free.put(filled)
            while len(buffer) - start >= 8:
                size = int.from_bytes(buffer[start : start + 8], "little")
                end = start + 8 + size
                if end > len(buffer):
                    break
                with memoryview(buffer) as view:
                    if waiting is not None:
                        message, waiting = ("", (*waiting, bytes(view[start + 8 : end]))), None
                    else:
                        message = marshal.loads(view[start + 8 : end])
                start = end
                if message[0] == _CONTENT:
                    waiting = message[1]
                    continue
                yield message

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._fd)


def _widen_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE)
    except (ImportError, OSError):
        pass
