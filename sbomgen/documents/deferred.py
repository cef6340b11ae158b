"""Third-party modules that cost much to import and are rarely needed, loaded on first use.

``rfc3987_syntax`` (installed with jsonschema's format extras, which cyclonedx-python-lib
asks for) builds about forty parsers from its IRI grammar when imported: two seconds of
CPU, paid by every process that imports jsonschema, which imports it for its ``iri`` and
``iri-reference`` format checks. Until something calls into it, a stand-in takes its place
in ``sys.modules``; the first call or attribute lookup loads the real module, which then
replaces the stand-in. Verdicts are the real module's; only the cost moves.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

_SLOW = "rfc3987_syntax"


def defer_slow_imports() -> None:
    if _SLOW in sys.modules:
        return
    spec = importlib.util.find_spec(_SLOW)
    if spec is None or spec.loader is None:
        return
    loader = spec.loader

    def real() -> types.ModuleType:
        module = sys.modules.get(_SLOW)
        if module is not None and module is not stand_in:
            return module
        module = importlib.util.module_from_spec(spec)
        sys.modules[_SLOW] = module
        try:
            loader.exec_module(module)
        except BaseException:
            sys.modules[_SLOW] = stand_in
            raise
        return module

    def is_valid_syntax(term: str, value: str) -> Any:
        return real().is_valid_syntax(term, value)

    stand_in = types.ModuleType(_SLOW, "Loaded on first use (see sbomgen.documents.deferred).")
    stand_in.__spec__ = spec
    stand_in.__path__ = list(spec.submodule_search_locations or [])
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__getattr__ = lambda name: getattr(real(), name)  # type: ignore[method-assign]
    sys.modules[_SLOW] = stand_in
