"""Mentorflow's own Prometheus metrics (the Temporal runtime exports its own separately).

Counted where the work happens, in activities: once per stored event and per message, so a
retried activity that finds its work done counts nothing again.
"""

from prometheus_client import Counter

EVENTS_APPENDED = Counter(
    "mentorflow_events_appended", "Events appended to the event store", ["stream"]
)
ESCALATIONS = Counter("mentorflow_escalations", "Escalations raised to a coordinator", ["kind"])
NOTIFICATIONS = Counter(
    "mentorflow_notifications", "Notification messages by final outcome", ["outcome"]
)

ESCALATION_TYPES = {"escalation_raised", "approval_escalated", "delivery_failed"}
