"""Short-lived tokens the app signs for itself (decision forms, admin pages), one serializer per
purpose: a salt per purpose keeps a token made for one from passing as another."""

from __future__ import annotations

from flask import current_app
from itsdangerous import Serializer, Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

EXTENSION_KEY = "addon.platform.signers"


class _KeyDerivedOnce(TimestampSigner):
    """itsdangerous' timestamp signer, deriving its signing key once instead of on every signature."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is not None:
            return super().derive_key(secret_key)
        key = self.__dict__.get("_derived_key")
        if key is None:
            key = self._derived_key = super().derive_key()
        return key


class AppSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer, for tokens issued on every page view: one signer per serializer
    (its key derived once) and no zlib attempt on payloads of a few dozen bytes. The tokens are the same
    format, and compressed ones (issued before) still load."""

    default_signer = _KeyDerivedOnce

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is not None and salt != self.salt:
            return super().make_signer(salt)
        signer = self.__dict__.get("_signer")
        if signer is None:
            signer = self._signer = super().make_signer()
        return signer

    def dump_payload(self, obj: object) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


def signer(salt: str) -> URLSafeTimedSerializer:
    """This app's serializer for `salt` (made once: building one derives keys, and views ask often)."""
    signers: dict[str, AppSerializer] = current_app.extensions.setdefault(EXTENSION_KEY, {})
    found = signers.get(salt)
    if found is None:
        found = signers.setdefault(salt, AppSerializer(current_app.config["SECRET_KEY"], salt=salt))
    return found
