"""Short-lived tokens the app signs for itself (decision forms, admin pages), one serializer per
purpose: a salt per purpose keeps a token made for one from passing as another."""
from __future__ import annotations

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

EXTENSION_KEY = "addon.platform.signers"


def signer(salt: str) -> URLSafeTimedSerializer:
    """This app's serializer for `salt` (made once: building one derives keys, and views ask often)."""
    signers = current_app.extensions.setdefault(EXTENSION_KEY, {})
    found = signers.get(salt)
    if found is None:
        found = signers.setdefault(salt, URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt))
    return found
