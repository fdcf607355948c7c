"""The Forge Invocation Token check (forge_tokens.verify_invocation_token parses the token itself for speed)
accepts and refuses exactly what PyJWT's `jwt.decode` does with the options it replaces."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from addon.platform.errors import AuthError
from addon.platform.forge_tokens import FORGE_ISSUER, verify_invocation_token
from addon.platform.jws import VerifiedTokens

APP_ID = "ari:cloud:ecosystem::app/parity"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "forge-parity-1"


class OneKey:
    """The JWKS cache's interface, holding one published key."""

    def key_for(self, kid):
        if kid != KID:
            raise AuthError("unknown_kid", "The token was signed with a key Forge does not publish.")
        return KEY.public_key()


def _claims(**changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": FORGE_ISSUER,
        "aud": APP_ID,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": "j-1",
        "principal": "557058:u",
        "app": {"installationId": "ari:cloud:ecosystem::installation/p", "apiBaseUrl": "https://api.test/ex/1"},
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict, key=KEY, headers=None) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID, **(headers or {})})


def _raw(header: dict, claims, key=KEY) -> str:
    def part(data) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def _hs256(claims: dict, secret: bytes) -> str:
    """The algorithm-confusion attack: HS256 with the published RSA key as the HMAC secret."""
    signing_input = _raw({"alg": "HS256", "kid": KID}, claims).rsplit(".", 1)[0]
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def _cases() -> dict:
    """Made when a test runs (not at collection), so the times are relative to now."""
    now = int(time.time())
    valid = _token(_claims())
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "valid": valid,
        "expired": _token(_claims(exp=now - 60)),
        "expired within leeway": _token(_claims(exp=now - 2)),
        "iat in the future": _token(_claims(iat=now + 600)),
        "nbf in the future": _token(_claims(nbf=now + 600)),
        "nbf within leeway": _token(_claims(nbf=now + 3)),
        "exp as numeric string": _token(_claims(exp=str(now + 60))),
        "exp not a number": _token(_claims(exp="soon")),
        "nbf not a number": _token(_claims(nbf="now")),
        "iat not a number": _token(_claims(iat=[1])),
        "no exp": _token(_claims(exp=None)),
        "no nbf": _token(_claims(nbf=None)),
        "no iat": _token(_claims(iat=None)),
        "no iss": _token(_claims(iss=None)),
        "no aud": _token(_claims(aud=None)),
        "aud empty": _token(_claims(aud="")),
        "aud list with ours": _token(_claims(aud=["other", APP_ID])),
        "aud list without ours": _token(_claims(aud=["other"])),
        "aud list with a number": _token(_claims(aud=[APP_ID, 5])),
        "aud an object": _token(_claims(aud={"id": APP_ID})),
        "another app": _token(_claims(aud="ari:cloud:ecosystem::app/other")),
        "another issuer": _token(_claims(iss="someone/else")),
        "iss not a string": _raw({"alg": "RS256", "kid": KID}, _claims(iss=5)),
        "sub not a string": _token(_claims(sub=42)),
        "jti not a string": _token(_claims(jti=7)),
        "signed by another key": _token(_claims(), key=STRANGER),
        "tampered claims": valid.split(".")[0]
        + "."
        + _token(_claims(principal="557058:admin")).split(".")[1]
        + "."
        + valid.split(".")[2],
        "alg none": jwt.encode(_claims(), None, algorithm="none", headers={"kid": KID}),
        "HS256 keyed with the public key": _hs256(_claims(), public_pem),
        "crit header": _raw({"alg": "RS256", "kid": KID, "crit": ["exp"]}, _claims()),
        "two segments": ".".join(valid.split(".")[:2]),
        "garbage": "not-a-token",
        "claims not an object": _raw({"alg": "RS256", "kid": KID}, ["iss"]),
    }


def _pyjwt_accepts(token: str) -> bool:
    try:
        if jwt.get_unverified_header(token).get("alg") != "RS256":
            return False
        jwt.decode(
            token,
            KEY.public_key(),
            algorithms=["RS256"],
            audience=APP_ID,
            issuer=FORGE_ISSUER,
            leeway=5,
            options={"require": ["exp", "nbf", "iat", "iss", "aud"], "verify_iat": True},
        )
        return True
    except (jwt.PyJWTError, ValueError, TypeError):
        return False


def _ours(token: str):
    try:
        return verify_invocation_token(token, app_id=APP_ID, jwks=OneKey(), leeway=5)
    except AuthError as refusal:
        return refusal


@pytest.mark.parametrize("name", sorted(_cases()))
def test_same_verdict_as_pyjwt(name):
    token = _cases()[name]
    assert (not isinstance(_ours(token), AuthError)) == _pyjwt_accepts(token)


def test_the_cases_include_both_verdicts():
    accepted = {name for name, token in _cases().items() if not isinstance(_ours(token), AuthError)}
    assert accepted == {
        "valid",
        "expired within leeway",
        "nbf within leeway",
        "exp as numeric string",
        "aud list with ours",
    }


@pytest.mark.parametrize(
    "name, reason",
    [
        ("expired", "expired"),
        ("nbf in the future", "not_yet_valid"),
        ("no aud", "missing_claim"),
        ("another app", "wrong_audience"),
        ("another issuer", "wrong_issuer"),
        ("signed by another key", "bad_signature"),
        ("alg none", "bad_alg"),
        ("garbage", "malformed_token"),
    ],
)
def test_refusals_say_why(name, reason):
    assert _ours(_cases()[name]).reason == reason


def test_an_accepted_token_tells_who_and_where():
    invocation = _ours(_cases()["valid"])
    assert (invocation.principal, invocation.installation_id, invocation.api_base_url) == (
        "557058:u",
        "ari:cloud:ecosystem::installation/p",
        "https://api.test/ex/1",
    )


# --- a token sent again: remembered by its exact text, every check but the signature made again ------------


def _remembering(token: str, verified: VerifiedTokens, jwks=None, leeway: int = 5):
    try:
        return verify_invocation_token(token, app_id=APP_ID, jwks=jwks or OneKey(), leeway=leeway, verified=verified)
    except AuthError as refusal:
        return refusal


def test_a_token_sent_again_gets_the_same_verdict_as_pyjwt():
    verified = VerifiedTokens()
    cases = _cases()
    for token in cases.values():
        _remembering(token, verified)
    for name, token in cases.items():
        again = _remembering(token, verified)
        assert (not isinstance(again, AuthError)) == _pyjwt_accepts(token), name


def test_a_remembered_token_is_refused_once_it_expires():
    verified = VerifiedTokens()
    token = _token(_claims(exp=int(time.time()) + 1))
    assert not isinstance(_remembering(token, verified, leeway=0), AuthError)
    time.sleep(2.05)
    assert _remembering(token, verified, leeway=0).reason == "expired"


def test_a_remembered_token_is_refused_once_forge_stops_publishing_its_key():
    class Rotated(OneKey):
        def key_for(self, kid):
            raise AuthError("unknown_kid", "The token was signed with a key Forge does not publish.")

    verified = VerifiedTokens()
    token = _cases()["valid"]
    assert not isinstance(_remembering(token, verified), AuthError)
    assert _remembering(token, verified, jwks=Rotated()).reason == "unknown_kid"


def test_one_byte_changed_is_another_token_verified_in_full():
    verified = VerifiedTokens()
    token = _cases()["valid"]
    assert not isinstance(_remembering(token, verified), AuthError)
    changed = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert _remembering(changed, verified).reason in ("bad_signature", "malformed_token")
