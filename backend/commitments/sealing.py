"""Pure sealing rules: canonical JSON, SHA-256, Ed25519 signatures and JWK export.

A seal is the Ed25519 signature of the canonical JSON bytes of a document
(sorted keys, UTF-8, no insignificant whitespace). Its hash is the SHA-256 of
the same bytes, so anyone holding the document, the signature and the public
key (``/.well-known/jwks.json``) can check it offline. No I/O here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: readable when typed from paper


def canonical_json(document: Any) -> bytes:
    """Sorted keys, UTF-8 (no \\u escapes), no whitespace; NaN/Infinity refused."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_from_pem(pem: str | bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the seal key must be an Ed25519 private key")
    return key


def private_key_to_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def private_key_raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def private_key_from_raw(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_x(x: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url_decode(x))


def key_id(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key: stable, derived, unforgeable."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(public_key_raw(public_key))}
    return b64url(hashlib.sha256(canonical_json(members)).digest())


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK (RFC 8037: kty OKP, crv Ed25519)."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public_key_raw(public_key)),
            "kid": key_id(public_key), "use": "sig", "alg": "EdDSA"}


def sign(private_key: Ed25519PrivateKey, data: bytes) -> str:
    """The base64url Ed25519 signature of ``data``."""
    return b64url(private_key.sign(data))


def verify(public_key: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        public_key.verify(b64url_decode(signature), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def seal(private_key: Ed25519PrivateKey, document: Any) -> tuple[bytes, str, str]:
    """(canonical bytes, SHA-256 hex, signature) of a document."""
    data = canonical_json(document)
    return data, sha256_hex(data), sign(private_key, data)


def verify_seal(public_key: Ed25519PublicKey | None, data: bytes, content_hash: str, signature: str) -> bool:
    """True when ``data`` hashes to ``content_hash`` and carries a good signature by ``public_key``."""
    if public_key is None:
        return False
    return secrets.compare_digest(sha256_hex(data), content_hash or "") and verify(public_key, data, signature)


def new_public_id(length: int = 16) -> str:
    """A short unguessable id for printed documents: 16 chars of a 31-letter alphabet (~79 bits)."""
    return "".join(secrets.choice(_PUBLIC_ID_ALPHABET) for _ in range(length))


def is_public_id(value: str) -> bool:
    return 8 <= len(value) <= 32 and all(c in _PUBLIC_ID_ALPHABET for c in value)
