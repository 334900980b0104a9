"""Temporal payload encryption: AES-256-GCM, several keys for rotation.

Temporal stores every workflow input, result, Update, query answer and activity argument in its
histories, readable by anyone with the Temporal UI or its database. Every client, worker and
replayer here uses :func:`data_converter`, so Temporal only ever holds ciphertext: each payload is
serialized whole (its own encoding metadata included) and sealed with the current key; the
payload Temporal sees says only ``encoding: binary/encrypted`` and the ``encryption-key-id``.

Rotation: one key (the current one) encrypts; every key known decrypts, so a key stays listed as
long as a history (running, or archived in ``workflow_histories``) may hold payloads sealed with
it. A payload without the encrypted encoding passes through untouched: the histories recorded
before the codec (tests/histories) still replay.

Errors::

    CodecError (ValueError)
    ├── CodecKeyError        the keys are badly configured (settings, key file)
    └── UnknownKeyError      a payload sealed with a key that is not (or no longer) configured
"""

import base64
import binascii
import dataclasses
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from mentorflow.errors import MentorflowError
from store.sealing import KeyRing

__all__ = [
    "ENCODING",
    "KEY_ID",
    "CodecError",
    "CodecKeyError",
    "CodecKeys",
    "EncryptionCodec",
    "UnknownKeyError",
    "data_converter",
    "key_file_keys",
    "parse_keys",
]

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_FILE = "codec-keys"
"""Under the data directory: the keys of the embedded stack when none are configured."""


class CodecError(MentorflowError, ValueError):
    """A payload could not be encrypted or decrypted; the message says why."""


class CodecKeyError(CodecError):
    """The codec keys are missing or malformed."""


class UnknownKeyError(CodecError):
    """A payload was sealed with a key id that is not among the known keys."""


@dataclasses.dataclass(frozen=True)
class CodecKeys(KeyRing):
    """The keys the codec knows, by id, and the id of the one that encrypts."""

    what: str = dataclasses.field(default="codec key", compare=False)
    """What the keys are called in error messages (:func:`parse_keys` reads the master keys of
    sealing too)."""

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise CodecKeyError(
                f"the current {self.what} {self.current!r} is not among the keys"
                f" ({', '.join(sorted(self.keys)) or 'none'})"
            )
        for key_id, key in self.keys.items():
            if len(key) != 32:
                raise CodecKeyError(
                    f"{self.what} {key_id!r} has {len(key)} bytes; AES-256 needs 32"
                    " (make one with: python -c 'import os,base64;"
                    " print(base64.b64encode(os.urandom(32)).decode())')"
                )

    @classmethod
    def generate(cls, key_id: str | None = None) -> "CodecKeys":
        """One fresh random key (for a new key file, and for tests)."""
        key_id = key_id or f"k-{secrets.token_hex(4)}"
        return cls({key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    def render(self) -> str:
        """The ``id:base64key,...`` form parsed by :func:`parse_keys`."""
        return ",".join(f"{i}:{base64.b64encode(k).decode()}" for i, k in self.keys.items())


def parse_keys(
    text: str,
    current: str | None = None,
    *,
    what: str = "codec key",
    setting: str = "MENTORFLOW_CODEC_KEY_ID",
) -> CodecKeys:
    """Keys written ``id:base64key`` separated by commas or new lines.

    ``current`` names the key that encrypts; it may be omitted when there is only one key.
    ``what`` and ``setting`` name the keys and the setting of the current one in errors.
    """
    keys: dict[str, bytes] = {}
    for entry in text.replace("\n", ",").split(","):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise CodecKeyError(f"{what}s are written id:base64key, separated by commas")
        if key_id in keys:
            raise CodecKeyError(f"{what} id {key_id!r} is listed twice")
        try:
            keys[key_id] = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise CodecKeyError(f"{what} {key_id!r} is not valid base64") from None
    if not keys:
        raise CodecKeyError(f"no {what} given")
    if current is None:
        if len(keys) > 1:
            raise CodecKeyError(f"several {what}s: {setting} must name the one that encrypts")
        [current] = keys
    return CodecKeys(keys, current, what)


def key_file_keys(
    path: Path,
    current: str | None = None,
    *,
    what: str = "codec key",
    setting: str = "MENTORFLOW_CODEC_KEY_ID",
) -> CodecKeys:
    """The keys in ``path``, which is created (mode 0600, one fresh key) on first use.

    A key file readable or writable by others is refused: the keys open every history.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(CodecKeys.generate().render() + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CodecKeyError(
            f"{what} file {path} is open to others (mode {mode:o}): chmod 600 {path}"
        )
    try:
        return parse_keys(path.read_text(), current, what=what, setting=setting)
    except CodecKeyError as e:
        raise CodecKeyError(f"{path}: {e}") from None


class EncryptionCodec(PayloadCodec):
    """Seals each payload with the current key; opens payloads sealed with any known key."""

    def __init__(self, keys: CodecKeys) -> None:
        super().__init__()
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    @property
    def key_id(self) -> str:
        """The id of the key new payloads are sealed with."""
        return self._keys.current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        key_id = self._keys.current
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated too: a payload relabelled with another id does not open.
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # not ours: written before the codec, or by a client without it
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"payload encrypted with codec key {key_id!r}, which is not among the known keys"
                f" ({', '.join(sorted(self._ciphers))}): add it to MENTORFLOW_CODEC_KEYS"
            )
        data = payload.data
        try:
            clear = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise CodecError(
                f"payload under codec key {key_id!r} does not decrypt: altered, or another key"
                " under the same id"
            ) from None
        return Payload.FromString(clear)


def data_converter(keys: CodecKeys) -> DataConverter:
    """The converter of every client, worker and replayer: pydantic models, encrypted."""
    from temporalio.contrib.pydantic import pydantic_data_converter

    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keys))
