"""Fault tests: each case on the real servers (embedded PostgreSQL, a Temporal server, a real SMTP
relay), each ending with every workflow closed, nothing lost, nothing doubled, hash chains
verified. The README's "Guarantees" states what they prove.

The fault matrix of issue 12, case -> test (``test_*.py`` here):

- NUL text -> ``test_poison_input``: ``test_poison_text_changes_nothing_and_the_group_closes_whole``
  (dev server: refused, nothing written, the group closes, mail once, chains verified); also
  ``test_text_that_cannot_be_stored_is_refused_with_the_character``,
  ``test_poison_text_is_refused_by_the_update_and_the_group_goes_on`` (timers still fire),
  ``test_the_store_refuses_nul_as_a_final_data_error_and_writes_nothing``,
  ``test_a_recording_refused_by_the_database_refuses_the_update_not_the_group``.
- a 100,000-character text -> the same two Update tests of ``test_poison_input``;
  ``test_every_free_text_and_list_is_bounded``.
- relay down for longer than the retry window, then back -> ``test_delivery_relay_faults``
  ``[relay-down]``: held, then ``mail resend`` sends each message once.
- 535 at login -> ``test_delivery_relay_faults`` ``[535-at-login]``.
- 452 for one recipient for an hour (part of the compressed retry window) ->
  ``test_delivery_recipients``: ``test_a_full_mailbox_for_a_while_is_retried_and_delivered``;
  for longer than the window: ``test_a_mailbox_full_for_longer_than_the_window_is_given_up...``.
- 550 5.1.1 for one recipient -> ``test_delivery_recipients``:
  ``test_a_dead_address_fails_at_once_and_is_told_once``,
  ``test_what_failed_for_good_is_resent_once_the_address_is_fixed``.
- worker SIGKILLed with a delivery provably in flight, ten kills in one run ->
  ``test_delivery_kill`` (the relay holds each 250 until the worker is dead).
- PostgreSQL restarted mid-append -> ``test_database_restart`` (an append's transaction open in
  the server, waiting for the log head, when it stops; retried, stored once).
- a group terminated by an operator -> ``test_operator_terminated`` (its own time-skipping
  server); with a forged ``relationship_ended`` too: ``test_programme_liveness``.
- a pause never resumed -> ``test_pause_never_resumed``:
  ``test_a_pause_never_resumed_is_escalated_and_the_group_closes_at_the_end``.

Beyond the matrix: a programme never approved (``test_programme_liveness``), an append whose
reply is lost (``test_poison_input``: ``test_an_append_in_doubt_is_read_back...``), workers down
past due reminders (``test_stale_reminders``). Shared parts: ``delivery_fixtures`` (relay with
faults, short retry policy, ``check_delivered``: nothing lost, nothing doubled, chains verified)
and ``delivery_worker`` (a worker process to SIGKILL).
"""
