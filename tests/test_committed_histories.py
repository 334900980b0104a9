"""Committed histories replay with today's code: a non-deterministic change fails here, in CI.

If this fails after a workflow change, the change would break relationships already running:
guard it with ``workflow.patched`` (see README, "Changing workflow code"), or, for a change meant
to apply only to new relationships, record new histories with ``python -m tests.record_histories``.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from mentorflow import embedded
from mentorflow.verify import replay
from tests.changed_workflow import IncompatiblyChangedWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_are_committed_histories_covering_every_phase():
    """Both workflows have committed runs from start to completion (``tests/record_histories.py``
    records either), each phase of a run continued-as-new in a file of its own."""
    for kind in ("relationship", "programme"):
        runs = [p for p in HISTORIES if p.stem.startswith(f"{kind}_")]
        assert len(runs) >= 4, kind
        last = [p.read_text() for p in runs if p.stem.endswith("_run4")]
        assert any("EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED" in text for text in last), kind


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_committed_history_replays_with_current_code(path: Path):
    """Today's workflows make the same decisions as the recorded run (relationships, and a
    programme recorded before the coordinator's first-day message existed).

    The histories were recorded without the codec: its converter passes their clear payloads on.
    """
    await replay([WorkflowHistory.from_json(path.stem, path.read_text())], embedded.converter())


async def test_an_incompatible_change_is_caught_by_replay():
    """The replay check can fail: a changed workflow does not replay the committed first run."""
    replayer = Replayer(
        workflows=[IncompatiblyChangedWorkflow], data_converter=embedded.converter()
    )
    first = next(p for p in HISTORIES if p.stem.startswith("relationship_"))
    history = WorkflowHistory.from_json("run1", first.read_text())
    with pytest.raises(Exception, match=r"[Nn]ondetermin"):
        await replayer.replay_workflow(history)
