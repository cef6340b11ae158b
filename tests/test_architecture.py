"""The gate cannot be bypassed: only sbomgen/documents/ parses what comes from outside, and
exit 5 (a bug in sbomgen) is raised only where sbomgen checks what it made itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cpython_tree, write_tar

PACKAGE = Path(__file__).resolve().parents[1] / "sbomgen"
GATE = PACKAGE / "documents"

# Calls that parse bytes or text into data: JSON, CSV, e-mail headers, XML.
PARSERS = {
    ("json", "load"),
    ("json", "loads"),
    ("csv", "reader"),
    ("csv", "DictReader"),
    ("email", "message_from_bytes"),
    ("email", "message_from_string"),
    ("email", "message_from_file"),
    ("email", "message_from_binary_file"),
}
PARSER_NAMES = {"BytesHeaderParser", "HeaderParser", "BytesParser", "Parser", "JSONDecoder"}
PARSER_MODULES = ("xml", "defusedxml", "lxml", "yaml", "rdflib", "email.parser", "email.feedparser")
# Where sbomgen validates documents it made itself: the only places a failure is its own bug.
OWN_OUTPUT_CHECKS = {PACKAGE / "write", PACKAGE / "provenance" / "statement.py"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if GATE not in p.parents)


def _parsing(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in PARSERS:
                found.append(f"line {node.lineno}: {owner.id}.{node.func.attr}()")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PARSER_NAMES:
            found.append(f"line {node.lineno}: {node.func.id}()")
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PARSER_MODULES):
                found.append(f"line {node.lineno}: from {node.module} import ...")
            if node.module in ("json", "csv", "email") and any(
                (node.module, alias.name) in PARSERS for alias in node.names
            ):
                found.append(f"line {node.lineno}: from {node.module} import a parser")
        if isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith(PARSER_MODULES)
            ]
    return found


def test_only_the_gate_parses_external_data() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): found
        for path in _modules()
        if (found := _parsing(ast.parse(path.read_text())))
    }
    assert offenders == {}, "parse through sbomgen.documents instead: " + repr(offenders)


def test_the_gate_check_finds_a_bypass() -> None:
    """The check above is not vacuous: each way of parsing is recognised."""
    samples = [
        "import json\njson.loads(b)",
        "import csv\ncsv.reader(f)",
        "from email.parser import BytesHeaderParser\nBytesHeaderParser().parsebytes(b)",
        "import xml.etree.ElementTree as ET",
        "from defusedxml import ElementTree",
        "from json import loads",
    ]
    for sample in samples:
        assert _parsing(ast.parse(sample)), sample


def _raises_bug(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "OutputValidationError":
                lines.append(node.lineno)
    return lines


def test_exit_5_is_raised_only_where_sbomgen_checks_its_own_output() -> None:
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        if any(path == own or own in path.parents for own in OWN_OUTPUT_CHECKS):
            continue
        if lines := _raises_bug(ast.parse(path.read_text())):
            offenders[str(path.relative_to(PACKAGE))] = lines
    assert offenders == {}
    assert _raises_bug(ast.parse("raise OutputValidationError('x')")) == [1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The sbomgen modules ``path`` imports, wherever in it (a deferred import is an import)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names} & modules  # from . import x
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(module)
    return {m for m in found if m in modules and m != name}


def _import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def _circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A chain of imports that comes back to where it started, if any (depth first)."""
    state: dict[str, int] = {}  # 1: on the current chain, 2: done
    chain: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        chain.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                return chain[chain.index(imported) :] + [imported]
            if imported not in state and (found := visit(imported)):
                return found
        chain.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = _import_graph()
    assert len(graph) > 50 and graph["sbomgen.cli.make"]  # the walk sees the package
    assert _circle(graph) is None, " -> ".join(_circle(graph) or [])


def test_the_circle_check_finds_a_circle() -> None:
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _circle({"a": {"b"}, "b": set()}) is None


def _readme_layout() -> list[str]:
    """The first word of each entry of the README's layout, in order."""
    readme = (PACKAGE.parent / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    return [line.split()[0] for line in layout.splitlines() if line[:1] not in (" ", "")]


def test_the_readme_layout_names_every_folder_and_nothing_else() -> None:
    entries = _readme_layout()
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= {e.removeprefix("sbomgen/").rstrip("/") for e in entries}
    assert all((PACKAGE.parent / entry).exists() for entry in entries)


def test_each_stage_imports_only_the_stages_the_readme_lists_before_it() -> None:
    order = [e.removeprefix("sbomgen/").rstrip("/") for e in _readme_layout() if e.startswith("sbomgen/")]
    rank = {stage: number for number, stage in enumerate(order)}
    backwards = set()
    for module, imported in _import_graph().items():
        for other in imported:
            here, there = module.split(".")[1:2], other.split(".")[1:2]
            if here and there and here[0] in rank and there[0] in rank and rank[there[0]] > rank[here[0]]:
                backwards.add(f"{module} imports {other}")
    assert backwards == set()


# Libraries the parent needs only once the pass is over: the reading child is forked before
# any of them is imported, so the decompression starts at once, and they are loaded once it
# has ended, so that the two processes' largest moments do not add up.
AFTER_THE_FORK = ("pydantic", "spdx_tools", "beartype", "cyclonedx", "jsonschema", "license_expression")
_AT_THE_FORK = """
import os, sys
def fork():
    print(",".join(m for m in {names!r} if m in sys.modules))
    sys.stdout.flush()
    os._exit(0)
os.fork = fork
sys.argv = ["sbomgen", "tarball", {archive!r}, "--offline", "-o", {output!r}, "-qq", "-f", {format!r}]
from sbomgen.cli import main
main()
"""


@pytest.mark.parametrize("format", ["spdx-json", "cyclonedx-json"])
def test_the_reading_child_starts_before_the_heavy_libraries_load(tmp_path: Path, format: str) -> None:
    archive = write_tar(tmp_path / "Python-3.99.0.tgz", cpython_tree())
    code = _AT_THE_FORK.format(
        names=AFTER_THE_FORK, archive=str(archive), output=str(tmp_path / "o"), format=format
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"imported before the fork: {run.stdout.strip()}"


_AT_THE_REAPING = """
import os, sys
fork, waitpid, children = os.fork, os.waitpid, []
def forked():
    pid = fork()
    children.append(pid)
    return pid
def reaped(pid, options):
    if pid in children:  # the reading child has ended: what the parent holds beside it
        loaded = ",".join(m for m in {names!r} if m in sys.modules)
        peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        print(loaded, peak.split()[1])  # kB
        sys.stdout.flush()
    return waitpid(pid, options)
os.fork, os.waitpid = forked, reaped
sys.argv = ["sbomgen", "tarball", {archive!r}, "--offline", "-o", {output!r}, "-qq", "-f", {format!r}]
from sbomgen.cli import main
main()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the peak RSS from /proc")
@pytest.mark.parametrize("format", ["spdx-json", "spdx3-json", "cyclonedx-xml"])
def test_the_heavy_libraries_load_only_once_the_reading_child_has_ended(tmp_path: Path, format: str) -> None:
    """The parent's memory while the child reads stays small: the scanners keep CPython's
    SBOM data and the bundled wheel for after the pass, and the writers load after it."""
    from conftest import sbom_data

    tree = cpython_tree()
    tree["Misc/sbom.spdx.json"] = sbom_data({"Python/ceval.c": tree["Python/ceval.c"]})
    archive = write_tar(tmp_path / "Python-3.99.0.tgz", tree)
    code = _AT_THE_REAPING.format(
        names=AFTER_THE_FORK, archive=str(archive), output=str(tmp_path / "o"), format=format
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    loaded, peak = run.stdout.rsplit(" ", 1)
    assert loaded == "", f"loaded while the reading child lived: {loaded}"
    # ~30 MB here; loading pydantic, spdx-tools and a writer's library beside the child took it over 50.
    assert int(peak) < 42 * 1024, f"the parent's peak RSS while the child read: {int(peak) >> 10} MB"
