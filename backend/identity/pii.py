"""The PII vault: AES-256-GCM encryption of ID numbers plus an HMAC blind index for lookup.

Two independent keys are derived from PII_KEY with HKDF, so the key that
encrypts is never the key that indexes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


@lru_cache(maxsize=8)
def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"credit-pii:" + purpose).derive(master)


def encrypt(master: bytes, plaintext: str, context: str) -> bytes:
    """nonce || ciphertext+tag; ``context`` is bound as associated data (e.g. 'id_number')."""
    nonce = os.urandom(_NONCE_BYTES)
    key = _derive(master, b"enc")
    return nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())


def decrypt(master: bytes, blob: bytes, context: str) -> str:
    key = _derive(master, b"enc")
    return AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode()).decode()


def blind_index(master: bytes, value: str, context: str) -> str:
    """Deterministic keyed hash for equality lookup without storing the value."""
    key = _derive(master, b"idx")
    return hmac.new(key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()
