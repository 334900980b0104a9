"""docs/privacy.md (the record of processing) names every personal data item the code holds.

Checked against the live schema and the models, so a new column, profile field or free text
cannot be added without the record saying where it is kept and how it is erased.
"""

import re
from pathlib import Path

import asyncpg
from pydantic import BaseModel

from domain.programme import commands as programme_commands
from domain.programme.model import Coordinator, Participant
from domain.relationship import commands

DOC = (Path(__file__).parent.parent / "docs" / "privacy.md").read_text()
FREE_TEXT = 1000
"""A string field allowing this many characters or more is free text a person writes."""


def free_text_fields() -> list[str]:
    """``Command.field`` for every free-text field of the commands people send."""
    found = []
    for module in (commands, programme_commands):
        for name, cls in vars(module).items():
            if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
                continue
            if cls.__module__ != module.__name__:
                continue
            for field_name, field in cls.model_fields.items():
                described = repr(field.annotation) + repr(field.metadata)
                limits = [int(n) for n in re.findall(r"max_length=(\d+)", described)]
                if any(n >= FREE_TEXT for n in limits):
                    found.append(f"{name}.{field_name}")
    return found


def test_the_free_text_check_finds_the_texts_people_write():
    """The check is not vacuous: the agreement, the answers and the reasons are found."""
    fields = free_text_fields()
    assert {"RecordAgreement.agreement", "SubmitFeedback.answers", "Withdraw.reason"} <= set(fields)
    assert "RecordMeeting.held_on" not in fields and "Withdraw.person_id" not in fields


def test_every_free_text_field_of_the_commands_is_in_the_record():
    missing = [f for f in free_text_fields() if f"`{f}`" not in DOC and f"{f}`" not in DOC]
    assert not missing, f"docs/privacy.md does not say what becomes of {missing}"


def test_every_field_of_a_participant_and_of_the_coordinator_is_in_the_record():
    fields = [f"Participant.{f}" for f in Participant.model_fields]
    fields += [f"Coordinator.{f}" for f in Coordinator.model_fields]
    missing = [f for f in fields if f not in DOC]
    assert not missing, f"docs/privacy.md does not say what becomes of {missing}"


async def test_every_column_of_the_people_table_is_in_the_record(pool: asyncpg.Pool):
    columns = await pool.fetch(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'people'"
    )
    assert columns
    missing = [c["column_name"] for c in columns if f"people.{c['column_name']}" not in DOC]
    assert not missing, f"docs/privacy.md does not name people.{missing}"


async def test_every_table_holding_a_person_is_in_the_record(pool: asyncpg.Pool):
    """Tables with a person's id or address (by column name) are listed by name."""
    tables = await pool.fetch(
        "SELECT DISTINCT table_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
        " AND column_name IN ('person_id', 'coordinator_id', 'actor', 'email')"
    )
    assert {t["table_name"] for t in tables} >= {"people", "events", "deliveries"}
    missing = [t["table_name"] for t in tables if f"`{t['table_name']}`" not in DOC]
    assert not missing, f"docs/privacy.md does not name the tables {missing}"


def test_the_record_says_what_is_not_done_yet():
    """The gaps are written down, not implied away."""
    gaps = DOC.split("## What is not done yet")[1]
    for gap in ("Retention erases what", "Not every text is sealed", "cannot be revoked"):
        assert gap in gaps


def test_every_free_text_a_group_member_writes_is_sealed():
    """What the record calls sealed is typed ``Text`` (the marker the entry points seal)."""

    for name in ("RecordAgreement", "RecordMeeting", "SubmitFeedback", "Withdraw", "Pause"):
        fields = getattr(commands, name).model_fields
        texts = [f for f in free_text_fields() if f.startswith(f"{name}.")]
        assert texts
        for text in texts:
            field = fields[text.split(".")[1]]
            assert "FreeText()" in repr(field.annotation) + repr(field.metadata), text
