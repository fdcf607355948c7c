"""Secrets at rest: encrypted, rotatable, and unreadable without a configured key."""

import pytest
from cryptography.fernet import Fernet

from addon.platform.crypto import SecretBox, SecretDecryptionError


def test_round_trip_and_ciphertext_hides_the_secret():
    box = SecretBox(Fernet.generate_key().decode())
    ciphertext = box.encrypt("shared-secret-value")
    assert "shared-secret-value" not in ciphertext
    assert box.decrypt(ciphertext) == "shared-secret-value"


def test_rotation_old_keys_decrypt_new_writes_use_the_new_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = SecretBox(old).encrypt("api-key")
    rotated_box = SecretBox(f"{new},{old}")
    assert rotated_box.decrypt(before) == "api-key"
    after = rotated_box.encrypt("api-key")
    assert SecretBox(new).decrypt(after) == "api-key"
    with pytest.raises(SecretDecryptionError):
        SecretBox(old).decrypt(after)
    assert SecretBox(new).decrypt(rotated_box.rotate(before)) == "api-key"


def test_wrong_key_is_a_clear_error():
    ciphertext = SecretBox(Fernet.generate_key().decode()).encrypt("x")
    with pytest.raises(SecretDecryptionError):
        SecretBox(Fernet.generate_key().decode()).decrypt(ciphertext)


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(ValueError, match="ENCRYPTION_KEYS"):
        SecretBox("")
    with pytest.raises(ValueError, match="Fernet"):
        SecretBox("not-a-key")
