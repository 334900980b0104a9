"""One reader for what HR systems export: CSV in any common encoding and separator, or .xlsx.

The reader yields the header and then the rows as text cells, one at a time, numbered as the
spreadsheet numbers them (the header is row 1). It never evaluates anything: a cell that starts
with ``=`` is text, in a CSV and in a workbook alike (a workbook's formula is read as its text).
Anything else (an old .xls, a password-protected or macro-enabled workbook, a file too large)
is refused with a sentence saying what to do instead.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Protocol

from charset_normalizer import from_bytes

from mentorflow.errors import MentorflowError

MAX_BYTES = 20 * 1024 * 1024
"""The largest file accepted: a staff export of tens of thousands of people is a few MB."""
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""The most a workbook may unpack to (a zip that inflates beyond this is not an HR export)."""
_SAMPLE = 256 * 1024
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ReadError(MentorflowError, ValueError):
    """A file that cannot be read as a table; the message says why and what to do."""


@dataclass(frozen=True)
class TableFormat:
    """What the reader understood about a file, to be shown to the person who gave it."""

    kind: str
    """``csv`` or ``xlsx``."""
    encoding: str | None = None
    """For a CSV: ``UTF-8``, ``UTF-8 with BOM``, ``UTF-16`` or ``Windows-1252``."""
    separator: str | None = None
    """For a CSV: ``comma``, ``semicolon`` or ``tab``."""
    sheet: str | None = None
    """For a workbook: the sheet read."""

    def describe(self) -> str:
        if self.kind == "xlsx":
            return f"Excel workbook, sheet {self.sheet!r}"
        return f"CSV, {self.encoding}, {self.separator}-separated"


Row = tuple[int, list[str]]


class _Closeable(Protocol):
    def close(self) -> None: ...


@dataclass
class Table:
    """A header and its rows, read lazily; close it (or use it in ``with``) when done."""

    format: TableFormat
    header: list[str]
    rows: Iterator[Row]
    _file: _Closeable | None = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(path: Path, sheet: str | None = None) -> Table:
    """The table in ``path``; ``sheet`` names a workbook's sheet (the first one by default)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(_SAMPLE)
    except OSError as e:
        raise ReadError(f"cannot read: {e.strerror}") from e
    if size > MAX_BYTES:
        raise ReadError(
            f"is {size // (1024 * 1024)} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB:"
            " export only the programme's participants"
        )
    if head.startswith(b"PK\x03\x04"):
        return _open_workbook(path, sheet)
    if head.startswith(_OLE_MAGIC):
        raise ReadError(_ole_refusal(path))
    if sheet is not None:
        raise ReadError("is a CSV file, which has no sheets: leave out --sheet")
    return _open_csv(path, head, size)


def _ole_refusal(path: Path) -> str:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "is a password-protected workbook: save a copy without a password, or as CSV"
    return "is an old Excel (.xls) or other Office file: save it as .xlsx or CSV (UTF-8)"


# --- CSV ---------------------------------------------------------------------------------


def _open_csv(path: Path, head: bytes, size: int) -> Table:
    codec, label = _encoding(head, complete=size <= len(head))
    binary = path.open("rb")
    # Undecodable bytes become lone surrogates, found per row below: so the error names the
    # row and column, not wherever the decoder's read-ahead happened to be.
    text = io.TextIOWrapper(binary, encoding=codec, newline="", errors="surrogateescape")
    try:
        header, separator = _header(text.readline(), label)
    except ReadError:
        text.close()
        raise
    fmt = TableFormat("csv", encoding=label, separator=SEPARATORS[separator])
    return Table(fmt, header, _csv_rows(text, separator, label, header), text)


def _header(first: str, label: str) -> tuple[list[str], str]:
    if not first.strip():
        raise ReadError("is empty: the first row must name the columns")
    separator = _separator(first)
    header = next(csv.reader([first], delimiter=separator))
    _check_decoded(1, header, header, label)
    return header, separator


def _encoding(head: bytes, complete: bool) -> tuple[str, str]:
    """The codec to read with, and how to name it to a person."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with BOM"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    try:
        head.decode("utf-8")
        return "utf-8", "UTF-8"
    except UnicodeDecodeError as e:
        if not complete and e.start >= len(head) - 3:
            return "utf-8", "UTF-8"  # the sample ends inside a character
    # Only the encodings HR tools write are candidates: on a short export, an open guess picks
    # exotic code pages that happen to fit (hp_roman8 for a Finnish Windows-1252 file).
    best = from_bytes(head, cp_isolation=["cp1252", "utf_16_le", "utf_16_be"]).best()
    name = best.encoding if best is not None else None
    if name == "cp1252" and b"\x00" not in head:
        return "cp1252", "Windows-1252"
    if name in ("utf_16_le", "utf_16_be"):
        return name.replace("_", "-"), "UTF-16"
    raise ReadError(
        "is not text in an encoding HR tools write (UTF-8, UTF-16, Windows-1252):"
        " save it as CSV (UTF-8), or as an Excel workbook (.xlsx)"
    )


def _separator(header_line: str) -> str:
    counts = {s: _count_outside_quotes(header_line, s) for s in SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    if counts[best] == 0:
        raise ReadError(
            "row 1 has a single column: the first row must name the columns,"
            " separated by commas, semicolons or tabs"
        )
    return best


def _count_outside_quotes(line: str, separator: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            count += 1
    return count


def _csv_rows(
    text: io.TextIOWrapper, separator: str, label: str, header: list[str]
) -> Iterator[Row]:
    reader = csv.reader(text, delimiter=separator)
    number = 1
    try:
        for number, cells in enumerate(reader, start=2):
            _check_decoded(number, cells, header, label)
            if any(c.strip() for c in cells):
                yield number, cells
    except csv.Error as e:
        raise ReadError(f"row {number + 1}: {e}") from e


_UNDECODED = re.compile("[\udc80-\udcff]")


def _check_decoded(number: int, cells: list[str], header: list[str], label: str) -> None:
    for index, cell in enumerate(cells):
        if _UNDECODED.search(cell):
            column = f", column {header[index]!r}" if index < len(header) else ""
            raise ReadError(
                f"row {number}{column}: not readable as {label}: save the file again as CSV (UTF-8)"
            )


# --- Excel -------------------------------------------------------------------------------


def _open_workbook(path: Path, sheet: str | None) -> Table:
    from openpyxl import load_workbook

    _check_package(path)
    try:
        # Not data_only: a formula is read as its text, never as a value someone computed.
        book = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise ReadError(
            "is not a readable Excel workbook (.xlsx): save it again as .xlsx or CSV"
        ) from e
    names = book.sheetnames
    if sheet is not None and sheet not in names:
        book.close()
        raise ReadError(f"has no sheet {sheet!r} (sheets: {', '.join(map(repr, names))})")
    ws = book[sheet or names[0]]
    rows = ws.iter_rows(values_only=True)
    first = next(rows, None)
    header = [_cell_text(v) for v in first or ()]
    while header and not header[-1]:
        header.pop()
    if not any(header):
        book.close()
        raise ReadError(f"sheet {ws.title!r} is empty: its first row must name the columns")
    return Table(TableFormat("xlsx", sheet=ws.title), header, _sheet_rows(rows), _Closer(book))


def _check_package(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            unpacked = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile as e:
        raise ReadError("is a damaged zip file, not a workbook: save it again") from e
    if "xl/workbook.xml" not in names:
        raise ReadError("is a zip file but not an Excel workbook (.xlsx)")
    if "xl/vbaProject.bin" in names:
        raise ReadError(
            "is a macro-enabled workbook, which is not accepted: save it as .xlsx (without macros)"
        )
    if unpacked > MAX_UNPACKED_BYTES:
        raise ReadError("unpacks to more than the limit: export only the programme's participants")


class _Closer:
    def __init__(self, book: Any):
        self._book = book

    def close(self) -> None:
        self._book.close()


def _sheet_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[Row]:
    for number, values in enumerate(rows, start=2):
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            yield number, cells


def _cell_text(value: Any) -> str:
    """A cell as the text a person sees: whole numbers without ``.0``, dates as YYYY-MM-DD."""
    match value:
        case None:
            return ""
        case bool():
            return "TRUE" if value else "FALSE"
        case float() if value.is_integer():
            return str(int(value))
        case datetime() if value.time() == time(0):
            return value.date().isoformat()
        case datetime() | date():
            return value.isoformat()
    return str(value)
