"""Declared licenses as SPDX expressions, only where the declaration is unambiguous."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from license_expression import ExpressionError, LicenseExpression, Licensing

# Trove classifiers that name exactly one SPDX license. Ambiguous ones ("BSD License",
# "Apache Software License" without a version, "GPL" without one, "Zope Public License" with
# three versions) are left out on purpose.
CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: Apache Software License 2.0 (Apache-2.0)": "Apache-2.0",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}


def licensing() -> Licensing:
    """The SPDX license list, shared with spdx-tools' validators: one list, one tokenizer."""
    from spdx_tools.common.spdx_licensing import spdx_licensing

    return spdx_licensing


def parse(text: str) -> LicenseExpression | None:
    """A validated, strict parse of an SPDX expression; raises ExpressionError.

    License ids are matched by splitting on spaces and parentheses first: building the
    tokenizer that also knows license names and deprecated forms (``GPL-2.0+``) takes
    longer than everything else a scan does with licenses, so it is built only when the
    simple way fails.
    """
    try:
        return licensing().parse(text, validate=True, strict=True, simple=True)
    except ExpressionError:
        _build_tokenizer()
        return licensing().parse(text, validate=True, strict=True)


_TOKENIZER = threading.Lock()
_tokenizer_built = False


def _build_tokenizer() -> None:
    """Build the advanced tokenizer once, before any thread uses it: license_expression
    publishes it on the Licensing before filling it, so a second thread parsing meanwhile
    (the index workers do) would read a half-built automaton."""
    global _tokenizer_built
    if not _tokenizer_built:
        with _TOKENIZER:
            if not _tokenizer_built:
                licensing().get_advanced_tokenizer()
                _tokenizer_built = True


def spdx_expression(text: str | None) -> str | None:
    """``text`` normalised if it is a valid SPDX expression of known licenses, else None."""
    if not text or "\n" in text.strip() or len(text) > 200:
        return None
    try:
        parsed = parse(text)
    except ExpressionError:
        return None
    return str(parsed) if parsed is not None else None


def declared_license(
    expression: str | None, license_field: str | None, classifiers: Iterable[str]
) -> str | None:
    """PEP 639 License-Expression first, then a License field that is itself SPDX, then one
    unambiguous license classifier. None when nothing is certain."""
    for candidate in (expression, license_field):
        found = spdx_expression(candidate)
        if found:
            return found
    licenses = [c for c in classifiers if c.startswith("License ::")]
    if len(licenses) == 1 and licenses[0] in CLASSIFIERS:
        return CLASSIFIERS[licenses[0]]
    return None
