"""The app's own signed tokens: itsdangerous' format, faster to issue, strict to check."""

import pytest
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from addon.platform.signing import AppSerializer, signer

SECRET = "k" * 64


def test_same_format_as_itsdangerous_both_ways_including_compressed_tokens():
    ours, stock = AppSerializer(SECRET, salt="purpose"), URLSafeTimedSerializer(SECRET, salt="purpose")
    small = {"t": 1, "u": "557058:u", "w": "5", "m": "title-status"}
    large = {"notes": "the same words again " * 40}  # itsdangerous compresses this one
    for payload in (small, large):
        assert stock.loads(ours.dumps(payload)) == payload
        assert ours.loads(stock.dumps(payload)) == payload
    assert stock.dumps(large).startswith(".") and not ours.dumps(large).startswith(".")


def test_tampered_foreign_and_expired_tokens_are_refused():
    ours = AppSerializer(SECRET, salt="purpose")
    token = ours.dumps({"u": "557058:u"})
    with pytest.raises(BadSignature):
        ours.loads(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(BadSignature):
        AppSerializer(SECRET, salt="another purpose").loads(token)
    with pytest.raises(BadSignature):
        AppSerializer("x" * 64, salt="purpose").loads(token)
    with pytest.raises(SignatureExpired):
        ours.loads(token, max_age=-1)


def test_one_serializer_per_purpose_per_app(app):
    assert signer("a") is signer("a") and signer("a") is not signer("b")
    assert signer("a").loads(signer("a").dumps([1, 2])) == [1, 2]
