"""Synthetic cohorts: realistic-looking participants for demos, benchmarks and tests.

Seeded, so the same arguments give the same people. Ids only mean something to this module:
``m17`` is a mentor, ``a42`` a mentee, ``boss3`` a manager, ``unit-4`` a unit.
"""

import random
from datetime import date

from domain.model import Role
from domain.programme.model import Locale, Participant

COMPETENCES = (
    "automation", "budgeting", "change-management", "coaching", "communication",
    "competence-management", "contract-law", "customer-service", "data-analysis", "digitalisation",
    "financial-administration", "hr-processes", "information-security", "leadership",
    "negotiation", "payroll", "presentation", "process-development", "procurement",
    "project-management", "public-administration", "quality", "recruitment", "reporting",
    "risk-management", "service-design", "statistics", "strategy", "team-work", "wellbeing",
)  # fmt: skip


def cohort(
    mentors: int,
    mentees: int,
    seed: int = 0,
    units: int = 10,
    managers: int = 40,
    trained_share: float = 0.9,
) -> list[Participant]:
    """``mentors`` mentors and ``mentees`` mentees spread over units, managers and competences."""
    rng = random.Random(seed)
    people = []
    for n in range(1, mentors + 1):
        trained = rng.random() < trained_share
        people.append(_person(rng, f"m{n}", Role.MENTOR, units, managers, trained))
    for n in range(1, mentees + 1):
        people.append(_person(rng, f"a{n}", Role.MENTEE, units, managers, False))
    return people


def _person(
    rng: random.Random, pid: str, role: Role, units: int, managers: int, trained: bool
) -> Participant:
    mentor = role == Role.MENTOR
    competences = tuple(
        sorted(rng.sample(COMPETENCES, rng.randint(2, 4) if mentor else rng.randint(1, 3)))
    )
    return Participant(
        id=pid,
        name=f"Person {pid}",
        email=f"{pid}@example.org",
        role=role,
        locale=rng.choice(list(Locale)),
        unit=f"unit-{rng.randint(1, units)}",
        manager=f"boss{rng.randint(1, managers)}",
        expertise=competences if mentor else (),
        goals=() if mentor else competences,
        capacity=1,
        trained_on=date(2020, 6, 1) if trained else None,
    )
