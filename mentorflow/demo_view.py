"""How the demo report looks on a terminal."""

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mentorflow.demo import DemoReport

_STYLE = {
    "escalation_raised": "bold red",
    "marked_at_risk": "red",
    "meeting_missed": "yellow",
    "reminder_issued": "dim",
    "relationship_closed": "bold green",
    "member_withdrew": "magenta",
}


def show_report(report: DemoReport, console: Console) -> None:
    table = Table(title=f"Timeline of {report.relationship_id}, read back from the event store")
    table.add_column("virtual time (UTC)", no_wrap=True)
    table.add_column("actor", no_wrap=True)
    table.add_column("what happened")
    for entry in report.timeline:
        table.add_row(
            f"{entry.at:%Y-%m-%d %H:%M}", entry.actor, entry.text, style=_STYLE.get(entry.type)
        )
    console.print(table)
    console.print(_summary(report))
    console.print(_where_next(report))


def _summary(report: DemoReport) -> Panel:
    feedback = "\n".join(
        f"  {name}: {f.answered} answered ({f.late} late), missing: {', '.join(f.missing) or '-'}"
        for name, f in report.feedback.items()
    )
    escalations = "\n".join(
        f"  {e['at'][:10]} {e['kind']} ({e['subject']})" for e in report.escalations
    )
    notifications = ", ".join(f"{kind} {n}" for kind, n in report.notifications.items())
    fold_ok = "OK" if report.fold_matches_workflow else "MISMATCH"
    lines = [
        f"outcome: {report.outcome} ({report.closure_reason})",
        f"meetings: {report.meetings_held} held, {report.meetings_missed} missed",
        f"feedback:\n{feedback}",
        f"escalations to the coordinator:\n{escalations or '  none'}",
        f"outbox (notifications decided): {notifications}",
        f"audit: {report.events} events stored; fold(stored events) == workflow state: {fold_ok};"
        f" {report.runs_replayed} workflow runs replayed with today's code: OK",
    ]
    return Panel("\n".join(lines), title="Summary", expand=False)


def _where_next(report: DemoReport) -> Panel:
    return Panel(
        "\n".join(
            [
                "The stored record of this group:",
                f"  psql '{report.database_url}' -c \\",
                f'    "SELECT version, type, actor, occurred_at FROM events WHERE stream_id ='
                f" 'relationship:{report.relationship_id}' ORDER BY version\"",
                "Notifications waiting for delivery: the outbox table, same database.",
                "Machine-readable report: mentorflow demo --json",
                "Run for real: `temporal server start-dev` (Web UI on http://localhost:8233),"
                " then `mentorflow worker`.",
            ]
        ),
        title="Where to look next",
        expand=False,
    )
