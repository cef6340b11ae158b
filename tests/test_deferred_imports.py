"""Importing jsonschema (through cyclonedx-python-lib's validators, or the gate) must not
build the IRI grammar's parsers until an IRI is checked, and checks must answer as before."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from sbomgen.documents.fields import conforms

VALUES = [
    "https://example.org/a",
    "https://[::1]:8080/x",
    "https://exämple.org/ü?q=1#frag",
    "ht tp://bad",
    "http://[not-an-ip]/",
    "relative/path",
    "",
    "mailto:someone@example.org",
    "someone@example.org",
    "no at sign",
]

CHECK = """
import json, sys
{setup}
import jsonschema
lazy = "rfc3987_syntax.syntax_helpers" not in sys.modules
checker = jsonschema.FormatChecker()
forms = ("iri", "iri-reference", "idn-email")
verdicts = [[checker.conforms(v, f) for f in forms] for v in json.loads(sys.argv[1])]
print(json.dumps({{"lazy": lazy, "verdicts": verdicts}}))
"""


def _run(setup: str) -> dict[str, object]:
    code = CHECK.format(setup=setup)
    run = subprocess.run([sys.executable, "-c", code, json.dumps(VALUES)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_iri_grammar_loads_on_first_use_with_the_same_verdicts() -> None:
    deferred = _run("import sbomgen")
    plain = _run("")
    assert deferred["lazy"] is True  # importing jsonschema did not load it
    assert plain["lazy"] is False  # without sbomgen it is loaded at once: the test can tell
    assert deferred["verdicts"] == plain["verdicts"]
    assert any(not row[0] for row in plain["verdicts"]) and any(row[0] for row in plain["verdicts"])


@pytest.mark.parametrize("value", VALUES)
def test_email_form_is_the_validators_rule(value: str) -> None:
    assert conforms(value, "idn-email") == jsonschema.FormatChecker().conforms(value, "idn-email")
