"""Crypto-shredding: free text sealed with its author's data key, erasable by deleting the key.

Envelope encryption with AES-256-GCM (``cryptography``): each person has one random data key,
stored in ``data_keys`` wrapped (encrypted) by a master key from the settings. Every free text a
person writes is sealed with their data key before it enters a workflow, so the events, their hash
chains and Temporal's histories hold only ciphertext. Erasing a person deletes their data key
(the row stays as a tombstone with ``erased_at``): the record still verifies and replays, and the
text can no longer be read by anyone; readers show :data:`ERASED` in its place.

Sealed text is ``mf1:<base64url(nonce + ciphertext)>:<author id>`` (``domain.text`` checks the
shape); the author's id is the associated data, so a text relabelled as someone else's does not
open. Master keys rotate like the codec's: one wraps new data keys, every one listed unwraps.

Errors::

    SealingError (ValueError)
    ├── MasterKeyError       the master keys are badly configured, or one a data key needs is gone
    ├── ErasedPersonError    sealing for a person whose data was erased
    ├── UnknownAuthorError   sealing for an id that is no person the system holds
    └── MissingKeyError      a sealed text whose author has no data key (and was never erased)
"""

import base64
import dataclasses
import os
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from domain.text import FREE_TEXT, SEALED_PREFIX, sealed

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "ERASED",
    "UNREADABLE",
    "ErasedPersonError",
    "KeyRing",
    "MasterKeyError",
    "MasterKeys",
    "MissingKeyError",
    "Sealer",
    "SealingError",
    "UnknownAuthorError",
    "author_of",
    "authors_in",
    "erase_data_key",
    "erased_people",
    "mask_tree",
]

ERASED = "[erased]"
"""What every view shows in place of an erased person's texts and name."""

UNREADABLE = "[unreadable]"
"""A text with the sealed shape that does not open with its author's key (altered)."""

NONCE_BYTES = 12


class SealingError(ValueError):
    """Text could not be sealed or opened; the message says why."""


class MasterKeyError(SealingError):
    """The master keys are missing or malformed, or one that wraps a data key is not listed."""


class ErasedPersonError(SealingError):
    """The person's personal data was erased: nothing more is sealed for them."""


class UnknownAuthorError(SealingError):
    """Sealing for an id that is no person the system holds: a data key is made only for a
    participant or coordinator in the directory (``people``, ``programmes``) or a staff member
    (``staff:<id>`` of the ``staff`` table)."""


class MissingKeyError(SealingError):
    """A sealed text's author has no data key, and was never erased (another database?)."""


@dataclasses.dataclass(frozen=True)
class KeyRing:
    """Keys by id, and the id of the current one, which seals: every key listed still opens what
    it sealed, so keys rotate. The master keys here and the codec's keys (``mentorflow.codec``)
    are key rings."""

    keys: Mapping[str, bytes]
    current: str


@dataclasses.dataclass(frozen=True)
class MasterKeys(KeyRing):
    """The master keys by id, and the id of the one that wraps new data keys."""

    @classmethod
    def generate(cls, key_id: str = "m-test") -> "MasterKeys":
        """One fresh random master key (for tests, and processes that keep no data keys)."""
        return cls({key_id: AESGCM.generate_key(bit_length=256)}, key_id)


SEALED = "[sealed]"
"""What a reader without access to the data keys (an auditor's role) sees in place of a text."""


def mask_tree(value: Any) -> Any:
    """``value`` (JSON-like) with every sealed text replaced by :data:`SEALED`."""
    if isinstance(value, str):
        return SEALED if sealed(value) else value
    if isinstance(value, dict):
        return {k: mask_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)([mask_tree(v) for v in value])
    return value


async def erased_people(pool: asyncpg.Pool, person_ids: Iterable[str]) -> set[str]:
    """Those of ``person_ids`` whose personal data was erased (no key needed to know it)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT person_id FROM data_keys"
            " WHERE person_id = ANY($1::text[]) AND erased_at IS NOT NULL",
            sorted(set(person_ids)),
        )
    return {r["person_id"] for r in rows}


async def erase_data_key(conn: Any, person_id: str) -> datetime:
    """Delete ``person_id``'s data key in the caller's transaction (no master key needed); when
    it was erased. The row stays as a tombstone, so nothing more is sealed for the person."""
    erased_at: datetime = await conn.fetchval(
        "INSERT INTO data_keys (person_id, erased_at) VALUES ($1, clock_timestamp())"
        " ON CONFLICT (person_id) DO UPDATE SET master_key_id = NULL, wrapped = NULL,"
        " erased_at = coalesce(data_keys.erased_at, excluded.erased_at)"
        " RETURNING erased_at",
        person_id,
    )
    return erased_at


AUTHORS = (
    "(EXISTS (SELECT 1 FROM people WHERE person_id = $1)"
    " OR EXISTS (SELECT 1 FROM programmes WHERE coordinator_id = $1)"
    " OR EXISTS (SELECT 1 FROM staff WHERE 'staff:' || staff_id::text = $1))"
)
"""Who may author a sealed text, so get a data key (SQL, the id as ``$1``): a participant or
coordinator in the directory, or a staff member as ``staff:<staff id>`` (how the web app names a
member acting in no directory role, ``mentorflow.web.staff.coordinate.acting_as``)."""


def authors_in(value: Any) -> set[str]:
    """The authors of the sealed texts in ``value`` (JSON-like: dicts, lists, strings)."""
    if isinstance(value, str):
        return {author_of(value)} if sealed(value) else set()
    if isinstance(value, dict):
        return set().union(*(authors_in(v) for v in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(authors_in(v) for v in value))
    return set()


def author_of(text: str) -> str:
    """The person id a sealed text was sealed for."""
    return text.split(":", 2)[2]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    """Seals and opens free text with data keys kept in ``data_keys`` (cached per instance)."""

    def __init__(self, pool: asyncpg.Pool, master: MasterKeys, *, seal: bool = True):
        """``seal=False`` leaves commands as they are (``bench.privacy`` measures the cost)."""
        self.pool = pool
        self._seal = seal
        self._master = master
        self._masters = {key_id: AESGCM(key) for key_id, key in master.keys.items()}
        self._keys: dict[str, AESGCM | None] = {}

    async def seal(self, text: str, author: str) -> str:
        """``text`` sealed with ``author``'s data key (made on their first text, for a person the
        system holds only: see :data:`AUTHORS`)."""
        cipher = await self._data_key(author, create=True)
        if cipher is None:
            raise ErasedPersonError(f"the personal data of {author} was erased")
        nonce = os.urandom(NONCE_BYTES)
        data = cipher.encrypt(nonce, text.encode(), author.encode())
        return f"{SEALED_PREFIX}{_b64(nonce + data)}:{author}"

    async def seal_command(self, command: M, author: str) -> M:
        """``command`` with every field marked free text (``domain.text.Text``) sealed.

        The command was built, so its plain texts are checked; the sealed one is built again, so
        the sealed forms are checked too. Fields added later are sealed as long as they are Text.
        """
        if not self._seal:
            return command
        sealed_values = {
            name: await self._seal_value(field.annotation, field.metadata, value, author)
            for name, field in type(command).model_fields.items()
            if (value := getattr(command, name)) is not None
        }
        if all(v == getattr(command, k) for k, v in sealed_values.items()):
            return command  # no free text in it
        return type(command).model_validate({**dict(command), **sealed_values})

    async def _seal_value(self, kind: Any, metadata: list[Any], value: Any, author: str) -> Any:
        if FREE_TEXT in metadata and isinstance(value, str):
            return await self.seal(value, author)
        if typing.get_origin(kind) is Annotated:
            base, *more = typing.get_args(kind)
            return await self._seal_value(base, more, value, author)
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if origin in (typing.Union, types.UnionType):
            if value is None:
                return None
            options = [a for a in args if a is not type(None)]
            return (
                await self._seal_value(options[0], [], value, author)
                if len(options) == 1
                else value
            )
        if origin is tuple and isinstance(value, tuple):
            variadic = len(args) == 2 and args[1] is Ellipsis
            each = [args[0]] * len(value) if variadic else list(args)
            pairs = zip(each, value, strict=True)
            return tuple([await self._seal_value(k, [], v, author) for k, v in pairs])
        if origin is list and isinstance(value, list):
            return [await self._seal_value(args[0], [], v, author) for v in value]
        if origin is dict and isinstance(value, dict):
            return {k: await self._seal_value(args[1], [], v, author) for k, v in value.items()}
        if isinstance(value, BaseModel):
            return await self.seal_command(value, author)
        return value

    async def open(self, text: str) -> str:
        """The plain text of a sealed ``text``; :data:`ERASED` once its author's key is gone.

        Text that is not sealed is returned as it is (recorded before sealing, or system text).
        """
        if not sealed(text):
            return text
        author = author_of(text)
        cipher = await self._data_key(author, create=False)
        if cipher is None:
            return ERASED
        blob = _unb64(text[len(SEALED_PREFIX) :].split(":", 1)[0])
        try:
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], author.encode()).decode()
        except InvalidTag:
            return UNREADABLE

    async def open_tree(self, value: Any) -> Any:
        """``value`` (JSON-like: dicts, lists, strings) with every sealed text opened."""
        if isinstance(value, str):
            return await self.open(value)
        if isinstance(value, dict):
            return {k: await self.open_tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)([await self.open_tree(v) for v in value])
        return value

    async def erased(self, person_ids: Iterable[str]) -> set[str]:
        """Those of ``person_ids`` whose personal data was erased."""
        return await erased_people(self.pool, person_ids)

    def forget(self, person_ids: Iterable[str]) -> None:
        """Drop the kept keys of ``person_ids``, erased since (by another process): their texts
        read ``[erased]`` from now on in this one too."""
        for person_id in person_ids:
            self._keys[person_id] = None

    async def forget_erased(self, authors: Iterable[str]) -> None:
        """Drop the kept keys of those of ``authors`` erased since (by another process): one
        query, over the ones of them whose key this sealer keeps (a view passes the authors of
        the texts it opens, :func:`authors_in`), so a view that follows opens their texts as
        ``[erased]``. No query when it keeps none of theirs."""
        kept = [a for a in sorted(set(authors)) if self._keys.get(a) is not None]
        if kept:
            self.forget(await self.erased(kept))

    async def erase(self, conn: Any, person_id: str) -> datetime:
        """Delete ``person_id``'s data key (in the caller's transaction); when it was erased."""
        self._keys[person_id] = None
        return await erase_data_key(conn, person_id)

    async def _data_key(self, person_id: str, *, create: bool) -> AESGCM | None:
        if person_id in self._keys:
            return self._keys[person_id]
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT master_key_id, wrapped FROM data_keys WHERE person_id = $1", person_id
            )
            if row is None and create:
                row = await self._new_key(conn, person_id)
        if row is None:
            raise MissingKeyError(
                f"no data key for {person_id}: texts sealed in another database, or its"
                " data_keys table was not restored"
            )
        cipher = None if row["wrapped"] is None else AESGCM(self._unwrap(person_id, row))
        self._keys[person_id] = cipher
        return cipher

    async def _new_key(self, conn: Any, person_id: str) -> asyncpg.Record:
        key_id = self._master.current
        nonce = os.urandom(NONCE_BYTES)
        key = AESGCM.generate_key(bit_length=256)
        wrapped = nonce + self._masters[key_id].encrypt(nonce, key, person_id.encode())
        # Only for a person the system holds, decided in the same statement. Two entry points
        # sealing a person's first text at once: the first key stored wins.
        await conn.execute(
            "INSERT INTO data_keys (person_id, master_key_id, wrapped)"
            f" SELECT $1, $2, $3 WHERE {AUTHORS} ON CONFLICT (person_id) DO NOTHING",
            person_id,
            key_id,
            wrapped,
        )
        row: asyncpg.Record | None = await conn.fetchrow(
            "SELECT master_key_id, wrapped FROM data_keys WHERE person_id = $1", person_id
        )
        if row is None:
            raise UnknownAuthorError(
                f"no data key made for {person_id!r}: not a participant or coordinator in the"
                " directory, nor a staff member"
            )
        return row

    def _unwrap(self, person_id: str, row: asyncpg.Record) -> bytes:
        key_id, wrapped = row["master_key_id"], bytes(row["wrapped"])
        master = self._masters.get(key_id)
        if master is None:
            raise MasterKeyError(
                f"the data key of {person_id} is wrapped by master key {key_id!r}, which is not"
                f" among the known keys ({', '.join(sorted(self._masters))}):"
                " add it to MENTORFLOW_MASTER_KEYS"
            )
        try:
            return master.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], person_id.encode())
        except InvalidTag:
            raise MasterKeyError(
                f"the data key of {person_id} does not unwrap with master key {key_id!r}:"
                " altered, or another key under the same id"
            ) from None
