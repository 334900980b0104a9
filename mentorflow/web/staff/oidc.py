"""Staff sign-in with the organisation's OpenID Connect provider (authlib), beside the e-mailed
links: set ``MENTORFLOW_OIDC_ISSUER``, ``_CLIENT_ID`` and ``_CLIENT_SECRET`` and register
``PUBLIC_URL/staff/oidc/callback`` as the client's redirect URI at the provider.

The authorization code flow with state and nonce; the ID token's signature (the provider's
JWKS), issuer, audience, expiry and nonce are checked by authlib. The staff member is the one
whose address is the token's verified ``email``: the register decides the role, not the provider.
"""

from dataclasses import dataclass

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError

from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused
from mentorflow.web.pages import web_of
from store.staff import StaffRegister

__all__ = ["OidcConfig", "router"]

CALLBACK = "/staff/oidc/callback"


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    transport: httpx.AsyncBaseTransport | None = None
    """How to reach the provider (tests: the in-process provider); None: the network."""


router = APIRouter(prefix="/staff/oidc", include_in_schema=False)


def _client(request: Request) -> tuple[OAuth, str]:
    config: OidcConfig | None = web_of(request).oidc
    if config is None:
        raise Refused(404, N_("Sign-in with your organisation's account is not set up here."))
    state = request.app.state
    if getattr(state, "oidc", None) is None:
        kwargs: dict[str, object] = {"scope": "openid email"}
        if config.transport is not None:
            kwargs["transport"] = config.transport
        oauth = OAuth()
        oauth.register(
            "staff",
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=f"{config.issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs=kwargs,
        )
        state.oidc = oauth
    return state.oidc, f"{web_of(request).links.public_url}{CALLBACK}"


@router.get("/login")
async def oidc_login(request: Request) -> Response:
    oauth, callback = _client(request)
    try:
        answer: Response = await oauth.staff.authorize_redirect(request, callback)
    except (OAuthError, httpx.HTTPError) as e:
        raise Refused(503, N_("The identity provider cannot be reached. Try again later.")) from e
    return answer


@router.get("/callback")
async def oidc_callback(request: Request) -> Response:
    oauth, _ = _client(request)
    try:
        token = await oauth.staff.authorize_access_token(request)
    except (OAuthError, JoseError, httpx.HTTPError, ValueError) as e:
        # a forged or expired ID token, another session's state, a refused code
        raise Refused(403, N_("The identity provider did not confirm who you are.")) from e
    claims = token.get("userinfo") or {}
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is False:
        raise Refused(403, N_("The identity provider did not confirm who you are."))
    member = await StaffRegister(web_of(request).pool).by_email(email)
    if member is None:
        raise Refused(403, N_("This account is not on the staff."))
    locale = request.session.get("locale")
    request.session.clear()
    request.session["staff"] = member.staff_id
    if locale:
        request.session["locale"] = locale
    return RedirectResponse("/staff", status_code=303)
