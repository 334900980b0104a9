"""The programme (cohort), as an event-sourced aggregate, and the models HR defines it with.

``model`` the programme and its participants as HR defines them; then, as for
``domain.relationship``: ``events``, ``state``, ``fold`` (``fold``, ``apply``), ``commands``
(``decide``, ``start`` and the events of the workflow's I/O steps), ``schedule``
(``due_events``, ``next_wakeup``, ``next_action``).
"""
