"""Signed checkpoints of the log head (Ed25519, ``cryptography``), kept outside the database.

A checkpoint says "at position P the global hash was H", signed. Later, ``audit verify
--checkpoint FILE`` checks the signature, that the event at P still has hash H, and (with the
chain check) that everything after P extends it: a log cut back and re-headed to look whole is
caught, because position P is gone or has another hash.
"""

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict

if TYPE_CHECKING:
    from store.pool import AnyConnection


class Checkpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    position: int
    head_hash: str
    taken_at: AwareDatetime
    public_key: str
    """Raw Ed25519 public key, hex: compare it with the one you trust."""
    signature: str

    def message(self) -> bytes:
        return _message(self.position, self.head_hash, self.taken_at)


def _message(position: int, head_hash: str, taken_at: datetime) -> bytes:
    return f"mentorflow-checkpoint|{position}|{head_hash}|{taken_at.isoformat()}".encode()


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at ``path`` (PEM), created (readable by its owner only) on first use."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def sign(key: Ed25519PrivateKey, position: int, head_hash: str, now: datetime) -> Checkpoint:
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return Checkpoint(
        position=position,
        head_hash=head_hash,
        taken_at=now,
        public_key=public.hex(),
        signature=key.sign(_message(position, head_hash, now)).hex(),
    )


async def check(conn: "AnyConnection", checkpoint: Checkpoint) -> str | None:
    """None when the log still extends ``checkpoint``; else what is wrong."""
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key))
    try:
        public.verify(bytes.fromhex(checkpoint.signature), checkpoint.message())
    except InvalidSignature:
        return "the checkpoint's signature is not valid (the file was altered)"
    if checkpoint.position == 0:
        return None
    stored = await conn.fetchval(
        "SELECT global_hash FROM events WHERE global_position = $1", checkpoint.position
    )
    if stored is None:
        return (
            f"the log no longer reaches position {checkpoint.position} of the checkpoint"
            " (its tail was removed)"
        )
    if stored.hex() != checkpoint.head_hash:
        return f"position {checkpoint.position} no longer has the checkpoint's hash"
    return None
