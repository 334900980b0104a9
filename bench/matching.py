"""Matching benchmark: cohorts of 1,400, 2,800 and 10,000 people into 2 + 2..3 groups.

For each size (mentors : mentees = 2 : 5, 90% of mentors trained) it prints the wall time and
score of ``domain.matching.match``; an upper bound no matching can beat; where it still runs in
minutes the exact method (``match_exact``, whose first stage grows cubically) with its time, its
score and the gap between the two; and a greedy baseline (pair mentors in id order, then give
each mentee the best team with room), so the optimiser's gain is a number. Every proposal is
re-checked against the hard rules by ``domain.matching.assign`` (the validator of a
coordinator's edits).

Run: ``.venv/bin/python -m bench.matching [MENTORS MENTEES]`` (default: the three sizes).
"""

import sys
import time

from domain.matching import (
    GOAL_MET,
    OTHER_UNIT,
    GroupAssignment,
    MatchingResult,
    MatchingRules,
    allowed_team,
    assign,
    match,
    match_exact,
    team_score,
)
from domain.model import Role
from domain.programme.model import Conflict, GroupShape, Participant, Range
from mentorflow.synthetic import cohort

RULES = MatchingRules(
    shape=GroupShape(mentors=2, mentees=Range(min=2, max=3)), avoid=(Conflict.SAME_MANAGER,)
)
SIZES = ((400, 1000), (800, 2000), (2857, 7143))
EXACT_UP_TO = 3000
"""Largest cohort the exact method is run on (800 + 2,000 take over a minute; 10,000 hours)."""


def greedy(people: list[Participant]) -> tuple[int, int]:
    """(score, people placed) of the obvious hand-written approach, for comparison."""
    mentors = [p for p in people if p.role == Role.MENTOR and p.trained_on is not None]
    teams = [(mentors[i], mentors[i + 1]) for i in range(0, len(mentors) - 1, 2)]
    members: dict[int, list[Participant]] = {t: [] for t in range(len(teams))}
    for mentee in (p for p in people if p.role == Role.MENTEE):
        room = [
            t
            for t, team in enumerate(teams)
            if len(members[t]) < 3 and allowed_team(team, mentee, RULES.avoid)
        ]
        if room:
            best = max(room, key=lambda t: team_score(teams[t], mentee))
            members[best].append(mentee)
    kept = {t: m for t, m in members.items() if len(m) >= 2}  # a group of one mentee is no group
    score = sum(team_score(teams[t], m) for t, ms in kept.items() for m in ms)
    return score, sum(len(ms) + 2 for ms in kept.values())


def upper_bound(people: list[Participant]) -> int:
    """No matching scores more: at most 3 mentees per pair of trained mentors, each at most
    ``GOAL_MET`` per goal plus ``OTHER_UNIT`` (all goals met, mentors from other units)."""
    trained = [p for p in people if p.role == Role.MENTOR and p.trained_on is not None]
    seats = sum(p.capacity for p in trained) // 2 * 3
    best = [GOAL_MET * len(set(p.goals)) + OTHER_UNIT for p in people if p.role == Role.MENTEE]
    return sum(sorted(best, reverse=True)[:seats])


def placed(result: MatchingResult) -> int:
    return sum(len(g.mentors) + len(g.mentees) for g in result.groups)


def recheck(result: MatchingResult, people: list[Participant]) -> None:
    """Raises ``ValueError`` naming the rule if any group breaks a hard rule."""
    edits = [GroupAssignment(mentors=g.mentors, mentees=g.mentees) for g in result.groups]
    assign(edits, people, RULES)


def gap(score: int, reference: int) -> str:
    return f"{100 * (reference - score) / max(reference, 1):.2f}% score"


def run(n_mentors: int, n_mentees: int) -> None:
    people = cohort(n_mentors, n_mentees, seed=1)
    trained = sum(p.trained_on is not None for p in people if p.role == Role.MENTOR)
    started = time.perf_counter()
    result = match(people, RULES)
    elapsed = time.perf_counter() - started
    recheck(result, people)
    bound = upper_bound(people)
    print(f"\ncohort: {n_mentors + n_mentees} people, {n_mentors} mentors ({trained} trained)")
    print(
        f"  match():       {elapsed:7.2f} s  score {result.score:7d}  placed {placed(result):6d}"
        f"  groups {len(result.groups):5d}  hard rules hold"
    )
    print(
        f"  upper bound:             score {bound:7d}  (match() within {gap(result.score, bound)})"
    )
    if n_mentors + n_mentees > EXACT_UP_TO:
        print("  match_exact(): not run (its first stage grows cubically: hours at this size)")
        return
    started = time.perf_counter()
    exact = match_exact(people, RULES)
    exact_elapsed = time.perf_counter() - started
    recheck(exact, people)
    print(
        f"  match_exact(): {exact_elapsed:7.2f} s  score {exact.score:7d}"
        f"  placed {placed(exact):6d}  groups {len(exact.groups):5d}"
        f"  each stage proven optimal {exact.optimal}"
    )
    print(f"  gap to the exact method: {gap(result.score, exact.score)}")
    greedy_score, greedy_placed = greedy(people)
    gain = 100 * (result.score - greedy_score) / max(greedy_score, 1)
    print(
        f"  greedy:                  score {greedy_score:7d}  placed {greedy_placed:6d}"
        f"  (match() {gain:+.1f}% score)"
    )


def main(sizes: tuple[tuple[int, int], ...] = SIZES) -> None:
    for n_mentors, n_mentees in sizes:
        run(n_mentors, n_mentees)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(((args[0], args[1]),) if len(args) == 2 else SIZES)
