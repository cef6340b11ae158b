"""Is reading linear on hostile archive shapes? Each at two sizes, the second ten times the first.

Builds, in a temporary folder, small .tar.xz archives of the shapes an adversary would
pick against the member-name checks, then runs ``sbomgen tarball --offline`` on each and
prints the wall time, the CPU time (user + system of every process) and the peak memory
(PSS of the parent and the reading child, summed; see measure.py), with the ratios of the
large run to the small one. Linear means a time ratio near 10 (at most 12) and a memory
ratio near 1. Not a test: it asserts nothing.

    python bench/bench_shapes.py [--shape NAME ...] [--timeout SECONDS] [--memory-limit MB]

Shapes: ``depth`` (one file 20,000 / 200,000 folders deep), ``link-target`` (a symlink
whose target has 16,000 / 160,000 parts), ``links`` (10,000 / 100,000 symlinks, chained
through each other), ``empty`` (100,000 / 1,000,000 empty members).
"""

from __future__ import annotations

import argparse
import lzma
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "tests"))
sys.path.insert(0, str(ROOT))

from measure import measure  # noqa: E402
from raw_tar import END, TOP, member, pax  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def base() -> Iterator[bytes]:
    yield member(TOP, kind=b"5")
    yield member(f"{TOP}Include/patchlevel.h", b'#define PY_VERSION "3.99.0"\n')


def depth(levels: int) -> Iterator[bytes]:
    """One file ``levels`` folders deep, with no member for any of the folders."""
    yield from base()
    name = TOP + "d/" * levels + "file"
    yield pax({"path": name}) + member("placeholder")


def link_target(parts: int) -> Iterator[bytes]:
    """A symlink whose target descends ``parts`` folders (that need not exist)."""
    yield from base()
    yield pax({"linkpath": "/".join(["d"] * parts)}) + member(f"{TOP}link", kind=b"2", link="placeholder")


def links(count: int) -> Iterator[bytes]:
    """``count`` symlinks in folders of 1,000, each to the one before it, every 32nd to a
    file: 31 hops to follow from most of them."""
    yield from base()
    for index in range(count):
        folder = f"{TOP}f{index // 1000}/"
        if index % 1000 == 0:
            yield member(folder, kind=b"5")
            yield member(f"{folder}file", b"x\n")
        target = "file" if index % 32 == 0 or index % 1000 == 0 else f"l{index - 1}"
        yield member(f"{folder}l{index}", kind=b"2", link=target)


def empty(count: int) -> Iterator[bytes]:
    """``count`` empty files in folders of 1,000 (with no member for the folders)."""
    first = list(base())
    yield from first
    for index in range(count - len(first)):
        yield member(f"{TOP}d{index // 1000}/f{index % 1000}")


SHAPES: dict[str, tuple[Callable[[int], Iterator[bytes]], int]] = {
    "depth": (depth, 20_000),
    "link-target": (link_target, 16_000),
    "links": (links, 10_000),
    "empty": (empty, 100_000),
}


def build(path: Path, members: Iterator[bytes]) -> None:
    with lzma.open(path, "wb", preset=1) as out:
        for data in members:
            out.write(data)
        out.write(END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", choices=list(SHAPES), help="(repeatable) default: all")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run may take (default 600)")
    parser.add_argument("--memory-limit", type=float, default=4096, help="MB a run may use (default 4096)")
    args = parser.parse_args()
    print(f"{'shape':<12} {'size':>9} {'archive':>9} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}  result")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name in args.shape or list(SHAPES):
            make, small = SHAPES[name]
            results = []
            for size in (small, 10 * small):
                archive = folder / f"{name}-{size}.tar.xz"
                build(archive, make(size))
                command = [sys.executable, "-m", "sbomgen", "tarball", str(archive), "--offline"]
                command += ["--cache-dir", str(folder / "cache"), "-o", str(folder / "out.spdx.json")]
                result = measure(
                    command,
                    env=ENV,
                    timeout=args.timeout,
                    memory_limit=int(args.memory_limit * 2**20),
                )
                outcome = (
                    f"stopped: over the {result.killed} limit"
                    if result.killed
                    else "ok"
                    if result.returncode == 0
                    else f"exit {result.returncode}: {result.stderr.strip().splitlines()[-1][:80]}"
                )
                print(
                    f"{name:<12} {size:>9,} {archive.stat().st_size:>9,} {result.wall:>8.2f} "
                    f"{result.cpu:>8.2f} {result.peak_pss / 2**20:>8.1f}  {outcome}",
                    flush=True,
                )
                results.append(result)
                archive.unlink()
            one, ten = results
            if not (one.killed or ten.killed):
                print(
                    f"{name:<12} {'10x/1x':>9} {'':>9} {ten.wall / one.wall:>7.1f}x "
                    f"{ten.cpu / one.cpu:>7.1f}x {ten.peak_pss / max(one.peak_pss, 1):>7.2f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
