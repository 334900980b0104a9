"""Payload sizes in a workflow's Temporal histories: what a cohort's size does to them.

Temporal refuses a payload over 2 MB (and warns from 256 KB); every workflow input, continue-as-new
input, activity input and result, Update argument and result, signal and memo is a payload in the
history. :func:`largest_payloads` walks every event of every run of a workflow and reports the
largest ones, both as Temporal stores them (encoded: encrypted by ``mentorflow.codec``) and as the
worker sees them (decoded). Query answers never enter a history: :func:`payload_size` measures one.
"""

import dataclasses
from collections.abc import Iterable
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from mentorflow.verify import run_histories

KB = 1024


@dataclasses.dataclass(frozen=True)
class Measured:
    """One payload of a history: where it is, its encoded and decoded size in bytes."""

    workflow_id: str
    event: str
    """The history event's type and what it carried, e.g. ``ACTIVITY_TASK_SCHEDULED append_...``."""
    encoded: int
    decoded: int


def _payloads(message: Message) -> Iterable[Payload]:
    """Every Payload inside ``message``, at any depth."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())  # memo and header fields: map<string, Payload>
        else:
            items = [value] if isinstance(value, Message) else list(value)
        for item in items:
            if isinstance(item, Payload):
                yield item
            elif isinstance(item, Message):
                yield from _payloads(item)


def _label(event: Any) -> str:
    kind = event.WhichOneof("attributes") or ""
    name = kind.removesuffix("_event_attributes")
    attributes: Any = getattr(event, kind) if kind else None
    detail = ""
    if name == "activity_task_scheduled":
        detail = attributes.activity_type.name
    elif name == "workflow_execution_update_accepted":
        detail = attributes.accepted_request.input.name
    elif name == "workflow_execution_signaled":
        detail = attributes.signal_name
    return f"{name} {detail}".strip()


async def history_payloads(client: Client, workflow_id: str) -> list[Measured]:
    """Every payload of every run of ``workflow_id`` (continued-as-new runs included)."""
    codec = client.data_converter.payload_codec
    described = await client.get_workflow_handle(workflow_id).describe()
    first_run = described.raw_description.workflow_execution_info.first_run_id
    found: list[Measured] = []
    for history in await run_histories(client, workflow_id, first_run):
        scheduled: dict[int, str] = {}
        for event in history.events:
            label = _label(event)
            if label.startswith("activity_task_scheduled"):
                scheduled[event.event_id] = label.split(" ", 1)[-1]
            if event.HasField("activity_task_completed_event_attributes"):
                started = event.activity_task_completed_event_attributes.scheduled_event_id
                label = f"activity_task_completed {scheduled.get(started, '')}".strip()
            for payload in _payloads(event):
                decoded = (await codec.decode([payload]))[0] if codec else payload
                found.append(Measured(workflow_id, label, payload.ByteSize(), decoded.ByteSize()))
    return found


async def largest_payloads(client: Client, workflow_ids: Iterable[str]) -> list[Measured]:
    """The payloads of the given workflows' histories, largest (encoded) first."""
    found: list[Measured] = []
    for wid in workflow_ids:
        found += await history_payloads(client, wid)
    return sorted(found, key=lambda m: m.encoded, reverse=True)


async def payload_size(client: Client, value: Any) -> tuple[int, int]:
    """(encoded, decoded) size of ``value`` as a payload, e.g. a query's answer."""
    [decoded] = client.data_converter.payload_converter.to_payloads([value])
    codec = client.data_converter.payload_codec
    encoded = (await codec.encode([decoded]))[0] if codec else decoded
    return encoded.ByteSize(), decoded.ByteSize()


def largest_of_each_kind(measured: Iterable[Measured]) -> list[Measured]:
    """The largest payload of each kind (event type and activity, Update or signal name)."""
    largest: dict[str, Measured] = {}
    for m in measured:
        if m.event not in largest or m.encoded > largest[m.event].encoded:
            largest[m.event] = m
    return sorted(largest.values(), key=lambda m: m.encoded, reverse=True)


def table(measured: Iterable[Measured], top: int = 10) -> list[str]:
    """The largest payloads, one line each, for people."""
    lines = []
    for m in list(measured)[:top]:
        lines.append(
            f"{m.encoded / KB:9.1f} KB encoded {m.decoded / KB:9.1f} KB decoded  {m.event}"
        )
    return lines
