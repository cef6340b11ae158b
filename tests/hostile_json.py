"""Hostile JSON for property tests: arbitrary values (deep nesting, huge numbers, NaN, wrong
types, tricky strings) and mutations of a real document, written as text so that nesting
and numbers Python would not build can be sent."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st


class Raw(str):
    """JSON text put into a document as it is: nesting and numbers Python would not build."""


def dumps(value: Any) -> bytes:
    def text(item: Any) -> str:
        if isinstance(item, Raw):
            return str(item)
        if isinstance(item, dict):
            return "{" + ",".join(f"{json.dumps(k)}:{text(v)}" for k, v in item.items()) + "}"
        if isinstance(item, list):
            return "[" + ",".join(text(v) for v in item) + "]"
        return json.dumps(item)

    return text(value).encode("utf-8", "surrogatepass")


hostile_raw = st.one_of(
    st.integers(30, 3000).map(lambda n: Raw("[" * n + "]" * n)),
    st.integers(30, 300).map(lambda n: Raw('{"a":' * n + "1" + "}" * n)),
    st.integers(20, 6000).map(lambda n: Raw("9" * n)),
    st.integers(20, 400).map(lambda n: Raw("1." + "5" * n + "e99999")),
    st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), Raw("-0")]),
)
tricky_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "", "NOASSERTION", "NONE", "SPDXRef-DOCUMENT", "SPDXRef-PACKAGE-expat", "SHA256", "SHA-256",
            "CRC32", "pkg:pypi/pip@25.1.1", "pkg:%%/x", "pkg:pypi/ a", "cpe:2.3:a:x", "a\nb", "a\rb",
            "\x1b[31m", "\u0085", "Organization: ", "Person: x (", "https://x.org/%zz", "javascript:x",
            "0" * 64, "z" * 64, "0" * 63, "DEPENDS_ON", "CONTAINS", "DESCRIBES", "file", "library",
            "</text>", "sbomgen:index-release-files ", "sbomgen:index-release-files [{",
            'sbomgen:index-release-files [{"filename": "a", "sha256": 5}]', "\udcff",
        ]
    ),
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | tricky_text | hostile_raw,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=8,
)
printable = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)
# Mostly a value of another type (or a tricky one of the same), sometimes anything at all.
type_mutations = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), tricky_text,
    st.lists(tricky_text, max_size=2), st.dictionaries(tricky_text, tricky_text, max_size=2),
    hostile_raw, json_values,
)  # fmt: skip


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value


@st.composite
def mutations(draw: st.DrawFn, seed: dict[str, Any], most: int = 3, within: str | None = None) -> Any:
    """``seed`` with one to ``most`` places replaced by another value (of the same type or
    not), deleted or doubled; anywhere, or ``within`` one top-level field.
    Containers on the way to a place are copied first; the rest is shared with ``seed``."""
    document: Any = _copy(seed)
    for _ in range(draw(st.integers(1, most))):
        parent: Any = None
        key: Any = None
        node = document
        if within is not None:  # start in one top-level field: where the values that matter are
            parent, key = document, within
            node = document[within] = _copy(document[within])
        steps = 0  # at least one step down, then on with odds 9 in 10: most places are leaves
        while isinstance(node, (dict, list)) and node and (steps == 0 or draw(st.integers(0, 9)) > 0):
            steps += 1
            key = (
                draw(st.sampled_from(sorted(node)))
                if isinstance(node, dict)
                else draw(st.integers(0, len(node) - 1))
            )
            parent, node = node, _copy(node[key])
            parent[key] = node
        operation = draw(st.sampled_from(["same type", "same type", "other type", "delete", "double"]))
        if steps == 0:
            document = draw(json_values)  # nothing to step into
        elif operation == "delete":
            del parent[key]
        elif operation == "double" and isinstance(parent, list):
            parent.append(node)
        elif operation == "same type" and isinstance(node, str):
            parent[key] = draw(tricky_text | printable)  # passes the type check: tests the value
        elif operation == "same type" and isinstance(node, (bool, int)):
            parent[key] = draw(st.booleans() if isinstance(node, bool) else st.integers())
        else:
            parent[key] = draw(type_mutations)
    return document
