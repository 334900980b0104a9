"""How a simulation report looks on a terminal."""

from rich.console import Console
from rich.table import Table

from mentorflow.simulate import SimulationReport


def show_simulation(report: SimulationReport, console: Console) -> None:
    p = report.programme
    console.print(
        f"[bold]{p['id']}[/]: {p['phase']}, {p['participants']} participants,"
        f" {p['groups']} groups; not trained in time: {', '.join(p['excluded_untrained']) or '-'}"
    )
    table = Table(title="Groups (times in the scenario's own dates)")
    for column in ("group", "mentors", "mentees", "outcome", "meetings held/missed", "escalations"):
        table.add_column(column)
    for r in report.relationships:
        escalations = "\n".join(f"{e['at'][:10]} {e['kind']}" for e in r.escalations)
        table.add_row(
            r.id,
            ", ".join(r.mentors),
            ", ".join(r.mentees),
            f"{r.outcome}: {r.reason}",
            f"{r.meetings_held}/{r.meetings_missed}",
            escalations or "-",
        )
    console.print(table)
    console.print(f"notifications: {report.notifications}")
    console.print(f"e-mail: {report.mail}")
    console.print(f"people's actions: {report.actions}")
    console.print(f"events stored: {report.events}; checks: {report.checks}")
    if report.report is not None:
        for name, questions in report.report.scales.items():
            for question, values in questions.items():
                counts = "  ".join(f"{n}: {count}" for n, count in values.items())
                console.print(f"{name} feedback, {question} (1-5): {counts}")
