"""Encryption at rest of personal data (AES-256-GCM) and keyed hashes to find it again.

Keys live outside the database, in settings read from the environment:
- ``FIELD_ENCRYPTION_KEYS``: one or more ``id:base64key`` pairs separated by commas; the first
  encrypts, all decrypt (key rotation). Each key is 32 random bytes.
- ``FIELD_HASH_KEY``: base64 of the HMAC key for exact-match look-ups (ID number, phone).
A ciphertext is ``key id (1 byte) | nonce (12) | ciphertext+tag``; the associated data binds it
to its purpose (e.g. ``members.id_number``) so a value cannot be moved to another column.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    pass


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: not valid base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name}: a key must be 32 bytes, got {len(key)}")
    return key


@lru_cache(maxsize=4)
def _keys(spec: str) -> tuple[int, dict[int, AESGCM]]:
    if not spec:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set")
    keys: dict[int, AESGCM] = {}
    current = -1
    for item in spec.split(","):
        kid_text, sep, key_text = item.strip().partition(":")
        if not sep or not kid_text.isdigit() or not 0 <= int(kid_text) <= 255:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS: each item is 'id:base64key', id 0-255"
            )
        kid = int(kid_text)
        keys[kid] = AESGCM(_decode_key(key_text, "FIELD_ENCRYPTION_KEYS"))
        if current < 0:
            current = kid
    return current, keys


@lru_cache(maxsize=4)
def _hash_key(text: str) -> bytes:
    if not text:
        raise ImproperlyConfigured("FIELD_HASH_KEY must be set")
    return _decode_key(text, "FIELD_HASH_KEY")


def encrypt(plaintext: str, *, purpose: str) -> bytes:
    current, keys = _keys(settings.FIELD_ENCRYPTION_KEYS)
    nonce = os.urandom(12)
    sealed = keys[current].encrypt(nonce, plaintext.encode(), purpose.encode())
    return bytes([current]) + nonce + sealed


def decrypt(blob: bytes | memoryview, *, purpose: str) -> str:
    data = bytes(blob)
    _, keys = _keys(settings.FIELD_ENCRYPTION_KEYS)
    if len(data) < 1 + 12 + 16 or data[0] not in keys:
        raise DecryptionError("unknown key or truncated ciphertext")
    try:
        return keys[data[0]].decrypt(data[1:13], data[13:], purpose.encode()).decode()
    except Exception as exc:  # InvalidTag: wrong key, wrong purpose or tampered data
        raise DecryptionError("ciphertext does not verify") from exc


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` for exact look-ups; hex, 64 characters."""
    key = _hash_key(settings.FIELD_HASH_KEY)
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def hasher(*, purpose: str) -> Callable[[str], str]:
    """``keyed_hash`` for many values of one purpose: the HMAC state after the key and the
    purpose prefix is computed once and copied per value (bulk imports hash millions)."""
    base = hmac.new(_hash_key(settings.FIELD_HASH_KEY), f"{purpose}\x00".encode(), hashlib.sha256)
    # With OpenSSL behind it, ``hmac.HMAC`` wraps a C object (``_hmac``) whose copy, update
    # and hexdigest are the same HMAC without the Python layer around them: the same digests
    # in half the time. Without it (another Python, no OpenSSL), the Python object is copied.
    copy = (getattr(base, "_hmac", None) or base).copy

    def keyed(value: str) -> str:
        mac = copy()
        mac.update(value.encode())
        return mac.hexdigest()

    return keyed


def sealer(*, purpose: str) -> Callable[[str], bytes]:
    """``encrypt`` for many values of one purpose, with the key and associated data bound once."""
    current, keys = _keys(settings.FIELD_ENCRYPTION_KEYS)
    aead = keys[current].encrypt
    head = bytes([current])
    associated = purpose.encode()
    urandom = os.urandom

    def seal(plaintext: str) -> bytes:
        nonce = urandom(12)
        return head + nonce + aead(nonce, plaintext.encode(), associated)

    return seal


def opener(*, purpose: str) -> Callable[[bytes | memoryview], str]:
    """``decrypt`` for many values of one purpose (an unmasked export decrypts millions),
    with the keys and associated data bound once."""
    _, keys = _keys(settings.FIELD_ENCRYPTION_KEYS)
    openers = {kid: aead.decrypt for kid, aead in keys.items()}
    associated = purpose.encode()

    def open_(blob: bytes | memoryview) -> str:
        data = bytes(blob)
        aead = openers.get(data[0]) if len(data) >= 1 + 12 + 16 else None
        if aead is None:
            raise DecryptionError("unknown key or truncated ciphertext")
        try:
            return aead(data[1:13], data[13:], associated).decode()
        except Exception as exc:  # InvalidTag: wrong key, wrong purpose or tampered data
            raise DecryptionError("ciphertext does not verify") from exc

    return open_
