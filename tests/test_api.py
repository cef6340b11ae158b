"""The Python API does what the command does: the README's example, run as it is written,
gives the bytes ``sbomgen tarball`` writes with the same options (index metadata from the
loopback index), and each public name the README's table lists exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CPYTHON_311, sbomgen

README = Path(__file__).resolve().parents[1] / "README.md"


def _api_example() -> str:
    section = README.read_text().split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_api_example_gives_the_bytes_of_the_command(tmp_path: Path) -> None:
    example = _api_example()
    formats = re.search(r"formats=\(([^)]*)\)", example)
    assert formats is not None
    asked = [f.strip().strip('"') for f in formats.group(1).split(",") if f.strip()]
    assert asked == ["spdx-json", "cyclonedx-json"]
    namespace: dict[str, object] = {}
    exec(
        compile(example.replace('"Python-3.13.5.tar.xz"', repr(str(CPYTHON_311))), "README", "exec"),
        namespace,
    )
    made = namespace["made"]

    run = sbomgen("tarball", CPYTHON_311, "-f", ",".join(asked), "-o", f"{tmp_path}/")
    assert run.returncode == 0, run.stderr
    assert namespace["spdx_json"] == (tmp_path / f"{CPYTHON_311.name}.spdx.json").read_bytes()
    assert made.documents["cyclonedx-json"].data == (tmp_path / f"{CPYTHON_311.name}.cdx.json").read_bytes()  # type: ignore[attr-defined]
    assert b"https://files.pythonhosted.org/" in namespace["spdx_json"]  # type: ignore[operator]
    for notice in made.notices:  # type: ignore[attr-defined]
        assert f"sbomgen: {notice}" in run.stderr


def test_every_call_the_readme_lists_is_public() -> None:
    import sbomgen

    table = README.read_text().split("## Python API", 1)[1].split("## Layout", 1)[0]
    calls = set(re.findall(r"`([a-z_]+)\(", table)) - {"step"}
    assert {"source_sbom", "make_release", "verify", "diff"} <= calls
    missing = sorted(name for name in calls if not callable(getattr(sbomgen, name, None)))
    assert missing == []
    with pytest.raises(AttributeError):
        sbomgen.no_such_job  # noqa: B018
