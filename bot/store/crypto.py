"""Encryption of personal numbers at rest, and a blind index to find them again.

- ``FieldCipher`` wraps ``MultiFernet``: the first key encrypts, every key decrypts, so keys
  can be rotated by putting a new key first (and re-encrypting with ``rotate`` at leisure).
- ``BlindIndex`` is an HMAC-SHA256 of the normalised value: equal ID numbers give equal
  digests (to find earlier petitions of the same person) without storing the number.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["BlindIndex", "Crypto", "DecryptionError", "FieldCipher"]


class DecryptionError(ValueError):
    """A stored value cannot be decrypted with any configured key."""


class FieldCipher:
    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DecryptionError("value cannot be decrypted with the configured keys") from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored value with the current (first) key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise DecryptionError("value cannot be decrypted with the configured keys") from None


class BlindIndex:
    def __init__(self, key: str):
        if not key:
            raise ValueError("an HMAC key is required")
        self._key = key.encode("utf-8")

    def digest(self, value: str) -> str:
        normalized = value.strip().upper().encode("utf-8")
        return hmac.new(self._key, normalized, hashlib.sha256).hexdigest()


class Crypto:
    """The cipher and the blind index the case store uses, built from the settings."""

    def __init__(self, encryption_keys: Sequence[str], hmac_key: str):
        self.cipher = FieldCipher(encryption_keys)
        self.blind_index = BlindIndex(hmac_key)
        # Decrypted instead of a stored value when there is none, so that every comparison
        # of a secret costs the same.
        self.placeholder_token = self.cipher.encrypt("")

    def encrypt(self, value: str) -> str:
        return self.cipher.encrypt(value)

    def decrypt(self, token: str) -> str:
        return self.cipher.decrypt(token)

    def index(self, value: str) -> str:
        return self.blind_index.digest(value)
