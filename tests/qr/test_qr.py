import base64
import dataclasses
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import qrcode
import zxingcpp
from PIL import Image

from backend.errors import AppError, Conflict, Gone, NotFound
from backend.qr import service


def test_codes_are_128_bit_upper_case_alphanumeric():
    codes = {service.new_code() for _ in range(1000)}
    assert len(codes) == 1000
    for code in codes:
        assert service.CODE_PATTERN.match(code) and len(code) == 30


def test_issued_png_decodes_to_the_code_at_version_3_or_lower(client, factory):
    user = factory.user("resident")
    issued = client.post("/api/v1/me/qr-codes", headers=user.headers)
    assert issued.status_code == 201
    body = issued.json
    assert body["png"].startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(body["png"].split(",", 1)[1])))
    [result] = zxingcpp.read_barcodes(image)
    assert result.text == body["code"]
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert int(result.symbology_identifier[-1]) >= 0
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(body["code"], optimize=0)
    qr.make(fit=True)
    assert qr.version <= 3
    assert qr.data_list[0].mode == qrcode.util.MODE_ALPHA_NUM


def test_many_renderings_all_decode():
    for _ in range(25):
        code = service.new_code()
        [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(service.render_png(code))))
        assert result.text == code


def test_only_verified_residents_get_codes(client, factory):
    assert client.post("/api/v1/me/qr-codes", headers=factory.user("account").headers).status_code == 403
    assert client.post("/api/v1/me/qr-codes").status_code == 401


def test_a_resident_may_hold_several_live_codes(client, factory, redis):
    user = factory.user("resident")
    first = client.post("/api/v1/me/qr-codes", headers=user.headers).json["code"]
    second = client.post("/api/v1/me/qr-codes", headers=user.headers).json["code"]
    live = {c["code"] for c in client.get("/api/v1/me/qr-codes", headers=user.headers).json["items"]}
    assert live == {first, second}
    assert service.consume(redis=redis, code=first) == user.person_id
    assert service.peek(redis=redis, code=second) == user.person_id  # the other is untouched
    live = {c["code"] for c in client.get("/api/v1/me/qr-codes", headers=user.headers).json["items"]}
    assert live == {second}


def test_a_resident_holds_at_most_qr_max_live_unused_codes(app, client, factory, redis, monkeypatch):
    monkeypatch.setitem(app.extensions, "settings", dataclasses.replace(app.extensions["settings"], qr_max_live=3))
    user = factory.user("resident")
    codes = [client.post("/api/v1/me/qr-codes", headers=user.headers) for _ in range(3)]
    assert [r.status_code for r in codes] == [201, 201, 201]
    refused = client.post("/api/v1/me/qr-codes", headers=user.headers)
    assert refused.status_code == 429 and refused.json["code"] == "too_many_live_codes"
    assert refused.json["max_live"] == 3 and 1 <= int(refused.headers["Retry-After"]) <= 60
    live = {c["code"] for c in client.get("/api/v1/me/qr-codes", headers=user.headers).json["items"]}
    assert live == {r.json["code"] for r in codes}  # the refused code was taken back
    assert len(redis.keys("qr:i:*")) == 3  # and left no day-long marker
    service.consume(redis=redis, code=codes[0].json["code"])  # a used code frees its place
    assert client.post("/api/v1/me/qr-codes", headers=user.headers).status_code == 201
    assert client.post("/api/v1/me/qr-codes", headers=user.headers).status_code == 429
    other = factory.user("resident")  # the cap is per person
    assert client.post("/api/v1/me/qr-codes", headers=other.headers).status_code == 201


def test_racing_issues_never_leave_more_than_max_live_codes(redis):
    def issue(_):
        try:
            return service.issue(redis=redis, person_id="per_race", ttl_s=60, max_live=5).code
        except AppError as exc:
            assert exc.code == "too_many_live_codes"
            return None

    with ThreadPoolExecutor(max_workers=20) as pool:
        issued = [code for code in pool.map(issue, range(40)) if code]
    assert 1 <= len(issued) <= 5
    assert {c.code for c in service.live_codes(redis=redis, person_id="per_race")} == set(issued)
    assert all(service.consume(redis=redis, code=code) == "per_race" for code in issued)


def test_peek_does_not_consume_and_consume_works_once(redis):
    issued = service.issue(redis=redis, person_id="per_x", ttl_s=60)
    assert service.peek(redis=redis, code=issued.code) == "per_x"
    assert service.consume(redis=redis, code=issued.code) == "per_x"
    with pytest.raises(Conflict) as used:
        service.consume(redis=redis, code=issued.code)
    assert used.value.code == "qr_already_used"
    with pytest.raises(Conflict):
        service.peek(redis=redis, code=issued.code)


def test_an_expired_code_is_410_and_an_unknown_one_404(redis):
    issued = service.issue(redis=redis, person_id="per_x", ttl_s=1)
    time.sleep(1.2)
    with pytest.raises(Gone) as expired:
        service.consume(redis=redis, code=issued.code)
    assert expired.value.code == "qr_expired" and expired.value.status == 410
    with pytest.raises(NotFound):
        service.consume(redis=redis, code=service.new_code())
    with pytest.raises(NotFound):
        service.peek(redis=redis, code="not a code")


def test_50_threads_consuming_one_code_exactly_one_wins(redis):
    issued = service.issue(redis=redis, person_id="per_race", ttl_s=60)
    barrier = threading.Barrier(50)

    def attempt(_):
        barrier.wait()
        try:
            return service.consume(redis=redis, code=issued.code)
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, range(50)))
    assert results.count("per_race") == 1
    assert results.count("qr_already_used") == 49
