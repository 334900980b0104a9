"""Matching trained mentors and mentees into groups, with exact optimisation libraries.

A mentee's fit depends on the whole team of mentors, so a model that chooses teams and members
at once grows cubically: 1,000 mentees and 400 mentors would need tens of millions of variables.
Cohorts of up to ``EXACT_UP_TO`` people (trained mentors and mentees) are matched by the exact
method, ``match_exact``. Small ones (up to ``JOINT_LIMIT`` mentee-team variables) are solved in
that one model with OR-Tools CP-SAT. Larger ones are solved in two exact stages:

1. **Teams**: co-mentor pairs by maximum-cardinality, maximum-weight matching (networkx, Edmonds'
   blossom algorithm): as many pairs as possible, preferring pairs whose joint expertise covers
   what mentees ask for and who come from different units. For 1:1 programmes each mentor is a
   team (as many times as their capacity).
2. **Groups**: mentees into teams with CP-SAT, each team unused or within the shape's min..max,
   under the hard rules, maximising first how many people are placed, then how many of the
   mentees' goals meet the team's expertise, then unit diversity.

The first stage grows cubically (400 mentors: most of 8 s; 800: over a minute), so larger
cohorts are matched by ``match_at_scale``, the same two stages made polynomial: pairs chosen
greedily among each mentor's best candidates, mentees placed by a min-cost maximum flow, scores
computed as numpy matrices a block at a time. 10,000 people take seconds, within 2% of the exact
method where that still runs, and at 10,000 the score reaches an upper bound no matching can
beat (``python -m bench.matching``).

Hard rules: only trained mentors (when training is required, trained by the deadline); a mentor
is never the mentee's own manager; with ``same_manager`` a mentor never shares the mentee's
manager; with ``same_unit`` never their unit. The result is deterministic for the same input
(inputs in id order, one solver worker, a deterministic time limit; no clock at scale either).
Whoever cannot be placed is listed with the reason, and every group carries an explanation of
why it was formed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import Field

from domain.model import Frozen, PersonId, Role
from domain.programme.model import Conflict, GroupShape, Profile, Range

if TYPE_CHECKING:
    # The solvers are imported by the functions that run them, not with the module: every
    # command, worker and web process imports these types (through the programme's events),
    # and ortools brings pandas along, over a second of start-up for a command that never
    # matches anyone.
    from ortools.sat.python import cp_model

GOAL_MET = 10
"""Score of one mentee goal met by the team's expertise."""
OTHER_UNIT = 3
"""Score of a mentee placed with mentors from other units (a wider view of the organisation)."""
PLACED = 1_000
"""Placing one more person outweighs any gain in fit: nobody is left out for a better score."""
CANDIDATES = 30
"""Partners (stage 1) or teams (stage 2) considered per person, best-scoring first."""


class GoalMatch(Frozen):
    mentee: PersonId
    goals_met: dict[str, list[PersonId]]
    """Each of the mentee's goals that a mentor offers, with the mentors offering it."""
    other_unit: bool


class ProposedGroup(Frozen):
    number: int
    mentors: tuple[PersonId, ...]
    mentees: tuple[PersonId, ...]
    score: int
    explanation: tuple[GoalMatch, ...]


class Unmatched(Frozen):
    person_id: PersonId
    role: Role
    reason: str


class MatchingResult(Frozen):
    groups: tuple[ProposedGroup, ...]
    unmatched: tuple[Unmatched, ...]
    score: int = Field(description="Sum of the groups' scores")
    optimal: bool = Field(description="Both stages were solved to proven optimality")


class MatchingRules(Frozen):
    shape: GroupShape
    avoid: tuple[Conflict, ...] = (Conflict.SAME_MANAGER,)
    training_required: bool = True
    training_deadline: date | None = None


def match(participants: Iterable[Profile], rules: MatchingRules) -> MatchingResult:
    """Groups for ``participants`` under ``rules``; see the module docstring for the method."""
    people = sorted(participants, key=lambda p: p.id)
    mentors, _ = _eligible_mentors(people, rules)
    mentees = [p for p in people if p.role == Role.MENTEE]
    if len(mentors) + len(mentees) <= EXACT_UP_TO:
        return match_exact(people, rules)
    return match_at_scale(people, rules)


def match_exact(participants: Iterable[Profile], rules: MatchingRules) -> MatchingResult:
    """The exact method at any size (stage 1 grows cubically: the reference for benchmarks)."""
    people = sorted(participants, key=lambda p: p.id)
    mentors, unmatched = _eligible_mentors(people, rules)
    mentees = [p for p in people if p.role == Role.MENTEE]
    candidates = _candidate_teams(mentors, mentees, rules)
    if len(mentees) * len(candidates) <= JOINT_LIMIT:
        teams, (groups, optimal) = candidates, _match_jointly(mentors, mentees, rules, candidates)
    else:
        teams, teams_optimal = _form_teams(mentors, mentees, rules)
        groups, groups_optimal = _fill_teams(teams, mentees, rules)
        optimal = teams_optimal and groups_optimal
    placed = {p for g in groups for p in (*g.mentors, *g.mentees)}
    unmatched += [
        _why_unplaced(p, teams, placed, rules) for p in (*mentors, *mentees) if p.id not in placed
    ]
    return _result(groups, unmatched, optimal)


def _result(
    groups: list[ProposedGroup], unmatched: list[Unmatched], optimal: bool
) -> MatchingResult:
    return MatchingResult(
        groups=tuple(groups),
        unmatched=tuple(sorted(unmatched, key=lambda u: u.person_id)),
        score=sum(g.score for g in groups),
        optimal=optimal,
    )


def conflicts(mentor: Profile, mentee: Profile, avoid: Sequence[Conflict]) -> str | None:
    """Why ``mentor`` may not mentor ``mentee``, or ``None`` when they may."""
    if mentee.manager == mentor.id:
        return f"{mentor.id} is {mentee.id}'s manager"
    if Conflict.SAME_MANAGER in avoid and mentor.manager and mentor.manager == mentee.manager:
        return f"{mentor.id} and {mentee.id} have the same manager"
    if Conflict.SAME_UNIT in avoid and mentor.unit and mentor.unit == mentee.unit:
        return f"{mentor.id} and {mentee.id} are in the same unit"
    return None


def _eligible_mentors(
    people: list[Profile], rules: MatchingRules
) -> tuple[list[Profile], list[Unmatched]]:
    eligible, excluded = [], []
    for p in people:
        if p.role != Role.MENTOR:
            continue
        deadline = rules.training_deadline
        untrained = p.trained_on is None or (deadline is not None and p.trained_on > deadline)
        if rules.training_required and untrained:
            when = f" by {deadline}" if deadline else ""
            excluded.append(Unmatched(person_id=p.id, role=p.role, reason=f"not trained{when}"))
        else:
            eligible.append(p)
    return eligible, excluded


Team = tuple[Profile, ...]

JOINT_LIMIT = 10_000
"""Largest joint model (mentee x candidate team variables) solved in one piece."""


def _solve(model: cp_model.CpModel) -> tuple[cp_model.CpSolver, bool]:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = (
        1  # one worker and a deterministic limit: same input, same answer
    )
    solver.parameters.max_deterministic_time = 20.0
    solver.parameters.random_seed = 0
    # CP-SAT would install its own SIGINT handler for the solve and leave the default one
    # behind: the next Ctrl-C would kill the worker instead of draining it.
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"matching model not solved: {solver.status_name(status)}")  # a bug
    return solver, status == cp_model.OPTIMAL


def _candidate_teams(
    mentors: list[Profile], mentees: list[Profile], rules: MatchingRules
) -> list[Team]:
    """Every team worth considering: each mentor alone (1:1), or each mentor's best co-mentors."""
    if rules.shape.mentors == 1:
        return [(m,) for m in mentors for _ in range(m.capacity)]
    demand = Counter(goal for mentee in mentees for goal in mentee.goals)
    return list(_partner_candidates(mentors, demand))


def _choose_teams(
    model: cp_model.CpModel, teams: list[Team], mentors: list[Profile]
) -> list[cp_model.IntVar]:
    """One "team used" variable per candidate, within every mentor's capacity."""

    used = [model.new_bool_var(f"team_{t}") for t in range(len(teams))]
    teams_of: dict[PersonId, list[cp_model.IntVar]] = {m.id: [] for m in mentors}
    for team, v in zip(teams, used, strict=True):
        for m in team:
            teams_of[m.id].append(v)
    for m in mentors:
        model.add(sum(teams_of[m.id]) <= m.capacity)
    return used


def _form_teams(
    mentors: list[Profile], mentees: list[Profile], rules: MatchingRules
) -> tuple[list[Team], bool]:
    """Stage 1 of the two-stage method: co-mentor pairs by maximum-weight matching.

    Exact (Edmonds' blossom algorithm, networkx): the most pairs possible, and among those the
    best total pair score. A mentor with capacity c appears as c nodes.
    """
    import networkx as nx

    if rules.shape.mentors == 1:
        return _candidate_teams(mentors, mentees, rules), True
    demand = Counter(goal for mentee in mentees for goal in mentee.goals)
    slots = [(m, copy) for m in mentors for copy in range(m.capacity)]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(slots)))
    for i, (a, _) in enumerate(slots):
        for j in range(i + 1, len(slots)):
            b = slots[j][0]
            if a.id != b.id:
                graph.add_edge(i, j, weight=_pair_score((a, b), demand))
    pairs = nx.max_weight_matching(graph, maxcardinality=True)
    teams = [(slots[min(i, j)][0], slots[max(i, j)][0]) for i, j in pairs]
    return _unique_teams(teams), True


def _unique_teams(teams: Sequence[Team]) -> list[Team]:
    """Teams in id order, each pair once (a mentor of capacity 2 may pair twice with another)."""
    seen: set[tuple[PersonId, ...]] = set()
    unique = []
    for team in sorted(teams, key=lambda t: tuple(m.id for m in t)):
        key = tuple(m.id for m in team)
        if key not in seen:
            seen.add(key)
            unique.append(team)
    return unique


def _pair_score(team: Team, demand: Counter[str]) -> int:
    """How much of what mentees ask for the team covers, and whether its mentors' units differ."""
    covered = {c for m in team for c in m.expertise}
    units = {m.unit for m in team}
    return sum(min(demand[c], GOAL_MET) for c in covered) + (OTHER_UNIT if len(units) > 1 else 0)


def _partner_candidates(
    mentors: list[Profile], demand: Counter[str]
) -> list[tuple[Profile, Profile]]:
    """Each mentor's best-scoring possible co-mentors; pairs in a stable (id) order."""
    edges: set[tuple[int, int]] = set()
    for i, a in enumerate(mentors):
        ranked = sorted(
            (j for j in range(len(mentors)) if j != i),
            key=lambda j: (-_pair_score((a, mentors[j]), demand), mentors[j].id),
        )
        edges.update((min(i, j), max(i, j)) for j in ranked[:CANDIDATES])
    return [(mentors[i], mentors[j]) for i, j in sorted(edges)]


def team_score(team: Team, mentee: Profile) -> int:
    offered = {c for m in team for c in m.expertise}
    other_unit = all(m.unit != mentee.unit for m in team)
    return GOAL_MET * len(set(mentee.goals) & offered) + (OTHER_UNIT if other_unit else 0)


def allowed_team(team: Team, mentee: Profile, avoid: Sequence[Conflict]) -> bool:
    return all(conflicts(m, mentee, avoid) is None for m in team)


def _join_vars(
    model: cp_model.CpModel,
    teams: list[Team],
    mentees: list[Profile],
    rules: MatchingRules,
    used: list[cp_model.IntVar],
    per_mentee: int | None,
) -> dict[tuple[int, int], cp_model.IntVar]:
    """Mentee ``e`` joins team ``t``: allowed pairs only; a used team holds min..max mentees."""

    allowed = {
        (e, t): team_score(team, mentee)
        for e, mentee in enumerate(mentees)
        for t, team in enumerate(teams)
        if allowed_team(team, mentee, rules.avoid)
    }
    pairs = set(allowed) if per_mentee is None else _best_pairs(allowed, per_mentee)
    joins = {(e, t): model.new_bool_var(f"join_{e}_{t}") for e, t in sorted(pairs)}
    by_mentee: dict[int, list[cp_model.IntVar]] = {}
    by_team: dict[int, list[cp_model.IntVar]] = {t: [] for t in range(len(teams))}
    for (e, t), v in joins.items():
        by_mentee.setdefault(e, []).append(v)
        by_team[t].append(v)
    for options in by_mentee.values():
        model.add_at_most_one(options)
    shape = rules.shape.mentees
    for t, members in by_team.items():
        model.add(sum(members) >= shape.min * used[t])
        model.add(sum(members) <= shape.max * used[t])
    return joins


def _best_pairs(scores: dict[tuple[int, int], int], keep: int) -> set[tuple[int, int]]:
    """Each mentee's ``keep`` best teams and each team's ``keep`` best mentees.

    Both sides, so that popular teams do not absorb every mentee's short list while other
    teams are left with no candidates at all.
    """
    by_mentee: dict[int, list[tuple[int, int]]] = {}
    by_team: dict[int, list[tuple[int, int]]] = {}
    for pair in scores:
        by_mentee.setdefault(pair[0], []).append(pair)
        by_team.setdefault(pair[1], []).append(pair)
    kept: set[tuple[int, int]] = set()
    for options in (*by_mentee.values(), *by_team.values()):
        kept.update(sorted(options, key=lambda p: (-scores[p], p))[:keep])
    return kept


def _placement_score(
    teams: list[Team], mentees: list[Profile], joins: dict[tuple[int, int], cp_model.IntVar]
) -> cp_model.LinearExpr:
    from ortools.sat.python import cp_model

    return cp_model.LinearExpr.weighted_sum(
        list(joins.values()), [PLACED + team_score(teams[t], mentees[e]) for e, t in joins]
    )


def _fill_teams(
    teams: list[Team], mentees: list[Profile], rules: MatchingRules
) -> tuple[list[ProposedGroup], bool]:
    """Stage 2 of the two-stage method: mentees into the chosen teams."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    used = [model.new_bool_var(f"team_{t}") for t in range(len(teams))]
    joins = _join_vars(model, teams, mentees, rules, used, per_mentee=CANDIDATES)
    model.maximize(_placement_score(teams, mentees, joins))
    solver, optimal = _solve(model)
    return _groups(teams, mentees, joins, solver), optimal


def _match_jointly(
    mentors: list[Profile], mentees: list[Profile], rules: MatchingRules, teams: list[Team]
) -> tuple[list[ProposedGroup], bool]:
    """Teams and their mentees in one model: exact, for cohorts small enough to afford it."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    used = _choose_teams(model, teams, mentors)
    joins = _join_vars(model, teams, mentees, rules, used, per_mentee=None)
    mentors_placed = sum(PLACED * len(team) * v for team, v in zip(teams, used, strict=True))
    model.maximize(_placement_score(teams, mentees, joins) + mentors_placed)
    solver, optimal = _solve(model)
    return _groups(teams, mentees, joins, solver), optimal


def _groups(
    teams: list[Team],
    mentees: list[Profile],
    joins: dict[tuple[int, int], cp_model.IntVar],
    solver: cp_model.CpSolver,
) -> list[ProposedGroup]:
    chosen: dict[int, list[Profile]] = {}
    for (e, t), v in joins.items():
        if solver.boolean_value(v):
            chosen.setdefault(t, []).append(mentees[e])
    return [_group(n, teams[t], chosen[t]) for n, t in enumerate(sorted(chosen), start=1)]


class GroupAssignment(Frozen):
    """A group as a coordinator writes it when editing a proposal."""

    mentors: tuple[PersonId, ...]
    mentees: tuple[PersonId, ...]


def assign(
    assignment: Sequence[GroupAssignment], people: Sequence[Profile], rules: MatchingRules
) -> list[ProposedGroup]:
    """An edited assignment as groups with explanations; ``ValueError`` naming the broken rule."""
    by_id = {p.id: p for p in people}
    eligible = {m.id for m in _eligible_mentors(sorted(people, key=lambda p: p.id), rules)[0]}
    load: Counter[PersonId] = Counter()
    groups = []
    for number, g in enumerate(assignment, start=1):
        _check_shape(number, g, rules.shape)
        for pid in (*g.mentors, *g.mentees):
            if pid not in by_id:
                raise ValueError(f"group {number}: {pid} is not a participant")
        for pid in g.mentors:
            if pid not in eligible:
                raise ValueError(f"group {number}: {pid} is not a trained mentor")
            load[pid] += 1
            if load[pid] > by_id[pid].capacity:
                raise ValueError(
                    f"{pid} is in more groups than their capacity ({by_id[pid].capacity})"
                )
        for pid in g.mentees:
            if by_id[pid].role != Role.MENTEE:
                raise ValueError(f"group {number}: {pid} is not a mentee")
            if load[pid]:
                raise ValueError(f"{pid} is in more than one group")
            load[pid] += 1
            for mentor in g.mentors:
                problem = conflicts(by_id[mentor], by_id[pid], rules.avoid)
                if problem:
                    raise ValueError(f"group {number}: {problem}")
        team = tuple(by_id[m] for m in g.mentors)
        groups.append(_group(number, team, [by_id[m] for m in g.mentees]))
    return groups


def _check_shape(number: int, g: GroupAssignment, shape: GroupShape) -> None:
    if len(g.mentors) != shape.mentors or len(set(g.mentors)) != len(g.mentors):
        raise ValueError(f"group {number}: needs {shape.mentors} different mentor(s)")
    if not shape.mentees.min <= len(g.mentees) <= shape.mentees.max:
        raise ValueError(
            f"group {number}: needs {shape.mentees.min}-{shape.mentees.max} mentees,"
            f" has {len(g.mentees)}"
        )


def _group(number: int, team: Team, members: list[Profile]) -> ProposedGroup:
    explanation = tuple(
        GoalMatch(
            mentee=mentee.id,
            goals_met={
                g: [m.id for m in team if g in m.expertise]
                for g in mentee.goals
                if any(g in m.expertise for m in team)
            },
            other_unit=all(m.unit != mentee.unit for m in team),
        )
        for mentee in members
    )
    return ProposedGroup(
        number=number,
        mentors=tuple(m.id for m in team),
        mentees=tuple(m.id for m in members),
        score=sum(team_score(team, m) for m in members),
        explanation=explanation,
    )


def _why_unplaced(
    p: Profile, teams: list[Team], placed: set[PersonId], rules: MatchingRules
) -> Unmatched:
    if p.role == Role.MENTOR:
        return _unplaced(p, any(p in team for team in teams))
    reachable = [team for team in teams if allowed_team(team, p, rules.avoid)]
    return _unplaced(p, bool(teams) and not reachable)


def _unplaced(p: Profile, blocked: bool) -> Unmatched:
    """Why ``p`` has no group; ``blocked``: a mentor had a co-mentor, a mentee has a conflict
    of interest with every team."""
    if p.role == Role.MENTOR:
        reason = (
            "no group: too few compatible mentees to fill another group"
            if blocked
            else "no co-mentor: too few mentors or mentees for another group"
        )
    else:
        reason = (
            "no group without a conflict of interest"
            if blocked
            else "no room: every compatible group is full (too few trained mentors)"
        )
    return Unmatched(person_id=p.id, role=p.role, reason=reason)


# At organisation scale ------------------------------------------------------------------------

EXACT_UP_TO = 600
"""Largest cohort (trained mentors + mentees) matched by the exact method, larger ones at scale.

The exact method's first stage grows cubically (``python -m bench.matching``); every cohort in
the tests and committed histories is below this size, so their groups are unchanged."""
BLOCK = 512
"""Rows of a score matrix computed at once: memory stays bounded at any cohort size."""

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]
Bools = npt.NDArray[np.bool_]


def match_at_scale(participants: Iterable[Profile], rules: MatchingRules) -> MatchingResult:
    """Large cohorts in two polynomial stages, under the same hard rules as ``match_exact``.

    1. Teams: co-mentor pairs greedily, best pair score first, among each mentor's
       ``CANDIDATES`` best partners (scored a block of mentors at a time); rounds among the
       mentors still free follow, so that as many pairs as possible are formed.
    2. Groups: mentees into teams by a min-cost max-flow (OR-Tools, exact and deterministic)
       over each mentee's and each team's ``CANDIDATES`` best allowed pairs: the most mentees
       placed, then the most teams reaching the shape's minimum, then the best fit. Teams left
       below the minimum are closed and the flow is solved again without them.
    """
    people = sorted(participants, key=lambda p: p.id)
    mentors, unmatched = _eligible_mentors(people, rules)
    mentees = [p for p in people if p.role == Role.MENTEE]
    if rules.shape.mentors == 1:
        teams = _candidate_teams(mentors, mentees, rules)
    else:
        teams = _pair_greedily(mentors, mentees)
    arcs, conflicted = _candidate_arcs(teams, mentees, rules)
    placeable = int((~conflicted).sum())
    groups = _fill_by_flow(teams, mentees, rules.shape.mentees, arcs, placeable)
    placed = {p for g in groups for p in (*g.mentors, *g.mentees)}
    in_teams = {m.id for team in teams for m in team}
    unmatched += [_unplaced(p, p.id in in_teams) for p in mentors if p.id not in placed]
    unmatched += [
        _unplaced(p, bool(teams) and bool(conflicted[e]))
        for e, p in enumerate(mentees)
        if p.id not in placed
    ]
    return _result(groups, unmatched, optimal=False)


def _incidence(sets: Sequence[Iterable[str]], index: dict[str, int]) -> Floats:
    """0/1 matrix: row ``i`` marks the competences in ``sets[i]``."""
    matrix = np.zeros((len(sets), len(index)), dtype=np.float32)
    for i, values in enumerate(sets):
        for v in values:
            matrix[i, index[v]] = 1.0
    return matrix


class _Codes:
    """Strings as integers, so that equality is tested on whole matrices at once."""

    def __init__(self) -> None:
        self.table: dict[str | None, int] = {}

    def of(self, values: Iterable[str | None], falsy: int | None = None) -> Ints:
        """Codes of ``values``; when ``falsy`` is given, a falsy value gets it (equal to none)."""
        codes = [
            falsy if falsy is not None and not v else self.table.setdefault(v, len(self.table))
            for v in values
        ]
        return np.array(codes, dtype=np.int64)


def _top(key: Ints, keep: int) -> Ints:
    """Column indices of the ``keep`` largest keys of each row."""
    keep = min(keep, key.shape[1])
    return np.asarray(np.argpartition(-key, keep - 1, axis=1)[:, :keep], dtype=np.int64)


def _pair_greedily(mentors: list[Profile], mentees: list[Profile]) -> list[Team]:
    """Stage 1 at scale: the best-scoring candidate pairs first, within every capacity."""
    n = len(mentors)
    if n < 2:
        return []
    demand = Counter(goal for mentee in mentees for goal in mentee.goals)
    index = {c: i for i, c in enumerate(sorted({c for m in mentors for c in m.expertise}))}
    weights = np.array([min(demand[c], GOAL_MET) for c in index], dtype=np.float32)
    offered = _incidence([m.expertise for m in mentors], index)
    own = offered @ weights
    units = _Codes().of(m.unit for m in mentors)

    def scores(rows: Ints, cols: Ints) -> Ints:
        """``_pair_score`` of every (row, column) pair of mentors."""
        shared = (offered[rows] * weights) @ offered[cols].T
        joint = np.rint(own[rows, None] + own[None, cols] - shared).astype(np.int64)
        other_unit = (units[rows, None] != units[None, cols]).astype(np.int64)
        return np.asarray(joint + OTHER_UNIT * other_unit, dtype=np.int64)

    room = [m.capacity for m in mentors]
    pairs: set[tuple[int, int]] = set()
    while True:  # rounds among the mentors still free, while a round pairs anybody
        free = np.array([i for i, r in enumerate(room) if r], dtype=np.int64)
        before = len(pairs)
        if len(free) >= 2:
            _greedy_round(free, scores, room, pairs)
        if len(pairs) == before:
            break
    _pair_leftovers(room, pairs, scores)
    return [(mentors[i], mentors[j]) for i, j in sorted(pairs)]


def _greedy_round(
    free: Ints, scores: Callable[[Ints, Ints], Ints], room: list[int], pairs: set[tuple[int, int]]
) -> None:
    """Pairs among ``free`` mentors, best candidate pair first, within every capacity."""
    n = len(free)
    at = np.arange(n, dtype=np.int64)
    edges: dict[tuple[int, int], int] = {}
    for start in range(0, n, BLOCK):
        rows = at[start : start + BLOCK]
        score = scores(free[rows], free)
        key = score * n + (at[None, :] - rows[:, None]) % n  # distinct keys spread ties
        key[np.arange(len(rows)), rows] = -1  # nobody pairs with themselves
        best = _top(key, min(CANDIDATES, n - 1))
        for r, cols in enumerate(best.tolist()):
            i = int(free[rows[r]])
            for c in cols:
                j = int(free[c])
                edges[(min(i, j), max(i, j))] = int(score[r, c])
    for i, j in sorted(edges, key=lambda e: (-edges[e], e)):
        if room[i] and room[j] and (i, j) not in pairs:
            pairs.add((i, j))
            room[i] -= 1
            room[j] -= 1


def _pair_leftovers(
    room: list[int], pairs: set[tuple[int, int]], scores: Callable[[Ints, Ints], Ints]
) -> None:
    """Whoever the rounds could not pair (a mentor's only free partners are already their
    co-mentors), paired with anyone left, best partner first."""
    left = [i for i, r in enumerate(room) for _ in range(r)]
    while len(set(left)) >= 2:
        i = left.pop(0)
        free = sorted({j for j in left if j != i and (min(i, j), max(i, j)) not in pairs})
        if free:
            score = scores(np.array([i]), np.array(free))[0]
            j = free[int(np.argmax(score))]  # the first best: the lowest id among equals
            pairs.add((min(i, j), max(i, j)))
            left.remove(j)


Arcs = tuple[Ints, Ints, Ints]
"""Candidate (mentee, team) pairs as three parallel arrays: mentee, team, fit."""


def _candidate_arcs(
    teams: list[Team], mentees: list[Profile], rules: MatchingRules
) -> tuple[Arcs, Bools]:
    """Each mentee's and each team's ``CANDIDATES`` best allowed pairs, scored as ``team_score``
    and allowed as ``allowed_team``; and which mentees no team may take at all."""
    n_teams, n_mentees = len(teams), len(mentees)
    conflicted = np.ones(n_mentees, dtype=np.bool_)
    if not teams or not mentees:
        empty = np.zeros(0, dtype=np.int64)
        return (empty, empty, empty), conflicted
    encoded = _encode(teams, mentees)
    team_ids = np.arange(n_teams, dtype=np.int64)
    found: list[Arcs] = []
    by_team: list[tuple[Ints, Ints]] = []
    for start in range(0, n_mentees, BLOCK):
        rows = np.arange(start, min(start + BLOCK, n_mentees), dtype=np.int64)
        allowed, fit = _allowed_and_fit(encoded, rows, rules)
        conflicted[rows] = ~allowed.any(axis=1)
        found.append(_best_teams(rows, allowed, fit, team_ids))
        by_team.append(_best_mentees(rows, allowed, fit, team_ids, n_mentees))
    found.append(_merge_best_mentees(by_team, team_ids, n_mentees))
    mentee_of, team_of, fit_of = (np.concatenate(part) for part in zip(*found, strict=True))
    _, first = np.unique(mentee_of * n_teams + team_of, return_index=True)
    return (mentee_of[first], team_of[first], fit_of[first]), conflicted


class _Encoded(NamedTuple):
    """Teams and mentees as matrices: competences as 0/1 rows, people and places as codes."""

    offered: Floats
    """Team x competence: 1 where a mentor of the team offers it."""
    goals: Floats
    """Mentee x competence: 1 where the mentee has it as a goal."""
    mentor_id: Ints
    """Team x place in the team: the mentors' codes; the other ``mentor_*`` alike."""
    mentor_manager: Ints
    mentor_unit: Ints
    mentor_unit_any: Ints
    manager: Ints
    """Per mentee; ``unit`` and ``unit_any`` alike."""
    unit: Ints
    unit_any: Ints


def _encode(teams: list[Team], mentees: list[Profile]) -> _Encoded:
    """An absent manager or unit gets a code of its own on each side (-1 mentors, -2 mentees), so
    that it equals nothing; ``unit_any`` codes an absent unit like any other value."""
    names = {c for team in teams for m in team for c in m.expertise}
    index = {c: i for i, c in enumerate(sorted(names | {g for e in mentees for g in e.goals}))}
    sides = _sides(teams)
    codes = _Codes()
    return _Encoded(
        offered=np.minimum(
            np.sum([_incidence([m.expertise for m in side], index) for side in sides], axis=0),
            1.0,
        ),
        goals=_incidence([set(e.goals) for e in mentees], index),
        mentor_id=np.stack([codes.of(m.id for m in side) for side in sides], axis=1),
        mentor_manager=np.stack([codes.of((m.manager for m in side), -1) for side in sides], 1),
        mentor_unit=np.stack([codes.of((m.unit for m in side), -1) for side in sides], 1),
        mentor_unit_any=np.stack([codes.of(m.unit for m in side) for side in sides], 1),
        manager=codes.of((e.manager for e in mentees), -2),
        unit=codes.of((e.unit for e in mentees), -2),
        unit_any=codes.of(e.unit for e in mentees),
    )


def _allowed_and_fit(e: _Encoded, rows: Ints, rules: MatchingRules) -> tuple[Bools, Ints]:
    """Mentees ``rows`` x teams: which pairs the rules allow, and how well each fits."""
    allowed = ~np.any(e.manager[rows, None, None] == e.mentor_id[None], axis=2)
    if Conflict.SAME_MANAGER in rules.avoid:
        allowed &= ~np.any(e.manager[rows, None, None] == e.mentor_manager[None], axis=2)
    if Conflict.SAME_UNIT in rules.avoid:
        allowed &= ~np.any(e.unit[rows, None, None] == e.mentor_unit[None], axis=2)
    other = np.all(e.unit_any[rows, None, None] != e.mentor_unit_any[None], axis=2)
    met = np.rint(e.goals[rows] @ e.offered.T).astype(np.int64)
    fit: Ints = GOAL_MET * met + OTHER_UNIT * other
    return allowed, fit


def _best_teams(rows: Ints, allowed: Bools, fit: Ints, team_ids: Ints) -> Arcs:
    """Each mentee of ``rows``: its ``CANDIDATES`` best allowed teams."""
    n_teams, start = len(team_ids), rows[0]
    spread = (team_ids[None, :] - rows[:, None]) % n_teams  # ties spread over the teams
    best = _top(np.where(allowed, fit * n_teams + spread, -1), CANDIDATES)
    mentee_at = np.repeat(rows, best.shape[1])
    keep = allowed[mentee_at - start, best.ravel()]
    return (mentee_at[keep], best.ravel()[keep], fit[mentee_at - start, best.ravel()][keep])


def _best_mentees(
    rows: Ints, allowed: Bools, fit: Ints, team_ids: Ints, n_mentees: int
) -> tuple[Ints, Ints]:
    """Each team's ``CANDIDATES`` best mentees of ``rows``: their keys (fit, then a spread of
    ties; -1 where not allowed) and who they are."""
    spread = (rows[:, None] - team_ids[None, :]) % n_mentees
    key = np.where(allowed, fit * n_mentees + spread, -1).T
    best = _top(key, CANDIDATES)
    return np.take_along_axis(key, best, axis=1), rows[best]


def _merge_best_mentees(by_team: list[tuple[Ints, Ints]], team_ids: Ints, n_mentees: int) -> Arcs:
    """Each team's ``CANDIDATES`` best allowed mentees of all the blocks of ``_best_mentees``."""
    keys = np.concatenate([k for k, _ in by_team], axis=1)
    who = np.concatenate([w for _, w in by_team], axis=1)
    best = _top(keys, CANDIDATES)
    key = np.take_along_axis(keys, best, axis=1).ravel()
    keep = key >= 0
    return (
        np.take_along_axis(who, best, axis=1).ravel()[keep],
        np.repeat(team_ids, best.shape[1])[keep],
        key[keep] // n_mentees,
    )


def _sides(teams: list[Team]) -> list[tuple[Profile, ...]]:
    """The teams' first mentors, their second mentors, ...: one sequence per place in a team."""
    return list(zip(*teams, strict=True))


def _fill_by_flow(
    teams: list[Team], mentees: list[Profile], size: Range, arcs: Arcs, placeable: int
) -> list[ProposedGroup]:
    """Stage 2 at scale: flows until every used team holds ``size.min`` mentees or more."""
    is_open = _worth_opening(len(teams), placeable, size, arcs)
    while True:
        team_of = _flow(len(mentees), is_open, size, arcs)
        load = np.bincount(team_of[team_of >= 0], minlength=len(teams))
        short = (load > 0) & (load < size.min)
        if not short.any():
            break
        is_open &= ~short
    members: dict[int, list[Profile]] = {}
    for e, t in enumerate(team_of.tolist()):
        if t >= 0:
            members.setdefault(t, []).append(mentees[e])
    return [_group(n, teams[t], members[t]) for n, t in enumerate(sorted(members), start=1)]


def _worth_opening(n_teams: int, placeable: int, size: Range, arcs: Arcs) -> Bools:
    """As many teams as the mentees can fill to the minimum, those with the best candidates
    first: when mentees are few, spreading them over every team would leave all short."""
    team, fit = arcs[1], arcs[2]
    strength = np.bincount(team, weights=fit, minlength=n_teams)
    best_first = np.lexsort((np.arange(n_teams), -strength))
    is_open = np.zeros(n_teams, dtype=np.bool_)
    is_open[best_first[: placeable // size.min]] = True
    return is_open


def _flow(n_mentees: int, is_open: Bools, size: Range, arcs: Arcs) -> Ints:
    """Each mentee's team (-1: none) in a min-cost maximum flow source -> mentee -> team -> sink.

    A team's first ``size.min`` seats carry a bonus larger than any total fit, so that the flow
    fills as many teams to the minimum as it can before it improves the fit.
    """
    from ortools.graph.python import min_cost_flow

    mentee, team, fit = (a[is_open[arcs[1]]] for a in arcs)
    n_teams = len(is_open)
    source, sink = 0, 1 + n_mentees + n_teams
    bonus = n_mentees * (int(fit.max(initial=0)) + 1) + 1
    everyone, all_teams = np.arange(n_mentees), np.arange(n_teams)
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = [
        np.full(n_mentees, source),
        1 + mentee,
        1 + n_mentees + all_teams,
        1 + n_mentees + all_teams,
    ]
    heads = [1 + everyone, 1 + n_mentees + team, np.full(n_teams, sink), np.full(n_teams, sink)]
    capacities = [
        np.ones(n_mentees),
        np.ones(len(mentee)),
        np.where(is_open, size.min, 0),
        np.where(is_open, size.max - size.min, 0),
    ]
    costs = [np.zeros(n_mentees), -fit, np.full(n_teams, -bonus), np.zeros(n_teams)]
    flow.add_arcs_with_capacity_and_unit_cost(
        *(np.concatenate(part).astype(np.int64) for part in (tails, heads, capacities, costs))
    )
    flow.set_node_supply(source, n_mentees)
    flow.set_node_supply(sink, -n_mentees)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"matching flow not solved: {status}")  # a bug
    chosen = flow.flows(np.arange(n_mentees, n_mentees + len(mentee))) > 0
    team_of = np.full(n_mentees, -1, dtype=np.int64)
    team_of[mentee[chosen]] = team[chosen]
    return team_of
