"""Time `sbomgen tarball` against plain decompression of the same archive.

Runs the two alternately in one session, so both see the same machine state, and prints
the median ratio and the peak resident memory. sbomgen runs as an installed tool does,
from compiled bytecode (pip compiles it at install time; PYTHONDONTWRITEBYTECODE, if set,
is dropped so that the warm-up run writes it). Not a test: it asserts nothing.

    python bench/bench_tarball.py [ARCHIVE] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from index_server import IndexServer  # noqa: E402

DEFAULT = ROOT.parent / "shared/data/cpython/Python-3.13.5.tar.xz"
TARGETS = {"xz": 1.2, "gzip": 1.3, "bzip2": 1.2}
DECOMPRESSORS = {
    ".xz": ["xz", "-dc"],
    ".tgz": ["gzip", "-dc"],
    ".gz": ["gzip", "-dc"],
    ".bz2": ["bzip2", "-dc"],
}


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, int]:
    """Wall time and peak RSS (KiB; the largest of the process and its children)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{' '.join(command)} failed with status {status}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    baseline = DECOMPRESSORS.get(args.archive.suffix)
    if baseline is None or shutil.which(baseline[0]) is None:
        sys.exit(f"no decompressor baseline for {args.archive}")
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"
        # Index metadata from a warmed cache, offline: the benchmark measures the scan, not the network.
        with IndexServer() as server:
            index = ["--index-url", server.url]  # the cache is keyed by index
            warm = [sys.executable, "-m", "sbomgen", "cache", "warm", str(args.archive)]
            run([*warm, *index, "--cache-dir", str(cache)])
        sbomgen = [
            sys.executable,
            "-m",
            "sbomgen",
            "tarball",
            str(args.archive),
            "--offline",
            *index,
            "--cache-dir",
            str(cache),
        ]
        output = str(Path(scratch) / "out.spdx.json")
        run([*sbomgen, "-o", output])  # warm the page cache and the bytecode cache
        base_times, tool_times, peaks = [], [], []
        for _ in range(args.rounds):
            base_times.append(run([*baseline, str(args.archive)])[0])
            elapsed, peak = run([*sbomgen, "-o", output])
            tool_times.append(elapsed)
            peaks.append(peak)
    base, tool = statistics.median(base_times), statistics.median(tool_times)
    print(f"archive            {args.archive.name} ({args.archive.stat().st_size / 1e6:.1f} MB)")
    print(f"rounds             {args.rounds}, alternating")
    print(f"{' '.join(baseline):<18} median {base:.3f} s")
    print(f"sbomgen tarball    median {tool:.3f} s")
    target = TARGETS.get(baseline[0], 1.2)
    ratio = tool / base
    peak = max(peaks) / 1024
    verdict = {True: "met", False: "NOT met"}
    print(f"ratio              {ratio:.2f}x  (target <= {target:.1f}x: {verdict[ratio <= target]})")
    print(f"peak RSS           {peak:.1f} MB  (target < 64 MB: {verdict[peak < 64]}; largest process)")


if __name__ == "__main__":
    main()
