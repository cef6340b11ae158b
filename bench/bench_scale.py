"""Does a ten times larger archive take ten times as long, in the same memory?

Builds two synthetic CPython-style archives from a real release (gzip level 1, fast to
make): one holding the release once, one holding it ten times (nine copies under
``copy-N/``), then times ``sbomgen tarball --offline`` on each and prints the time and
peak-memory ratios. sbomgen runs from compiled bytecode, as an installed tool does. Not a
test: it asserts nothing.

    python bench/bench_scale.py [ARCHIVE] [--copies N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/cpython/Python-3.13.5.tar.xz"
SKIP_IN_COPIES = (
    "Misc/sbom.spdx.json",
    "Misc/externals.spdx.json",
    "Include/patchlevel.h",
    "Lib/ensurepip/_bundled/",
)


def build(source: Path, target: Path, copies: int) -> None:
    with tarfile.open(target, "w:gz", compresslevel=1) as out:
        for copy in range(copies):
            with tarfile.open(source, "r|*") as original:
                for member in original:
                    top, _, rest = member.name.partition("/")
                    if copy and (not rest or rest.startswith(SKIP_IN_COPIES)):
                        continue
                    if copy:
                        member.name = f"{top}/copy-{copy}/{rest}"
                        member.pax_headers.pop("path", None)  # else the long original name wins
                    out.addfile(member, original.extractfile(member) if member.isreg() else None)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(archive: Path, output: Path) -> tuple[float, int]:
    command = [sys.executable, "-m", "sbomgen", "tarball", str(archive), "-o", str(output), "--offline"]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"sbomgen failed on {archive}")
    return time.perf_counter() - start, usage.ru_maxrss


def main() -> None:
    if sys.argv[1:2] == ["--build"]:
        source, target, copies = sys.argv[2:5]
        build(Path(source), Path(target), int(copies))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        single, large = base / "Python-3.13.5.tgz", base / "large" / "Python-3.13.5.tgz"
        large.parent.mkdir()
        # Built by a process of their own: Linux carries a process's peak RSS across
        # fork and exec, so sbomgen's would otherwise start at this one's, swollen by
        # building a large archive.
        for target, copies in ((single, 1), (large, args.copies)):
            command = [sys.executable, __file__, "--build", str(args.archive), str(target), str(copies)]
            subprocess.run(command, check=True)
        run(single, base / "small.json")  # warm the page cache and the bytecode cache
        small_runs = [run(single, base / "small.json") for _ in range(args.rounds)]
        large_runs = [run(large, base / "large.json") for _ in range(args.rounds)]
        sizes = single.stat().st_size, large.stat().st_size
    small_time = statistics.median(t for t, _ in small_runs)
    large_time = statistics.median(t for t, _ in large_runs)
    small_rss = max(m for _, m in small_runs) / 1024
    large_rss = max(m for _, m in large_runs) / 1024
    print(f"archives           {sizes[0] / 1e6:.0f} MB and {sizes[1] / 1e6:.0f} MB ({args.copies} copies)")
    print(f"time               {small_time:.2f} s and {large_time:.2f} s: {large_time / small_time:.1f}x")
    print(f"peak RSS           {small_rss:.1f} MB and {large_rss:.1f} MB: {large_rss / small_rss:.2f}x")


if __name__ == "__main__":
    main()
