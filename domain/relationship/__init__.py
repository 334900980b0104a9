"""The mentoring relationship (a group or pair), as an event-sourced aggregate.

``events`` what is recorded; ``state`` what ``fold`` rebuilds; ``fold`` (``fold``, ``apply``);
``commands`` what people may ask (``decide``, ``start``); ``schedule`` what falls due by itself
(``due_events``, ``next_wakeup``). ``domain.programme`` has the same modules.
"""
