"""Matching under every hard rule, checked by an independent checker written from the rules."""

from collections import Counter
from pathlib import Path

import pytest

from domain.matching import MatchingResult, MatchingRules, match
from domain.model import Role
from domain.programme import Conflict, GroupShape, Participant, Range
from mentorflow.programme_files import load_programme
from mentorflow.synthetic import cohort

SMALL_GROUPS = GroupShape(mentors=2, mentees=Range(min=2, max=3))
EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"


def check(result: MatchingResult, people: list[Participant], rules: MatchingRules) -> None:
    """Every rule from the issue, checked against the raw participants, not the matcher's code."""
    by_id = {p.id: p for p in people}
    shape = rules.shape
    mentor_load: Counter[str] = Counter()
    placed_mentees: Counter[str] = Counter()
    for group in result.groups:
        assert len(group.mentors) == shape.mentors, group
        assert shape.mentees.min <= len(group.mentees) <= shape.mentees.max, group
        assert len(set(group.mentors)) == len(group.mentors)
        for mentor_id in group.mentors:
            mentor = by_id[mentor_id]
            assert mentor.role == Role.MENTOR and mentor.trained_on is not None
            mentor_load[mentor_id] += 1
        for mentee_id in group.mentees:
            mentee = by_id[mentee_id]
            assert mentee.role == Role.MENTEE
            placed_mentees[mentee_id] += 1
            for mentor_id in group.mentors:
                mentor = by_id[mentor_id]
                assert mentee.manager != mentor.id, "a mentor is the mentee's own manager"
                if Conflict.SAME_MANAGER in rules.avoid:
                    assert mentee.manager != mentor.manager, "mentor and mentee share a manager"
                if Conflict.SAME_UNIT in rules.avoid:
                    assert mentee.unit != mentor.unit
        for why in group.explanation:
            mentee = by_id[why.mentee]
            for goal, offered_by in why.goals_met.items():
                assert goal in mentee.goals and offered_by
                assert all(goal in by_id[m].expertise and m in group.mentors for m in offered_by)
    assert all(mentor_load[m] <= by_id[m].capacity for m in mentor_load)
    assert all(n == 1 for n in placed_mentees.values())
    unplaced = [u.person_id for u in result.unmatched]
    assert len(unplaced) == len(set(unplaced))
    in_groups = set(mentor_load) | set(placed_mentees)
    assert in_groups.isdisjoint(unplaced)
    assert in_groups | set(unplaced) == set(by_id), "someone is neither placed nor explained"


def test_a_cohort_of_40_mentors_and_100_mentees_follows_every_hard_rule():
    """2 mentors + 2-3 mentees: every trained mentor pair is used, every rule holds."""
    people = cohort(40, 100, seed=7)
    rules = MatchingRules(shape=SMALL_GROUPS, avoid=(Conflict.SAME_MANAGER,))
    result = match(people, rules)
    check(result, people, rules)
    trained = sum(p.role == Role.MENTOR and p.trained_on is not None for p in people)
    assert len(result.groups) == trained // 2  # mentors are the scarce side here
    assert sum(len(g.mentees) for g in result.groups) == 3 * len(result.groups)
    assert result.score > 0 and result.optimal
    mentor_reasons = Counter(
        u.reason.split(":")[0] for u in result.unmatched if u.role == Role.MENTOR
    )
    assert mentor_reasons == {"not trained": 40 - trained, "no co-mentor": trained % 2}


def test_the_same_input_gives_the_same_groups():
    """Deterministic: the coordinator and the auditor see the same proposal twice."""
    people = cohort(30, 70, seed=3)
    rules = MatchingRules(shape=SMALL_GROUPS, avoid=(Conflict.SAME_MANAGER, Conflict.SAME_UNIT))
    first, second = match(people, rules), match(list(reversed(people)), rules)
    assert first == second
    check(first, people, rules)


def test_the_example_programme_is_matched_with_reasons_for_everyone_left_out():
    """The pilot: m4 untrained; one pair of the three trained mentors; the rest told why."""
    loaded = load_programme(EXAMPLE)
    programme = loaded.programme
    rules = MatchingRules(
        shape=programme.group_shape,
        avoid=programme.matching.avoid,
        training_deadline=programme.training.deadline,
    )
    result = match(loaded.participants, rules)
    check(result, list(loaded.participants), rules)
    [group] = result.groups
    assert (group.mentors, group.mentees) == (("m1", "m2"), ("a1", "a3", "a5"))
    assert group.explanation[0].goals_met == {"leadership": ["m2"]}
    reasons = {u.person_id: u.reason for u in result.unmatched}
    assert reasons["m4"] == "not trained by 2020-08-31"
    assert set(reasons) == {"a2", "a4", "m3", "m4"}


def test_an_infeasible_cohort_still_places_what_it_can_and_says_why_not():
    """Only one trained mentor for two-mentor groups: no group, and every person has a reason."""
    people = [
        p.model_copy(update={"trained_on": None}) if p.id != "m1" else p
        for p in cohort(5, 8, seed=1, trained_share=1.0)
    ]
    rules = MatchingRules(shape=SMALL_GROUPS)
    result = match(people, rules)
    check(result, people, rules)
    assert result.groups == ()
    reasons = Counter(u.reason.split(":")[0] for u in result.unmatched)
    assert reasons == {"not trained": 4, "no co-mentor": 1, "no room": 8}


def test_a_mentee_in_conflict_with_every_mentor_is_told_so():
    """A mentee managed by the manager of every mentor cannot be placed, and is told why."""
    people = cohort(4, 6, seed=2, trained_share=1.0, managers=1)  # one manager for everybody
    rules = MatchingRules(shape=SMALL_GROUPS, avoid=(Conflict.SAME_MANAGER,))
    result = match(people, rules)
    check(result, people, rules)
    assert result.groups == ()
    mentee_reasons = {u.reason for u in result.unmatched if u.role == Role.MENTEE}
    assert mentee_reasons == {"no group without a conflict of interest"}


@pytest.mark.parametrize("mentees", [7, 40])
def test_one_to_one_pairs_respect_capacity(mentees):
    """1:1 programmes: a mentor with capacity 2 mentors two mentees, never more."""
    people = cohort(10, mentees, seed=5, trained_share=1.0)
    people = [p.model_copy(update={"capacity": 2}) if p.id == "m1" else p for p in people]
    rules = MatchingRules(shape=GroupShape(mentors=1, mentees=Range(min=1, max=1)))
    result = match(people, rules)
    check(result, people, rules)
    assert len(result.groups) == min(mentees, 11)
