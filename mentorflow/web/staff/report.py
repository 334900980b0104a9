"""The coordinator's programme report: numbers and charts, and their CSV and JSON exports.

Counted from the staff overviews' projection (each group's folded state, ``views``), so a
request costs the events that are new since the last one, never a replay. What the groups say is
theirs: free-text answers are never read here, and a figure that would come from fewer than
``MIN_AGGREGATE`` people (a feedback round, a scale question, a programme with fewer people in
groups) is withheld, and the page says what was. Charts are SVG drawn on the server by pygal.
"""

import io
import re
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pygal
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from pygal.style import Style

from domain.feedback import Texts
from domain.relationship.state import MeetingStatus, RelationshipState
from domain.summary import MIN_AGGREGATE
from mentorflow.csv_export import write_csv
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused
from mentorflow.web.pages import locale_of, render, web_of
from mentorflow.web.staff import views
from mentorflow.web.staff.api import PROBLEMS, WAYS_IN
from mentorflow.web.staff.attention import KINDS
from mentorflow.web.staff.coordinate import ProgrammeActor

router = APIRouter(prefix="/staff/programmes", include_in_schema=False)
api = APIRouter(
    prefix="/api/v1/programmes", tags=["coordination"], responses=PROBLEMS, dependencies=WAYS_IN
)

SCALE = ("1", "2", "3", "4", "5")
ROUNDS = {"midpoint": N_("Midpoint feedback"), "final": N_("Final feedback")}
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


class RoundCount(BaseModel):
    model_config = ConfigDict(frozen=True)
    asked: int
    answered: int
    late: int


class ProgrammeReportView(BaseModel):
    """A programme's numbers as its coordinator may see them (aggregates of 3 people or more)."""

    model_config = ConfigDict(frozen=True)
    programme_id: str
    timezone: str
    groups: int
    people: int
    """People in the programme's groups."""
    meetings_by_month: dict[str, dict[str, int]]
    """Per local month (YYYY-MM): meetings held, and not held or missed."""
    feedback: dict[str, RoundCount]
    """Per round asked of at least 3 people."""
    scales: dict[str, dict[str, dict[str, int]]]
    """Per round and scale question answered by at least 3 people: how many chose 1 ... 5."""
    escalations: dict[str, int]
    """Per kind."""
    withheld: list[str]
    """What is not shown because fewer than 3 people are behind it (round or round/question)."""
    questions: dict[str, Texts] = {}
    """Each scale question's text as the programme file gives it, by round/question."""


def report_of(programme_id: str, zone: str, groups: list[RelationshipState]) -> ProgrammeReportView:
    people = {m for g in groups for m in g.members}
    if len(people) < MIN_AGGREGATE:
        return ProgrammeReportView(
            programme_id=programme_id,
            timezone=zone,
            groups=len(groups),
            people=len(people),
            meetings_by_month={},
            feedback={},
            scales={},
            escalations={},
            withheld=["programme"],
        )
    withheld: list[str] = []
    texts: dict[str, Texts] = {}
    feedback = _feedback(groups, withheld)
    scales = _scales(groups, withheld, texts)
    return ProgrammeReportView(
        programme_id=programme_id,
        timezone=zone,
        groups=len(groups),
        people=len(people),
        meetings_by_month=_meetings(groups, ZoneInfo(zone)),
        feedback=feedback,
        scales=scales,
        escalations=dict(
            sorted(Counter(str(e.kind) for g in groups for e in g.escalations).items())
        ),
        withheld=withheld,
        questions=texts,
    )


def _meetings(groups: list[RelationshipState], zone: ZoneInfo) -> dict[str, dict[str, int]]:
    months: dict[str, Counter[str]] = {}
    for g in groups:
        for m in g.meetings:
            if m.status == MeetingStatus.HELD:
                day = m.held_on or m.due_at.astimezone(zone).date()
                months.setdefault(day.strftime("%Y-%m"), Counter())["held"] += 1
            elif m.status in (MeetingStatus.NOT_HELD, MeetingStatus.MISSED):
                month = m.due_at.astimezone(zone).strftime("%Y-%m")
                months.setdefault(month, Counter())["not_held"] += 1
    return {
        month: {"held": c["held"], "not_held": c["not_held"]} for month, c in sorted(months.items())
    }


def _feedback(groups: list[RelationshipState], withheld: list[str]) -> dict[str, RoundCount]:
    totals: dict[str, Counter[str]] = {}
    for g in groups:
        for r in g.feedback.values():
            if r.requested_at is None:
                continue
            total = totals.setdefault(str(r.round), Counter())
            total["asked"] += sum(1 for m in g.members.values() if m.active) or len(r.answers)
            total["answered"] += len(r.answers)
            total["late"] += sum(a.late for a in r.answers.values())
    found = {}
    for name, t in sorted(totals.items()):
        if t["asked"] < MIN_AGGREGATE:
            withheld.append(name)
            continue
        found[name] = RoundCount(asked=t["asked"], answered=t["answered"], late=t["late"])
    return found


def _scales(
    groups: list[RelationshipState], withheld: list[str], texts: dict[str, Texts]
) -> dict[str, dict[str, dict[str, int]]]:
    """Scale answers only (a number each): free-text answers are never read. Each question's
    text goes into ``texts``, for the page to name it in the reader's language."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for g in groups:
        questions = g.policy.feedback_questions
        if questions is None:
            continue
        for r in g.feedback.values():
            if r.requested_at is None:  # not asked yet: nothing is withheld, nothing to show
                continue
            for q in questions.of(r.round):
                if q.type != "scale":
                    continue
                texts[f"{r.round}/{q.id}"] = q.text
                values = counts.setdefault((str(r.round), q.id), Counter())
                values.update(a.choices[q.id] for a in r.answers.values() if q.id in a.choices)
    found: dict[str, dict[str, dict[str, int]]] = {}
    for (name, question), values in sorted(counts.items()):
        if values.total() < MIN_AGGREGATE:
            withheld.append(f"{name}/{question}")
            continue
        found.setdefault(name, {})[question] = {n: values[n] for n in SCALE}
    return found


async def programme_report(request: Request, programme_id: str) -> ProgrammeReportView:
    """The report over the programme's groups in the projection (404: no record of it)."""
    web = web_of(request)
    groups = await views.relationship_states(web.pool, programme_id)
    entry = await web.reader.programme(programme_id)
    if entry is None and not groups:
        raise Refused(404, N_("There is no programme with this id in the record."))
    zone = entry.timezone if entry else "UTC"
    return report_of(programme_id, zone, groups)


# ---- charts -------------------------------------------------------------------------------

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    colors=("#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92"),
    font_family="sans-serif",
)


def _chart(kind: Any, title: str, labels: list[str], series: dict[str, list[int]]) -> str:
    chart = kind(
        style=STYLE,
        title=title,
        js=[],  # no scripts: the page works without JavaScript and loads nothing from elsewhere
        disable_xml_declaration=True,
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        height=300,
        width=640,
        print_values=True,
        explicit_size=False,
    )
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    svg: str = chart.render(is_unicode=True)
    # pygal writes its tooltips' settings as an inline script even without its scripts: the
    # charts are read as drawn, and the page runs no script.
    return _SCRIPT.sub("", svg)


class Names:
    """The report's codes (rounds, questions, escalation kinds) in the reader's language."""

    def __init__(self, report: ProgrammeReportView, locale: str, gettext: Any):
        self._questions, self._locale, self._ = report.questions, locale, gettext

    def round(self, code: str) -> str:
        return str(self._(ROUNDS[code])) if code in ROUNDS else code

    def question(self, key: str) -> str:
        """ "midpoint/usefulness": the question's own text, in the reader's language."""
        texts = self._questions.get(key)
        return texts.get(self._locale) if texts else key.partition("/")[2]

    def kind(self, code: str) -> str:
        return str(self._(KINDS[code])) if code in KINDS else code

    def withheld(self, key: str) -> str:
        """A round, or a round's question: "Midpoint feedback: How useful ...?"."""
        code, _, question = key.partition("/")
        return f"{self.round(code)}: {self.question(key)}" if question else self.round(code)


def charts(report: ProgrammeReportView, names: Names, gettext: Any) -> list[tuple[str, str]]:
    """(title, SVG) of each chart with data, titles and labels in the reader's language."""
    found = []
    months = report.meetings_by_month
    if months:
        title = gettext(N_("Meetings per month"))
        series = {
            gettext(N_("held")): [m["held"] for m in months.values()],
            gettext(N_("not held")): [m["not_held"] for m in months.values()],
        }
        found.append((title, _chart(pygal.StackedBar, title, list(months), series)))
    if report.feedback:
        title = gettext(N_("Feedback per round"))
        rounds = report.feedback
        series = {
            gettext(N_("answered")): [r.answered for r in rounds.values()],
            gettext(N_("not answered")): [r.asked - r.answered for r in rounds.values()],
        }
        labels = [names.round(r) for r in rounds]
        found.append((title, _chart(pygal.StackedBar, title, labels, series)))
    for name, questions in report.scales.items():
        for question, values in questions.items():
            title = gettext(N_("Answers to %(question)s (%(round)s)")) % {
                "question": names.question(f"{name}/{question}"),
                "round": names.round(name),
            }
            series = {gettext(N_("answers")): [values[n] for n in SCALE]}
            found.append((title, _chart(pygal.Bar, title, list(SCALE), series)))
    if report.escalations:
        title = gettext(N_("Escalations by kind"))
        series = {gettext(N_("escalations")): list(report.escalations.values())}
        labels = [names.kind(k) for k in report.escalations]
        found.append((title, _chart(pygal.Bar, title, labels, series)))
    return found


# ---- pages, exports and the API -----------------------------------------------------------


@router.get("/{programme_id}/report")
async def report_page(request: Request, programme_id: str, member: ProgrammeActor) -> Response:
    report = await programme_report(request, programme_id)
    web, locale = web_of(request), locale_of(request)

    def gettext(message: str) -> str:
        return web.translations.gettext(locale, message)

    names = Names(report, locale, gettext)
    return render(
        request,
        "staff/report.html",
        report=report,
        names=names,
        withheld=[names.withheld(w) for w in report.withheld],
        charts=charts(report, names, gettext),
        least=MIN_AGGREGATE,
    )


@router.get("/{programme_id}/report.json")
async def report_json(request: Request, programme_id: str, member: ProgrammeActor) -> Response:
    report = await programme_report(request, programme_id)
    return Response(
        report.model_dump_json(indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="report-{_safe(programme_id)}.json"'
        },
    )


@router.get("/{programme_id}/report.csv")
async def report_csv(request: Request, programme_id: str, member: ProgrammeActor) -> Response:
    report = await programme_report(request, programme_id)
    out = io.StringIO()
    write_csv(out, ("section", "key", "item", "value"), rows_of(report))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="report-{_safe(programme_id)}.csv"'},
    )


def rows_of(report: ProgrammeReportView) -> list[tuple[str, str, str, object]]:
    """The report as long-format rows (every cell neutralised by ``write_csv``)."""
    rows: list[tuple[str, str, str, object]] = [
        ("programme", report.programme_id, "groups", report.groups),
        ("programme", report.programme_id, "people", report.people),
    ]
    for month, counts in report.meetings_by_month.items():
        rows += [("meetings", month, kind, n) for kind, n in counts.items()]
    for name, r in report.feedback.items():
        rows += [("feedback", name, k, v) for k, v in r.model_dump().items()]
    for name, questions in report.scales.items():
        for question, values in questions.items():
            rows += [("scale", f"{name}/{question}", n, c) for n, c in values.items()]
    rows += [("escalations", kind, "count", n) for kind, n in report.escalations.items()]
    rows += [
        ("withheld", what, f"fewer than {MIN_AGGREGATE} people", "") for what in report.withheld
    ]
    return rows


def _safe(programme_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in programme_id)


@api.get(
    "/{programme_id}/report",
    summary="The programme's report: aggregates of at least 3 people, no free text",
)
async def report_api(
    request: Request, programme_id: str, member: ProgrammeActor
) -> ProgrammeReportView:
    return await programme_report(request, programme_id)
