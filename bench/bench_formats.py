"""Each output format of `sbomgen tarball` against plain decompression of the same archive.

For every format, in alternating rounds so that all see the same machine state: wall time
(target 1.2x the decompressor's), CPU time of the whole process tree (user + system,
target 1.3x the decompressor's), wall time with both pinned to one core (``taskset -c 0``,
target 1.35x) and peak memory, the PSS of every process summed (target under 64 MB). Each
figure is the median over the rounds; the table gives the ratios. sbomgen runs as an
installed tool does, from compiled bytecode, with index metadata from a warmed cache and
``--offline``: the scan is measured, not the network. Not a test: it asserts nothing.

    python bench/bench_formats.py [ARCHIVE] [--rounds N] [--formats spdx-json,...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from index_server import IndexServer  # noqa: E402
from measure import Measurement, measure  # noqa: E402

from sbomgen.workflows.sbom import FORMATS  # noqa: E402

DEFAULT = ROOT.parent / "shared/data/cpython/Python-3.13.5.tar.xz"
DECOMPRESSORS = {
    ".xz": ["xz", "-dc"],
    ".tgz": ["gzip", "-dc"],
    ".gz": ["gzip", "-dc"],
    ".bz2": ["bzip2", "-dc"],
}
TARGETS = {"wall": 1.2, "cpu": 1.3, "pinned": 1.35}
MEMORY_TARGET = 64 * 2**20
PIN = ["taskset", "-c", "0"]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str]) -> Measurement:
    result = measure(command, env=ENV)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    formats = args.formats.split(",")
    floor = DECOMPRESSORS.get("".join(args.archive.suffixes[-1:]))
    if floor is None or shutil.which(floor[0]) is None:
        sys.exit(f"no decompressor baseline for {args.archive}")
    pin = PIN if shutil.which("taskset") else []
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"
        with IndexServer() as server:
            index = ["--index-url", server.url, "--cache-dir", str(cache)]
            run([sys.executable, "-m", "sbomgen", "cache", "warm", str(args.archive), *index])

        def sbomgen(format: str) -> list[str]:
            output = str(Path(scratch) / f"out{FORMATS[format]}")
            return [sys.executable, "-m", "sbomgen", "tarball", str(args.archive), "--offline", *index,
                    "-f", format, "-o", output, "-q"]  # fmt: skip

        for format in formats:  # warm the page cache and the bytecode cache
            run(sbomgen(format))
        rows: dict[str, dict[str, list[float]]] = {name: {} for name in ["floor", *formats]}
        for _ in range(args.rounds):
            for name, command in [
                ("floor", [*floor, str(args.archive)]),
                *((f, sbomgen(f)) for f in formats),
            ]:
                free, pinned = run(command), run([*pin, *command]) if pin else None
                figures = rows[name]
                figures.setdefault("wall", []).append(free.wall)
                figures.setdefault("cpu", []).append(free.cpu)
                figures.setdefault("pss", []).append(free.peak_pss)
                if pinned is not None:
                    figures.setdefault("pinned", []).append(pinned.wall)
    median = {name: {k: statistics.median(v) for k, v in figures.items()} for name, figures in rows.items()}
    base = median["floor"]
    print(
        f"{args.archive.name} ({args.archive.stat().st_size / 1e6:.1f} MB), {args.rounds} alternating rounds"
    )
    print(f"floor: {' '.join(floor)}: wall {base['wall']:.3f} s, CPU {base['cpu']:.3f} s", end="")
    print(f", pinned {base['pinned']:.3f} s" if "pinned" in base else "")
    header = f"{'format':<16}{'wall':>16}{'CPU':>16}{'pinned':>16}{'peak PSS':>18}"
    print(header)
    for format in formats:
        figures, cells = median[format], []
        for key in ("wall", "cpu", "pinned"):
            if key not in figures:
                cells.append(f"{'-':>16}")
                continue
            ratio = figures[key] / base[key]
            mark = "" if ratio <= TARGETS[key] else "!"
            cells.append(f"{figures[key]:>7.3f} s{ratio:>5.2f}x{mark:1}")
        peak = max(rows[format]["pss"])
        mark = "" if peak < MEMORY_TARGET else "!"
        print(f"{format:<16}{''.join(cells)}{peak / 2**20:>11.1f} MB{mark:1}")
    targets = ", ".join(f"{k} {v}x" for k, v in TARGETS.items())
    print(f"targets: {targets}, peak PSS (parent + child, summed) under {MEMORY_TARGET >> 20} MB; ! = missed")


if __name__ == "__main__":
    main()
