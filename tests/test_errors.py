"""The entry layer's errors: one root, the tree its docstring draws, one-line refusals."""

import re

import pytest

from mentorflow import errors
from mentorflow.audit.records import AuditError
from mentorflow.codec import CodecError
from mentorflow.database import open_database
from mentorflow.deployment import WrongStoreError
from mentorflow.hr_import.reader import ReadError
from mentorflow.programme_files import ProgrammeFileError
from mentorflow.programmes import ProgrammeError

CLASSES = {
    cls.__name__: cls
    for cls in (
        errors.MentorflowError,
        errors.StackError,
        errors.DatabaseUnavailable,
        CodecError,
        ProgrammeFileError,
        ProgrammeError,
        WrongStoreError,
        ReadError,
        AuditError,
    )
}


def drawn_tree() -> dict[str, str]:
    """Each class of the docstring's tree, with the class it hangs under."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^([│ ]*)(?:[├└]── )?([A-Z]\w+)\s", line + " ")
        if found is None or not found.group(2).endswith(("Error", "Unavailable")):
            continue
        depth = len(found.group(1)) // 4 + (1 if "──" in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[found.group(2)] = stack[-1][1]
        stack.append((depth, found.group(2)))
    return parents


def test_the_documented_tree_is_the_class_tree() -> None:
    """Every entry-layer error is in the docstring's tree, under the class it derives from."""
    parents = drawn_tree()
    assert set(parents) | {"MentorflowError"} == set(CLASSES)
    for name, parent in parents.items():
        assert CLASSES[parent] in CLASSES[name].__bases__, (name, parent)


async def test_an_unreachable_database_is_database_unavailable_in_one_line() -> None:
    """Not a StackError reused with another meaning: its own class, a StackError for callers."""
    with pytest.raises(errors.DatabaseUnavailable) as refused:
        await open_database("postgresql://mentorflow:secret@127.0.0.1:9/app")
    assert isinstance(refused.value, errors.StackError)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("cannot reach the database at postgresql://127.0.0.1/app")
    assert "secret" not in message


def test_the_append_error_types_are_the_store_errors_names() -> None:
    """The types record keeping raises and the retry policies name are the store's errors."""
    from contracts import errors as types
    from store import errors as store

    raised = (store.ConcurrencyConflict, store.EventIdReused, store.InvalidEventData)
    assert tuple(cls.__name__ for cls in raised) == types.APPEND_FAILURES
