"""Pure sealing rules: canonical JSON, SHA-256, Ed25519 and JWK, with plain values and hypothesis."""

import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.commitments import sealing

KEY = sealing.generate_private_key()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def test_canonical_json_sorts_keys_keeps_utf8_and_drops_whitespace():
    assert sealing.canonical_json({"b": 1, "a": [1, 2], "名": "张三"}) == '{"a":[1,2],"b":1,"名":"张三"}'.encode()


def test_sha256_is_hex_of_the_canonical_bytes():
    data = sealing.canonical_json({"x": 1})
    assert sealing.sha256_hex(data) == hashlib.sha256(b'{"x":1}').hexdigest()


def test_a_seal_verifies_and_one_changed_byte_does_not():
    data, digest, signature = sealing.seal(KEY, {"text": "本人承诺", "n": 1})
    public = KEY.public_key()
    assert sealing.verify_seal(public, data, digest, signature)
    tampered = data.replace("承诺".encode(), "保证".encode())
    assert not sealing.verify_seal(public, tampered, digest, signature)
    assert not sealing.verify_seal(public, tampered, sealing.sha256_hex(tampered), signature)
    assert not sealing.verify_seal(sealing.generate_private_key().public_key(), data, digest, signature)
    assert not sealing.verify_seal(None, data, digest, signature)
    assert not sealing.verify(public, data, "not-base64!!")


def test_jwk_is_okp_ed25519_and_its_kid_is_the_rfc7638_thumbprint():
    jwk = sealing.public_jwk(KEY.public_key())
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, separators=(",", ":"), sort_keys=True)
    assert jwk["kid"] == sealing.b64url(hashlib.sha256(members.encode()).digest())
    rebuilt = Ed25519PublicKey.from_public_bytes(sealing.b64url_decode(jwk["x"]))
    _data, _digest, signature = sealing.seal(KEY, {"a": 1})
    rebuilt.verify(sealing.b64url_decode(signature), b'{"a":1}')  # raises when wrong


def test_pem_round_trip_keeps_the_key():
    again = sealing.private_key_from_pem(sealing.private_key_to_pem(KEY))
    assert sealing.key_id(again.public_key()) == sealing.key_id(KEY.public_key())


def test_public_ids_are_short_unguessable_and_readable():
    ids = {sealing.new_public_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(sealing.is_public_id(i) and len(i) == 16 and not set(i) & set("01OIL") for i in ids)
    assert not sealing.is_public_id("../etc/passwd") and not sealing.is_public_id("abc")


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_canonical_json_is_stable_under_a_parse_round_trip(value):
    data = sealing.canonical_json(value)
    assert sealing.canonical_json(json.loads(data)) == data


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5), st.data())
@settings(max_examples=100, deadline=None)
def test_any_single_byte_change_breaks_the_seal(document, data):
    content, digest, signature = sealing.seal(KEY, document)
    index = data.draw(st.integers(0, len(content) - 1))
    flipped = bytearray(content)
    flipped[index] ^= data.draw(st.integers(1, 255))
    assert sealing.verify_seal(KEY.public_key(), content, digest, signature)
    assert not sealing.verify_seal(KEY.public_key(), bytes(flipped), digest, signature)
    assert not sealing.verify_seal(KEY.public_key(), bytes(flipped), sealing.sha256_hex(bytes(flipped)), signature)


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
@settings(max_examples=50, deadline=None)
def test_key_order_does_not_change_the_hash(document):
    reordered = dict(reversed(list(document.items())))
    assert sealing.canonical_json(document) == sealing.canonical_json(reordered)
