"""Participants from what HR systems export: CSV (any common encoding and separator) or .xlsx.

:func:`read_participants` reads, maps and validates an export and reports every problem by row
and column; :mod:`mentorflow.hr_import.sync` brings a running programme in line with a new export.
"""

from mentorflow.hr_import.participants import ParticipantImport, Problem, read_participants
from mentorflow.hr_import.reader import MAX_BYTES, ReadError, TableFormat

__all__ = [
    "MAX_BYTES",
    "ParticipantImport",
    "Problem",
    "ReadError",
    "TableFormat",
    "read_participants",
]
