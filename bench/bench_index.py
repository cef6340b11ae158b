"""Cold-cache index lookups of one release: concurrent against one-at-a-time.

Serves the recorded index documents from a loopback server that waits DELAY seconds
before each answer, scans the release once, then enriches it with an empty cache twice:
with the default concurrency and with one request at a time. Not a test.

    python bench/bench_index.py [ARCHIVE] [--delay SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from index_server import IndexServer  # noqa: E402

from sbomgen import scan  # noqa: E402
from sbomgen.enrich import EnrichOptions  # noqa: E402
from sbomgen.enrich.index import IndexSettings  # noqa: E402
from sbomgen.enrich.lookup import enrich  # noqa: E402

DEFAULT = ROOT.parent / "shared/data/cpython/Python-3.13.5.tar.xz"


def timed_enrich(inventory: object, settings: IndexSettings) -> float:
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        enrich(inventory, EnrichOptions(index=settings, cache_dir=Path(cache), strict=True))  # type: ignore[arg-type]
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    inventory = scan(args.archive)
    lookups = sum(
        1
        for c in inventory.components
        if c.purl and c.purl.startswith("pkg:pypi/") and not c.download_location
    )
    with IndexServer(delay=args.delay) as server:
        settings = IndexSettings(url=server.url)
        concurrent = timed_enrich(inventory, settings)
        sequential = timed_enrich(inventory, replace(settings, workers=1))
    print(f"archive          {args.archive.name}: {lookups} index lookups, {args.delay:.2f} s per response")
    print(f"concurrent       {concurrent:.2f} s  ({concurrent / args.delay:.1f} response times)")
    print(f"one at a time    {sequential:.2f} s  ({sequential / args.delay:.1f} response times)")
    print(f"speed-up         {sequential / concurrent:.1f}x")


if __name__ == "__main__":
    main()
