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
from addon.platform.jws import VerifiedTokens

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


def _ours(token: str, verified=None, *, secret: str = SECRET, path: str = "/connect/macro/x", **options):
    """Our verdict: the verified request, or the refusal."""
    settings = {"allow_context_qsh": True, "leeway": 5, **options}
    try:
        return verify_request_token(
            token,
            method="GET",
            path=path,
            query_string="",
            base_path="",
            shared_secret_for=lambda key: secret if key == KEY else None,
            app_key="app",
            verified=verified,
            **settings,
        )
    except AuthError as refusal:
        return refusal


def _ours_accepts(token: str) -> bool:
    return not isinstance(_ours(token), AuthError)


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


# --- a token sent again (a page's panels, a reload): remembered by its exact text, all but the signature checked


def test_a_token_sent_again_gets_the_same_verdict_as_pyjwt():
    verified = VerifiedTokens()
    cases = _cases()
    for token in cases.values():
        _ours(token, verified)
    for name, token in cases.items():
        again = _ours(token, verified)
        assert (not isinstance(again, AuthError)) == _pyjwt_accepts(token), name


def test_a_remembered_token_is_not_parsed_again(monkeypatch):
    from addon.platform import jws

    verified = VerifiedTokens()
    token = _cases()["valid"]
    assert _ours(token, verified).account_id == "557058:u"
    monkeypatch.setattr(jws, "segments", lambda *a, **k: pytest.fail("parsed again"))
    assert _ours(token, verified).account_id == "557058:u"


def test_a_remembered_token_is_refused_once_it_expires():
    verified = VerifiedTokens()
    token = _token(_claims(exp=int(time.time()) + 1))
    assert not isinstance(_ours(token, verified, leeway=0), AuthError)
    time.sleep(2.05)
    assert _ours(token, verified, leeway=0).reason == "expired"


def test_a_remembered_token_is_refused_after_a_reinstall_with_a_new_secret():
    verified = VerifiedTokens()
    token = _cases()["valid"]
    assert not isinstance(_ours(token, verified), AuthError)
    assert _ours(token, verified, secret="n" * 48).reason == "bad_signature"


def test_a_remembered_token_is_refused_once_the_site_uninstalls():
    verified = VerifiedTokens()
    token = _cases()["valid"]
    assert not isinstance(_ours(token, verified), AuthError)
    assert _ours(token, verified, secret="").reason == "unknown_installation"


def test_a_remembered_context_token_is_still_refused_where_context_tokens_are_not_allowed():
    verified = VerifiedTokens()
    token = _cases()["valid"]
    assert not isinstance(_ours(token, verified), AuthError)
    assert _ours(token, verified, allow_context_qsh=False).reason == "context_qsh_not_allowed"


def test_a_remembered_request_token_is_still_bound_to_its_request():
    from addon.platform.qsh import query_string_hash

    verified = VerifiedTokens()
    token = _token(_claims(qsh=query_string_hash("GET", "/connect/macro/x", "")))
    assert not isinstance(_ours(token, verified, allow_context_qsh=False), AuthError)
    refused = _ours(token, verified, allow_context_qsh=False, path="/connect/admin/uninstall")
    assert refused.reason == "qsh_mismatch"


def test_one_byte_changed_is_another_token_verified_in_full():
    verified = VerifiedTokens()
    token = _cases()["valid"]
    assert not isinstance(_ours(token, verified), AuthError)
    changed = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert _ours(changed, verified).reason in ("bad_signature", "malformed_token")
