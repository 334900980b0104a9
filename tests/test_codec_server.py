"""The codec server (Temporal's codec-server protocol): decoded payloads for staff only."""

import base64
import json

import httpx
from fastapi import FastAPI, Request
from temporalio.api.common.v1 import Payload

from mentorflow.codec import CodecKeys, EncryptionCodec
from mentorflow.web.codec import codec_router

STAFF_TOKEN = "staff-token"


async def is_staff(request: Request) -> bool:
    return request.headers.get("authorization") == f"Bearer {STAFF_TOKEN}"


def client(codec: EncryptionCodec) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(codec_router(codec, is_staff))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")


def as_json(*payloads: Payload) -> dict:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}", "X-Namespace": "default"}
CLEAR = Payload(metadata={"encoding": b"json/plain"}, data=b'{"reason":"long sick leave"}')


async def test_staff_get_the_payloads_decoded_and_encoded():
    codec = EncryptionCodec(CodecKeys.generate("k1"))
    [sealed] = await codec.encode([CLEAR])
    async with client(codec) as web:
        decoded = await web.post("/codec/decode", json=as_json(sealed), headers=STAFF)
        encoded = await web.post("/codec/encode", json=as_json(CLEAR), headers=STAFF)
    assert decoded.status_code == 200 and decoded.headers["cache-control"] == "no-store"
    assert decoded.json() == as_json(CLEAR)
    [payload] = encoded.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"sick leave" not in json.dumps(encoded.json()).encode()


async def test_anyone_else_gets_401_and_nothing_decoded():
    codec = EncryptionCodec(CodecKeys.generate("k1"))
    [sealed] = await codec.encode([CLEAR])
    async with client(codec) as web:
        for headers in ({}, {"Authorization": "Bearer guessed"}):
            answer = await web.post("/codec/decode", json=as_json(sealed), headers=headers)
            assert answer.status_code == 401 and "sick leave" not in answer.text
            assert answer.headers["www-authenticate"] == "Bearer"


async def test_an_unknown_key_or_a_malformed_body_is_a_400_saying_why():
    [sealed] = await EncryptionCodec(CodecKeys.generate("retired")).encode([CLEAR])
    async with client(EncryptionCodec(CodecKeys.generate("k1"))) as web:
        unknown = await web.post("/codec/decode", json=as_json(sealed), headers=STAFF)
        malformed = await web.post("/codec/decode", content=b"[1, 2]", headers=STAFF)
    assert unknown.status_code == 400 and "'retired'" in unknown.json()["detail"]
    assert malformed.status_code == 400 and "not a list of payloads" in malformed.json()["detail"]
