"""Deterministic orchestration: Temporal workflows over the pure domain.

Workflow modules do nothing at import time; decisions live in ``domain/``, I/O in ``activities/``.
"""

TASK_QUEUE = "mentorflow"
