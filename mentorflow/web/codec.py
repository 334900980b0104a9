"""The codec server: Temporal's Web UI shows decoded payloads to signed-in staff only.

Temporal's codec-server protocol: ``POST /codec/decode`` and ``POST /codec/encode`` take
``{"payloads": [...]}`` (payloads in protobuf JSON: base64 metadata values and data) and answer
the same shape. ``is_staff`` judges the web app's own staff session (its cookie): point the UI's
"codec server" setting (``TEMPORAL_CODEC_ENDPOINT``) at the app's ``/codec``, the UI served
from the app's own origin (under ``/temporal`` by the reverse proxy), so that the browser sends
the staff member's session cookie (README, "The Temporal Web UI behind SSO"). Anyone else gets
401 and nothing decoded. Bearer tokens are not taken here: the UI's "pass the user access token"
sends the SSO proxy's token, which the app does not know, and an API key is scoped to one
programme while a payload does not say whose it is.

Mount with ``app.include_router(codec_router(codec, is_staff))``; ``codec`` is the client's
(``embedded.converter(settings).payload_codec``).
"""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, HTTPException, Request, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from mentorflow.codec import CodecError

__all__ = ["codec_router"]

IsStaff = Callable[[Request], Awaitable[bool]]
"""Whether the request comes from signed-in staff (the web app's own check)."""


def codec_router(codec: PayloadCodec, is_staff: IsStaff) -> APIRouter:
    """``/codec/encode`` and ``/codec/decode`` with ``codec``, for staff only."""
    router = APIRouter(prefix="/codec", tags=["codec"])

    async def convert(request: Request, decode: bool) -> Response:
        if not await is_staff(request):
            raise HTTPException(
                status_code=401,
                detail="staff only: sign in (the Temporal UI must pass the user's access token)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
        except json_format.ParseError as e:
            raise HTTPException(status_code=400, detail=f"not a list of payloads: {e}") from None
        try:
            if decode:
                converted = await codec.decode(payloads.payloads)
            else:
                converted = await codec.encode(payloads.payloads)
        except CodecError as e:
            raise HTTPException(status_code=400, detail=str(e)) from None
        body = json_format.MessageToJson(Payloads(payloads=converted))
        # Decoded payloads are personal data: no cache keeps them.
        return Response(
            content=body, media_type="application/json", headers={"Cache-Control": "no-store"}
        )

    @router.post("/decode", summary="Decode payloads for the Temporal UI (staff only)")
    async def decode(request: Request) -> Response:
        return await convert(request, decode=True)

    @router.post("/encode", summary="Encode payloads for the Temporal UI (staff only)")
    async def encode(request: Request) -> Response:
        return await convert(request, decode=False)

    return router
