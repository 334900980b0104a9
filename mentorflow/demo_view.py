"""How the demo looks on a terminal: the programme, its groups, one group's timeline, next steps."""

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mentorflow.demo import DemoReport
from mentorflow.simulation_view import show_simulation

_STYLE = {
    "escalation_raised": "bold red",
    "marked_at_risk": "red",
    "meeting_missed": "yellow",
    "reminder_issued": "dim",
    "relationship_closed": "bold green",
    "member_withdrew": "magenta",
}


def show_report(demo: DemoReport, console: Console) -> None:
    report = demo.simulation
    show_simulation(report, console)
    if report.timeline_of:
        table = Table(
            title=f"Timeline of group {report.timeline_of}, replayed from the event store"
        )
        table.add_column("when (scenario time, UTC)", no_wrap=True)
        table.add_column("who", no_wrap=True)
        table.add_column("what happened")
        for entry in report.timeline:
            table.add_row(
                f"{entry.at:%Y-%m-%d %H:%M}", entry.actor, entry.text, style=_STYLE.get(entry.type)
            )
        console.print(table)
    console.print(_where_next(demo))


def _where_next(demo: DemoReport) -> Panel:
    programme = demo.simulation.programme["id"]
    return Panel(
        "\n".join(
            [
                "Every event is stored (append-only) in PostgreSQL:",
                f"  {demo.database_url}",
                f"  SELECT stream_id, version, type, actor, occurred_at FROM events"
                f" WHERE stream_id LIKE '%{programme}%' ORDER BY global_position;",
                "Every notification as sent (one file per message, any mail client opens it):"
                if demo.maildir
                else "Notifications went to the SMTP relay (MENTORFLOW_SMTP_HOST).",
                *([f"  {demo.maildir}/new"] if demo.maildir else []),
                "Delivery records: the outbox and deliveries tables.",
                "Machine-readable: mentorflow demo --json; your own programme:"
                " mentorflow simulate FILE.yaml",
                "In real time: `mentorflow dev` (Web UI http://localhost:8233), then"
                " `mentorflow programme start FILE.yaml`; the record: `mentorflow audit --help`.",
            ]
        ),
        title="Where to look next",
        expand=False,
    )
