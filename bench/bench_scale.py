"""Does an archive N times larger take N times as long, in the same memory?

Builds synthetic CPython-style archives from a real release (gzip level 1, fast to make):
one holding the release once, others holding it N times (copies under ``copy-N/``), then
measures ``sbomgen tarball --offline`` on each: time, and peak memory as the PSS of parent
and child summed (bench/measure.py). sbomgen runs from compiled bytecode, as an installed
tool does. Not a test: it asserts nothing.

    python bench/bench_scale.py [ARCHIVE] [--copies 16,64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from measure import Measurement, measure

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


def run(archive: Path, output: Path) -> Measurement:
    command = [
        sys.executable,
        "-m",
        "sbomgen",
        "tarball",
        str(archive),
        "-o",
        str(output),
        "--offline",
        "-qq",
    ]
    result = measure(command, env=ENV)
    if result.returncode != 0:
        sys.exit(f"sbomgen failed on {archive}: {result.stderr.strip()[-500:]}")
    return result


def main() -> None:
    if sys.argv[1:2] == ["--build"]:
        source, target, copies = sys.argv[2:5]
        build(Path(source), Path(target), int(copies))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--copies", default="16,64", help="comma-separated: the larger archives")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    sizes = [1, *map(int, args.copies.split(","))]
    results: dict[int, list[Measurement]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for copies in sizes:
            target = Path(scratch) / f"x{copies}" / "Python-3.13.5.tgz"
            target.parent.mkdir()
            # Built by a process of its own, one at a time: each needs its disk space only
            # while it is measured.
            command = [sys.executable, __file__, "--build", str(args.archive), str(target), str(copies)]
            subprocess.run(command, check=True)
            if copies == 1:
                run(target, target.with_suffix(".json"))  # warm the page and bytecode caches
            results[copies] = [run(target, target.with_suffix(".json")) for _ in range(args.rounds)]
            size = target.stat().st_size
            target.unlink()
            target.with_suffix(".json").unlink()
            one = results[1]
            wall = statistics.median(r.wall for r in results[copies])
            peak = max(r.peak_pss for r in results[copies])
            ratio = wall / statistics.median(r.wall for r in one)
            memory = peak / max(r.peak_pss for r in one)
            print(
                f"{copies:>3} copies  {size / 1e6:>7.0f} MB  {wall:>8.2f} s ({ratio:>5.1f}x)"
                f"  peak PSS {peak / 2**20:>6.1f} MB ({memory:.2f}x; target under 64 MB)",
                flush=True,
            )


if __name__ == "__main__":
    main()
