"""Public verification: masked subject, `valid` recomputed, JWKS offline check, key rotation, QR, /v/ page."""

import json
import re

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from backend.commitments import sealing
from tests.commitments.conftest import signed


def verdict(html: str) -> str:
    """The headline of the verification page."""
    return re.search(r'<section class="verdict[^>]*>\s*<h1>([^<]*)</h1>', html).group(1)


def _b64url_decode(value: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_public_view_masks_the_subject_and_says_valid(client, factory, desk):
    resident = factory.user("resident", name="欧阳修")
    commitment = signed(client, resident, desk.template["id"])
    response = client.get(f"/api/v1/public/commitments/{commitment['public_id']}")
    assert response.status_code == 200
    view = response.json
    for name in ("public_id", "type", "title", "text", "subject", "status", "hash", "signature", "key_id",
                 "signed_at", "valid"):
        assert name in view
    assert view["valid"] is True and view["status"] == "signed"
    assert view["subject"]["name"] == "欧**"
    assert view["subject"]["id_number"] == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]
    assert resident.id_number not in json.dumps(view, ensure_ascii=False)
    assert view["text"] == commitment["text"] and view["hash"] == commitment["hash"]


def test_unknown_or_malformed_public_ids_are_404(client):
    assert client.get("/api/v1/public/commitments/ABCDEFGHJKMNPQRS").status_code == 404
    missing = client.get("/api/v1/public/commitments/..%2F..")
    assert missing.status_code == 404
    assert client.get("/api/v1/public/reports/ABCDEFGHJKMNPQRS").json["code"] == "report_not_found"


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_changing_any_byte_of_the_stored_content_makes_it_invalid(client, factory, desk, session, where):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    public_id = commitment["public_id"]
    content = session.execute(text("SELECT content FROM seals WHERE public_id = :p"), {"p": public_id}).scalar_one()
    position = {"start": 0, "middle": len(content) // 2, "end": len(content) - 1}[where]
    changed = content[:position] + chr(ord(content[position]) ^ 1) + content[position + 1:]
    session.execute(text("UPDATE seals SET content = :c WHERE public_id = :p"), {"c": changed, "p": public_id})
    session.commit()
    view = client.get(f"/api/v1/public/commitments/{public_id}")
    assert view.status_code == 200 and view.json["valid"] is False
    page = client.get(f"/v/{public_id}")
    assert verdict(page.get_data(as_text=True)) == "验证失败"


def test_a_forged_text_with_a_fresh_hash_still_fails(client, factory, desk, session):
    resident = factory.user("resident")
    public_id = signed(client, resident, desk.template["id"])["public_id"]
    content = session.execute(text("SELECT content FROM seals WHERE public_id = :p"), {"p": public_id}).scalar_one()
    forged = content.replace("100", "999")
    session.execute(text("UPDATE seals SET content = :c, content_hash = :h WHERE public_id = :p"),
                    {"c": forged, "h": sealing.sha256_hex(forged.encode()), "p": public_id})
    session.commit()
    view = client.get(f"/api/v1/public/commitments/{public_id}").json
    assert view["valid"] is False and "999" in view["text"]


def test_the_signature_verifies_with_the_jwks_key_alone(client, factory, desk):
    resident = factory.user("resident")
    public_id = signed(client, resident, desk.template["id"])["public_id"]
    view = client.get(f"/api/v1/public/commitments/{public_id}").json
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and jwks.content_type.startswith("application/json")
    [jwk] = [k for k in jwks.json["keys"] if k["kid"] == view["key_id"]]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    public_key = Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"]))
    content = view["content"].encode("utf-8")
    public_key.verify(_b64url_decode(view["signature"]), content)  # raises InvalidSignature when wrong
    import hashlib

    assert hashlib.sha256(content).hexdigest() == view["hash"]
    document = json.loads(content)
    assert json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() == content
    assert document["public_id"] == public_id and document["text"] == view["text"]
    with pytest.raises(InvalidSignature):
        public_key.verify(_b64url_decode(view["signature"]), content.replace(b"100", b"101"))


def test_a_seal_made_before_rotate_key_still_verifies_after_it(app, client, factory, desk):
    resident = factory.user("resident")
    before = signed(client, resident, desk.template["id"])
    result = app.test_cli_runner().invoke(args=["seal", "rotate-key"])
    assert result.exit_code == 0, result.output
    new_kid = result.output.split()[-1]
    assert new_kid != before["key_id"]
    after = signed(client, resident, desk.template["id"])
    assert after["key_id"] == new_kid
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
    assert kids[0] == new_kid and before["key_id"] in kids
    assert client.get(f"/api/v1/public/commitments/{before['public_id']}").json["valid"] is True
    assert client.get(f"/api/v1/public/commitments/{after['public_id']}").json["valid"] is True
    listing = app.test_cli_runner().invoke(args=["seal", "list-keys"])
    assert "active" in listing.output and "retired" in listing.output


def test_the_key_from_seal_private_key_is_used_when_set(base_settings, factory, desk):
    from backend import create_app
    from tests.factories import PASSWORD

    key = sealing.generate_private_key()
    app = create_app(base_settings.with_overrides(seal_private_key_pem=sealing.private_key_to_pem(key)))
    client = app.test_client()
    resident = factory.user("resident")
    commitment = client.post("/api/v1/commitments", json={"template_id": desk.template["id"],
                                                          "fields": {"name": "张三", "matter": "登记"}},
                             headers=resident.headers).json
    sealed = client.post(f"/api/v1/commitments/{commitment['id']}/sign", json={"password": PASSWORD},
                         headers=resident.headers).json
    assert sealed["key_id"] == sealing.key_id(key.public_key())
    app.extensions["engine"].dispose()


def test_qr_png_encodes_the_verification_page(client, factory, desk):
    resident = factory.user("resident")
    public_id = signed(client, resident, desk.template["id"])["public_id"]
    response = client.get(f"/api/v1/public/commitments/{public_id}/qr.png")
    assert response.status_code == 200 and response.content_type == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get("/api/v1/public/commitments/ABCDEFGHJKMNPQRS/qr.png").status_code == 404


def test_the_verification_page_shows_the_verdict(client, factory, desk):
    resident = factory.user("resident")
    commitment = signed(client, resident, desk.template["id"])
    page = client.get(f"/v/{commitment['public_id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    assert verdict(html) == "真实有效" and commitment["text"] in html and 'name="viewport"' in html
    assert resident.id_number not in html
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    missing = client.get("/v/ABCDEFGHJKMNPQRS", headers=browser)
    assert missing.status_code == 404 and verdict(missing.get_data(as_text=True)) == "验证失败"
    api = client.get("/v/ABCDEFGHJKMNPQRS")
    assert api.status_code == 404 and api.content_type == "application/problem+json"
    assert api.json["code"] == "seal_not_found"


def test_the_page_escapes_what_people_typed(client, factory, desk):
    resident = factory.user("resident")
    from tests.commitments.conftest import publish

    template = publish(client, desk.department, desk.officer, text="{name}", fields=[{"name": "name"}])
    commitment = signed(client, resident, template["id"], fields={"name": "<script>alert(1)</script>"})
    html = client.get(f"/v/{commitment['public_id']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_jwks_is_cacheable_and_never_leaks_private_parts(client, factory, desk):
    signed(client, factory.user("resident"), desk.template["id"])
    response = client.get("/.well-known/jwks.json")
    assert "max-age=300" in response.headers["Cache-Control"]
    assert all(set(k) == {"kty", "crv", "x", "kid", "use", "alg"} for k in response.json["keys"])


def test_a_public_id_typed_in_lower_case_is_found(client, factory, desk):
    from tests.commitments.conftest import signed

    resident = factory.user("resident")
    public_id = signed(client, resident, desk.template["id"])["public_id"]
    view = client.get(f"/api/v1/public/commitments/{public_id.lower()}")
    assert view.status_code == 200 and view.json["valid"] is True and view.json["public_id"] == public_id
    assert client.get(f"/v/{public_id.lower()}").status_code == 200
