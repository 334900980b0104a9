"""Matching as an activity: CPU work (seconds for a large cohort) kept out of workflow tasks."""

from temporalio import activity

from domain.matching import MatchingResult, MatchingRules, match
from domain.model import Frozen
from domain.programme.model import Profile


class ProposeMatchingInput(Frozen):
    participants: list[Profile]
    rules: MatchingRules


@activity.defn
def propose_matching(request: ProposeMatchingInput) -> MatchingResult:
    """Groups for the programme's participants (runs in the worker's thread pool)."""
    return match(request.participants, request.rules)
