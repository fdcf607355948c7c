"""The page-view HS256 check (connect_tokens.verify_request_token parses the token itself for speed)
accepts and refuses exactly what PyJWT's `jwt.decode` does with the same options."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from addon.platform.connect_tokens import verify_request_token
from addon.platform.errors import AuthError

SECRET = "s" * 48
KEY = "client-key-A"


def _token(claims: dict, header: dict | None = None, secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers=header)


def _claims(**changes) -> dict:
    now = int(time.time())
    claims = {"iss": KEY, "iat": now, "exp": now + 60, "qsh": "context-qsh", "sub": "557058:u"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _raw(header: dict, claims: dict, secret: str = SECRET) -> str:
    import hashlib
    import hmac

    def part(data) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def _cases() -> dict:
    """Made when a test runs (not at collection), so the times are relative to now."""
    now = int(time.time())
    return {
        "valid": _token(_claims()),
        "expired": _token(_claims(exp=now - 60)),
        "expired within leeway": _token(_claims(exp=now - 2)),
        "iat in the future": _token(_claims(iat=now + 600)),
        "nbf in the future": _token(_claims(nbf=now + 600)),
        "exp as numeric string": _token(_claims(exp=str(now + 60))),
        "exp not a number": _token(_claims(exp="soon")),
        "iat not a number": _token(_claims(iat="then")),
        "no exp": _token(_claims(exp=None)),
        "no iat": _token(_claims(iat=None)),
        "no qsh": _token(_claims(qsh=None)),
        "sub not a string": _token(_claims(sub=42)),
        "jti not a string": _token(_claims(jti=7)),
        "wrong secret": _token(_claims(), secret="x" * 48),
        "tampered claims": _token(_claims()).split(".")[0]
        + "."
        + _token(_claims(sub="557058:admin")).split(".")[1]
        + "."
        + _token(_claims()).split(".")[2],
        "alg none": jwt.encode(_claims(), None, algorithm="none"),
        "crit header": _raw({"alg": "HS256", "typ": "JWT", "crit": ["exp"]}, _claims()),
        "two segments": ".".join(_token(_claims()).split(".")[:2]),
        "garbage": "not-a-token",
        "claims not an object": _raw({"alg": "HS256"}, ["iss"]),
    }


def _pyjwt_accepts(token: str) -> bool:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256":
            return False
        jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            issuer=KEY,
            leeway=5,
            options={"require": ["exp", "iat", "iss", "qsh"], "verify_aud": False},
        )
        return True
    except (jwt.PyJWTError, ValueError, TypeError):
        return False


def _ours_accepts(token: str) -> bool:
    try:
        verify_request_token(
            token,
            method="GET",
            path="/connect/macro/x",
            query_string="",
            base_path="",
            shared_secret_for=lambda key: SECRET if key == KEY else None,
            app_key="app",
            allow_context_qsh=True,
            leeway=5,
        )
        return True
    except AuthError:
        return False


@pytest.mark.parametrize("name", sorted(_cases()))
def test_same_verdict_as_pyjwt(name):
    token = _cases()[name]
    assert _ours_accepts(token) == _pyjwt_accepts(token)


def test_the_cases_include_both_verdicts():
    verdicts = {name: _ours_accepts(token) for name, token in _cases().items()}
    assert verdicts["valid"] and verdicts["expired within leeway"] and verdicts["exp as numeric string"]
    assert not any(
        v for name, v in verdicts.items() if name not in ("valid", "expired within leeway", "exp as numeric string")
    )
