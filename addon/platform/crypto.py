"""Secrets at rest: Fernet with key rotation.

The first configured key encrypts; every configured key decrypts, so an operator rotates by
putting a new key first and keeping the old ones until `rotate` has re-encrypted every row.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


class SecretBox:
    def __init__(self, keys: str | list[str]):
        if isinstance(keys, str):
            keys = [k.strip() for k in keys.split(",") if k.strip()]
        if not keys:
            raise ValueError("ENCRYPTION_KEYS is empty: at least one Fernet key is required")
        try:
            self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "ENCRYPTION_KEYS holds a value that is not a Fernet key "
                "(generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            ) from exc

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret does not decrypt with any configured key") from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the current (first) key."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret does not decrypt with any configured key") from exc
