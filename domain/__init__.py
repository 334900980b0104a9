"""Pure domain of Mentorflow: models, events, the fold and the policies.

Nothing here does I/O, reads a clock or imports Temporal: time, ids and randomness are arguments.
The same ``fold`` that rebuilds a workflow's state is what auditors run over stored events.
"""
