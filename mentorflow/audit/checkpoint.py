"""Signed checkpoints of the log head (Ed25519, ``cryptography``), kept outside the database.

A checkpoint says "at position P the global hash was H", signed. Later, ``audit verify
--checkpoint FILE`` checks the signature, that the event at P still has hash H, and (with the
chain check) that everything after P extends it: a log cut back and re-headed to look whole is
caught, because position P is gone or has another hash.

A checkpoint cannot vouch for itself: it carries the public key it was signed with, and whoever
rewrote the log could sign a new checkpoint with a key of their own. So the check needs a key
the auditor trusts, given apart from the file (``--public-key``, or the fingerprint configured
in MENTORFLOW_AUDIT_KEY_FINGERPRINT), and the signing key must be readable by its owner only.
"""

import hashlib
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict

from store.integrity import global_hash_at

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


class UntrustedKey(ValueError):
    """A signing key others can read, or a public key that is not one."""


def fingerprint(public_key_hex: str) -> str:
    """``SHA256:`` and the hex SHA-256 of the raw public key: what an auditor writes down."""
    return "SHA256:" + hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()


def trusted_public_key(value: str) -> str:
    """The raw public key (hex) from ``value``: hex, or a file holding hex or a PEM public key."""
    text = value.strip()
    path = Path(text)
    if path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if text.startswith("-----BEGIN PUBLIC KEY-----"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise UntrustedKey(f"{path} is not an Ed25519 public key")
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return raw.hex()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError as e:
        raise UntrustedKey(
            "--public-key: not an Ed25519 public key (64 hex digits, or a file with one)"
        ) from e
    return text.lower()


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at ``path`` (PEM), created (readable by its owner only) on first use.

    A key file that others can read is refused: whoever can read it can sign checkpoints.
    """
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise UntrustedKey(
                f"{path} is readable by others (mode {mode:04o}): `chmod 600` it, and consider"
                " it compromised if others did read it"
            )
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


async def check(
    conn: "AnyConnection",
    checkpoint: Checkpoint,
    trusted_key: str | None = None,
    trusted_fingerprint: str | None = None,
) -> str | None:
    """None when the log still extends ``checkpoint``, signed by the trusted key; else what is
    wrong. One of ``trusted_key`` (hex) and ``trusted_fingerprint`` must be given."""
    if trusted_key is None and trusted_fingerprint is None:
        raise UntrustedKey("a checkpoint is only as good as the key it is checked with")
    signer = fingerprint(checkpoint.public_key)
    trusted = fingerprint(trusted_key) if trusted_key else trusted_fingerprint
    if signer.lower() != (trusted or "").lower():
        return f"the checkpoint was signed by key {signer}, not by the trusted key {trusted}"
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key))
    try:
        public.verify(bytes.fromhex(checkpoint.signature), checkpoint.message())
    except InvalidSignature:
        return "the checkpoint's signature is not valid (the file was altered)"
    if checkpoint.position == 0:
        return None
    stored = await global_hash_at(conn, checkpoint.position)
    if stored is None:
        return (
            f"the log no longer reaches position {checkpoint.position} of the checkpoint"
            " (its tail was removed)"
        )
    if stored.hex() != checkpoint.head_hash:
        return f"position {checkpoint.position} no longer has the checkpoint's hash"
    return None
