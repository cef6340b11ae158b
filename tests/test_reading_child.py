"""The forked reading child hands the parent every record as the pass made it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import write_tar

# Run in a process of its own: the test process has threads, and read() forks only without.
COMPARE = """
import sys
from sbomgen.read import child as reading
from sbomgen.read.archive import ArchiveReader

def items(read):
    reader = ArchiveReader(sys.argv[1], algorithms=("SHA256",))
    wanted = {"empty.txt", "big.bin", "small.txt"}.__contains__
    return [
        (i.top, i.checksums, i.case_clashes, i.through_links) if isinstance(i, reading.Summary) else i
        for i in read(reader, ("SHA1", "SHA256"), wanted)
    ]

assert not reading._other_threads()
forked = items(reading.read)
assert forked == items(reading.records), "the forked pass differs"
contents = {item[0]: item[6] for item in forked[:-1]}
assert contents["big.bin"] == open(sys.argv[2], "rb").read()
assert (contents["empty.txt"], contents["small.txt"], contents["other.c"]) == (b"", b"hello\\n", None)
print(len(forked))
"""


def test_wanted_contents_cross_the_pipe_whole(tmp_path: Path) -> None:
    """Contents go as frames of their own: empty, larger than the pipe, and between records."""
    big = os.urandom(3 << 20)
    (tmp_path / "big").write_bytes(big)
    tree = {"empty.txt": b"", "big.bin": big, "other.c": b"int x;\n", "small.txt": b"hello\n"}
    path = write_tar(tmp_path / "Python-3.99.0.tar.xz", tree, mode="w:xz")
    env = {k: v for k, v in os.environ.items() if k != "SBOMGEN_NO_FORK"}
    done = subprocess.run(
        [sys.executable, "-c", COMPARE, str(path), str(tmp_path / "big")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "5\n"  # four members and the summary
