"""Matching benchmark: 400 mentors and 1,000 mentees into 2 + 2..3 groups.

Prints the wall time and score of ``domain.matching.match`` beside a greedy baseline (pair
mentors in id order, then give each mentee the best team with room), so the optimiser's gain is
a number. Run: ``.venv/bin/python -m bench.matching [MENTORS MENTEES]``.
"""

import sys
import time

from domain.matching import MatchingRules, allowed_team, match, team_score
from domain.model import Role
from domain.programme import Conflict, GroupShape, Participant, Range
from mentorflow.synthetic import cohort

RULES = MatchingRules(
    shape=GroupShape(mentors=2, mentees=Range(min=2, max=3)), avoid=(Conflict.SAME_MANAGER,)
)


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


def main(n_mentors: int = 400, n_mentees: int = 1000) -> None:
    people = cohort(n_mentors, n_mentees, seed=1)
    started = time.perf_counter()
    result = match(people, RULES)
    elapsed = time.perf_counter() - started
    placed = sum(len(g.mentors) + len(g.mentees) for g in result.groups)
    greedy_score, greedy_placed = greedy(people)
    trained = sum(p.trained_on is not None for p in people if p.role == Role.MENTOR)
    gain = 100 * (result.score - greedy_score) / max(greedy_score, 1)
    print(f"cohort: {n_mentors} mentors ({trained} trained), {n_mentees} mentees")
    print(
        f"match():  {elapsed:6.2f} s  score {result.score:6d}  people placed {placed:5d}"
        f"  groups {len(result.groups)}  optimal {result.optimal}"
    )
    print(f"greedy:            score {greedy_score:6d}  people placed {greedy_placed:5d}")
    print(f"gain over greedy: {gain:+.1f}% score")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
