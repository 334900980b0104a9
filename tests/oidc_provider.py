"""An OpenID Connect provider in process, for the staff's OIDC sign-in tests (no network).

Discovery, an authorization endpoint that signs in ``user_email`` at once, a token endpoint that
checks the client's credentials and the code, and the JWKS of an RSA key signing the ID tokens
(RS256, joserfc, which authlib uses). ``forge`` signs with another key.
"""

import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "http://idp.test"
CLIENT_ID, CLIENT_SECRET = "mentorflow-web", "a-client-secret-for-tests"


@dataclass
class Provider:
    user_email: str = ""
    email_verified: bool = True
    forge: bool = False
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> JSONResponse:
            return JSONResponse(
                {
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        @app.get("/jwks")
        async def jwks() -> JSONResponse:
            return JSONResponse(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                raise HTTPException(400, "bad authorization request")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": q.get("nonce") or "", "redirect_uri": q["redirect_uri"]}
            query = urlencode({"code": code, "state": q.get("state") or ""})
            return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

        @app.post("/token")
        async def token(
            request: Request,
            code: str = Form(),
            redirect_uri: str = Form(),
        ) -> JSONResponse:
            _check_client(request)
            issued = self.codes.pop(code, None)
            if issued is None or issued["redirect_uri"] != redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": self._id_token(issued["nonce"]),
                }
            )

        return app

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "user-1",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": self.user_email,
            "email_verified": self.email_verified,
        }
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if self.forge else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def _check_client(request: Request) -> None:
    import base64

    header = request.headers.get("authorization", "")
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    if header != f"Basic {expected}":
        raise HTTPException(401, "bad client credentials")
