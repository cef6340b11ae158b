"""The gate cannot be bypassed: only sbomgen/documents/ parses what comes from outside, and
exit 5 (a bug in sbomgen) is raised only where sbomgen checks what it made itself."""

from __future__ import annotations

import ast
from pathlib import Path

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
