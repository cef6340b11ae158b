"""A row of the license findings cache (see sbomgen/scan/license_text.py): what one license
file was found to say. Read with the same bounds as any document; a row that does not fit
is a ``CacheError``, and the file is matched again."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Len

from ..errors import CacheError
from .fields import NonEmptyLine, Strict
from .parse import load_json

MAX_ROW_BYTES = 64 << 10
MAX_ITEMS = 50


class FindingRow(Strict):
    expression: NonEmptyLine | None
    copyrights: Annotated[list[NonEmptyLine], Len(max_length=MAX_ITEMS)]
    found: Annotated[list[NonEmptyLine], Len(max_length=MAX_ITEMS)]
    header: bool = False
    notice: NonEmptyLine | None = None


def load_row(text: str) -> FindingRow:
    return load_json(FindingRow, text, "license findings cache row", CacheError, MAX_ROW_BYTES)
