"""Run a command and measure its whole process tree: wall time, CPU time, peak memory.

Memory is the proportional set size (PSS) of every process of the tree, summed, sampled
from ``/proc/PID/smaps_rollup`` every ``interval`` seconds: a forked child's pages shared
with its parent count once, so the sum is what the tree costs the machine. CPU is user +
system of the command and every descendant it waited for (``wait4``). Linux only.

    from measure import measure
    result = measure([sys.executable, "-m", "sbomgen", "tarball", archive, "-o", out])
    print(result.wall, result.cpu, result.peak_pss / 2**20)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    wall: float  # seconds
    cpu: float  # seconds of user + system time, the whole tree
    peak_pss: int  # bytes, the largest sum over the tree seen in one sample
    returncode: int  # negative: killed by that signal
    stderr: str
    killed: str | None = None  # why measure ended the tree: "timeout" or "memory"


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants alive now."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                pending += map(int, Path(f"/proc/{current}/task/{task}/children").read_text().split())
        except OSError:
            continue  # it ended meanwhile
    return found


def pss(pid: int) -> int:
    """The proportional set size of one process in bytes, 0 once it has ended."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    interval: float = 0.02,
    timeout: float | None = None,
    memory_limit: int | None = None,
) -> Measurement:
    """Run ``command`` (stdout discarded, stderr kept) and measure it. ``timeout`` (seconds)
    and ``memory_limit`` (bytes of summed PSS) end the whole tree when passed, so that a
    run that would take hours or all the memory reports that instead."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # one process group to end, whatever the tree
    )
    peak = 0
    killed: list[str] = []
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, sum(map(pss, tree(process.pid))))
            why = (
                "memory"
                if memory_limit is not None and peak > memory_limit
                else "timeout"
                if timeout is not None and time.perf_counter() - start > timeout
                else None
            )
            if why is not None and not killed:
                killed.append(why)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            if done.wait(interval):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stderr is not None
    stderr = process.stderr.read()  # to the end: the pipe never fills
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if not killed:  # the tree may outlive its root: what it leaves is not the command's
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_pss=peak,
        returncode=process.returncode,
        stderr=stderr.decode("utf-8", "replace"),
        killed=killed[0] if killed else None,
    )
