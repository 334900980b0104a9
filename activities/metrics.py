"""Mentorflow's own Prometheus metrics (the Temporal runtime exports its own separately).

Counted where the work happens, in activities: once per stored event and per message, so a
retried activity that finds its work done counts nothing again.
"""

from prometheus_client import Counter, Gauge

EVENTS_APPENDED = Counter(
    "mentorflow_events_appended", "Events appended to the event store", ["stream"]
)
ESCALATIONS = Counter("mentorflow_escalations", "Escalations raised to a coordinator", ["kind"])
NOTIFICATIONS = Counter(
    "mentorflow_notifications", "Notification messages by final outcome", ["outcome"]
)

ESCALATION_TYPES = {"escalation_raised", "approval_escalated", "delivery_failed"}
RELAY_FAULTS = Counter(
    "mentorflow_smtp_relay_faults",
    "SMTP relay or configuration faults (not a recipient's): deliveries wait and are retried",
    ["kind"],
)
RELAY_FAILING = Gauge(
    "mentorflow_smtp_relay_failing", "1 while the last attempt on the SMTP relay failed, else 0"
)


_relay = {"failing": False}


def relay_failing(failing: bool | None = None) -> bool:
    """Set (when given) and return whether the last attempt on the SMTP relay failed."""
    if failing is not None:
        _relay["failing"] = failing
        RELAY_FAILING.set(int(failing))
    return _relay["failing"]
