"""A scenario's script can say every action a person can take, with its data.

Scripts knew only ``withdraw`` and ``skip_feedback``. Now every action of a member (record the
agreement or a meeting, answer feedback, withdraw, pause, resume, add an agenda item; mentors
set or cancel a meeting's time) and of the coordinator
(approve the matching, mark a mentor trained, remove a participant; pause, resume or withdraw
for a ``member``) is sent as the real Update, refused with its reason when the rules say so and
counted in ``actions`` by that reason.
"""

from pathlib import Path

import yaml

from domain.codec import RELATIONSHIP
from domain.relationship.fold import fold
from domain.text import sealed
from mentorflow.settings import Settings
from mentorflow.simulate import simulate
from store.event_store import EventStore
from store.sealing import Sealer
from workflows.messages import workflow_id

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"

SCRIPT = [
    {"date": "2020-08-20", "person": "hr1", "action": "mark_trained", "member": "m4"},
    {"date": "2020-09-03", "person": "hr1", "action": "approve_matching", "reason": "as proposed"},
    {
        "date": "2020-09-10",
        "person": "m1",
        "action": "record_agreement",
        "text": "monthly, Tuesdays",
        "goals": ["leadership", "payroll"],
    },
    {"date": "2020-09-12", "person": "a1", "action": "record_agreement", "text": "again"},
    {
        "date": "2020-10-01",
        "person": "m1",
        "action": "record_meeting",
        "held_on": "2020-10-01",
        "attendees": ["m1", "a1"],
    },
    {
        "date": "2020-10-05",
        "person": "m1",
        "action": "schedule_meeting",
        "meeting_on": "2020-10-27",  # after summer time ends (25 October): 17:30 is UTC+2
        "starts": "17:30",
        "place": "Room Kivi",
    },
    {"date": "2020-10-06", "person": "a1", "action": "add_agenda_item", "text": "Budget talk"},
    {"date": "2020-10-06", "person": "a1", "action": "schedule_meeting"},  # mentors plan
    {"date": "2020-10-07", "person": "m1", "action": "cancel_meeting"},
    {"date": "2020-11-10", "person": "a1", "action": "pause", "reason": "parental leave"},
    {"date": "2020-11-20", "person": "hr1", "action": "resume", "member": "a1"},
    {
        "date": "2021-05-05",
        "person": "a1",
        "action": "submit_feedback",
        "round": "midpoint",
        "answers": {"usefulness": "5", "went_well": "the pace"},
    },
    {
        "date": "2021-05-05",
        "person": "m1",
        "action": "submit_feedback",
        "round": "midpoint",
        "answers": {"usefulness": "9"},
    },
    {"date": "2021-05-06", "person": "a1", "action": "submit_feedback", "round": "final"},
    {"date": "2021-01-10", "person": "nobody", "action": "withdraw", "reason": "not here"},
    {"date": "2021-01-11", "person": "nobody", "action": "pause", "reason": "not here"},
    {  # a person the programme does not hold: no data key is made for their reason
        "date": "2021-01-12",
        "person": "nobody",
        "action": "withdraw",
        "member": "a1",
        "reason": "not here",
    },
]


async def test_every_scripted_action_is_the_real_update(mail, tmp_path, database_url, pool):
    """Each scripted action lands as the event the real one records, in the person's group;
    what the rules refuse is counted by its reason."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["behaviour"].update(
        script=SCRIPT, training_completion=0, meeting_held=0, feedback_on_time=0, feedback_late=0
    )
    path = tmp_path / "scripted.yaml"
    path.write_text(yaml.safe_dump(data))
    report = await simulate(path, None, database_url, lambda *_: None, mail.config)

    assert report.actions == {
        "accepted": 10,
        "refused:not_a_mentor": 1,  # a mentee setting a meeting time
        "refused:duplicate": 1,  # a1's second agreement
        "refused:round_not_open": 1,  # the final round opens in November
        "refused:matching_done": 1,  # withdrawing someone never placed: removal, after matching
        "refused:not_a_member": 1,  # pausing a group one is not in
        "refused:out_of_scale": 1,  # m1's answer 9 on a scale of 1 to 5
        "refused:unknown_person": 1,  # withdrawing a1 as someone the programme does not hold
    }
    [group] = [r for r in report.relationships if "a1" in r.mentees]
    records = await EventStore(pool).read_stream(workflow_id(group.id))
    stored = next(r for r in records if r.type == "agreement_recorded")
    assert sealed(stored.payload["agreement"])  # stored sealed, opened below as a reader does
    sealer = Sealer(pool, Settings().master())
    events = [RELATIONSHIP.decode(r, await sealer.open_tree(r.payload)) for r in records]
    by_type = {e.type: e for e in events if e.actor != "system"}
    agreement = by_type["agreement_recorded"]
    assert (agreement.actor, agreement.agreement, agreement.goals) == (
        "m1",
        "monthly, Tuesdays",
        ("leadership", "payroll"),
    )
    meeting = by_type["meeting_recorded"]
    assert (meeting.actor, meeting.number, meeting.attendees) == ("m1", 1, ("m1", "a1"))
    assert (by_type["paused"].actor, by_type["resumed"].actor) == ("a1", "hr1")
    feedback = by_type["feedback_submitted"]
    # The script's answers, and the simulated person's to the other required questions.
    assert feedback.answers["went_well"] == "the pace"
    assert set(feedback.answers) <= {"went_well", "to_change"}  # to_change is optional
    assert feedback.choices["usefulness"] == "5"
    assert feedback.choices["rhythm"] in ("too_often", "right", "too_rarely")
    assert group.meetings_held == 1
    planned = by_type["meeting_planned"]
    zone = fold(events).zone  # the group's offsets, shifted with the simulated calendar
    assert zone is not None
    local = zone.to_local(planned.starts_at)  # as the group's page and letters show it
    assert (planned.actor, planned.number, planned.place) == ("m1", 2, "Room Kivi")
    assert (local.hour, local.minute) == (17, 30)  # the wall time the mentor chose
    item = by_type["agenda_item_added"]
    assert (item.actor, item.number, item.text) == ("a1", 2, "Budget talk")
    assert (by_type["meeting_cancelled"].actor, by_type["meeting_cancelled"].number) == ("m1", 2)
