"""The one way the product writes CSV: cells a spreadsheet will not run as formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking) is a formula to Excel and LibreOffice, so a name such as
``=HYPERLINK(...)`` typed into an HR system would run on the coordinator's machine when a
report is opened. Such a cell is written with a leading ``'``, which spreadsheets show as text
(OWASP's advice for CSV injection).
"""

import csv
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """``value`` as a cell's text that no spreadsheet evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header and rows as CSV (comma-separated, quoted where needed), every cell neutralised."""
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    writer.writerows([neutralise(v) for v in row] for row in rows)
