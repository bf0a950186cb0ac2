"""GB 11643 ID numbers and GB 32100 credit codes, checked against the weights of DOMAIN.md."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from backend.identity import ids

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def reference_check(base17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(base17, WEIGHTS, strict=True)) % 11]


def reference_uscc_check(base17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(base17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31))
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
             "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"]
regions = st.builds(lambda p, rest: p + rest, st.sampled_from(PROVINCES), st.from_regex(r"[0-9]{4}", fullmatch=True))
sequences = st.integers(min_value=0, max_value=999)


@given(regions, births, sequences)
def test_every_number_with_the_right_check_character_is_accepted(region, birth, seq):
    base = f"{region}{birth:%Y%m%d}{seq:03d}"
    number = base + reference_check(base)
    assert ids.normalize_id_number(number.lower()) == number


@given(regions, births, sequences, st.sampled_from("0123456789X"))
def test_any_other_check_character_is_rejected(region, birth, seq, check):
    base = f"{region}{birth:%Y%m%d}{seq:03d}"
    if check != reference_check(base):
        assert ids.normalize_id_number(base + check) is None


def test_impossible_birth_dates_are_rejected_even_with_a_right_checksum():
    for birth in ("19900230", "19901301", "20991231"):
        base = f"430104{birth}001"
        assert ids.normalize_id_number(base + reference_check(base)) is None


def test_a_district_younger_than_the_person_is_still_accepted():
    # 430104 (岳麓区) dates from 1996; someone born in 1978 can be registered there.
    base = "43010419780815003"
    assert ids.normalize_id_number(base + reference_check(base)) == base + "X"


_DIVISIONS = st.tuples(st.sampled_from(["11", "31", "43", "44", "65", "81"]),
                       st.text(alphabet="0123456789", min_size=4, max_size=4)).map("".join)


@given(st.text(alphabet=USCC_CHARS, min_size=2, max_size=2), _DIVISIONS,
       st.text(alphabet=USCC_CHARS, min_size=9, max_size=9))
def test_credit_codes_follow_gb_32100(head, division, organisation):
    base = head + division + organisation
    good = base + reference_uscc_check(base)
    assert ids.normalize_credit_code(good) == good
    bad = base + next(c for c in USCC_CHARS if c != good[-1])
    assert ids.normalize_credit_code(bad) is None


@given(st.text(alphabet=USCC_CHARS, min_size=17, max_size=17))
def test_a_credit_code_whose_division_is_no_real_divisions_code_is_refused(base):
    """Characters 3-8 are a GB/T 2260 division: six digits, of a real province (a checksum alone
    let "9ABCDEFGHJ00000002" make an enterprise of region "BCDEFG")."""
    code = base + reference_uscc_check(base)
    division = base[2:8]
    real = division.isdigit() and division[:2] in {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33",
                                                   "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50",
                                                   "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81",
                                                   "82", "83"}
    assert (ids.normalize_credit_code(code) == code) is real


def test_malformed_inputs_are_rejected():
    for value in ("", "123", "4301041990030700151", "43010419900307001Y", "ＡＢＣ"):
        assert ids.normalize_id_number(value) is None
        assert ids.normalize_credit_code(value) is None


def test_masking():
    assert ids.mask_id_number("430104199003070015") == "4301**********0015"
    assert ids.mask_name("张三") == "张*"
    assert ids.mask_name("欧阳娜娜") == "欧***"
    assert ids.mask_name("李") == "李*"
    assert ids.mask_phone("13800000001") == "138****0001"


def test_full_width_digits_are_not_an_id_number_nor_a_phone():
    from backend.identity import ids

    assert ids.normalize_id_number("430104199003070015") == "430104199003070015"
    assert ids.normalize_id_number("４30104199003070015") is None  # else a second identity for one number
    assert not ids.is_mobile_number("1３800000001")


@given(st.from_regex(r"[0-9]{2}", fullmatch=True).filter(lambda p: p not in PROVINCES), births, sequences)
def test_a_number_from_no_province_is_rejected(province, birth, seq):
    base = f"{province}0104{birth:%Y%m%d}{seq:03d}"
    assert ids.normalize_id_number(base + reference_check(base)) is None


def test_a_trailing_newline_is_not_part_of_a_phone_or_a_region(client, factory):
    from tests.factories import PASSWORD, new_phone

    phone = new_phone()
    assert client.post("/api/v1/auth/register", json={"phone": phone, "password": PASSWORD}).status_code == 201
    twin = client.post("/api/v1/auth/register", json={"phone": phone + "\n", "password": PASSWORD})
    assert twin.status_code == 422 and twin.json["code"] == "validation_failed"  # not a second account
    assert not ids.is_mobile_number(phone + "\n")
    admin = factory.user("admin")
    org = client.post("/api/v1/orgs", headers=admin.headers,
                      json={"kind": "village", "name": "换行村", "region_code": "430104\n"})
    assert org.status_code == 422


def test_names_of_blanks_or_invisible_marks_are_no_names(client, factory):
    from tests.factories import valid_id_number

    user = factory.user("account")
    for name in ("   ", "\t\n", "\u200b\u200b", "\u3164", "\u3164\u3164", "\u2800"):  # fillers show nothing
        claim = client.post("/api/v1/me/real-name", json={"name": name, "id_number": valid_id_number()},
                            headers=user.headers)
        assert claim.status_code == 422 and claim.json["code"] == "name_required", repr(name)
    admin = factory.user("admin")
    org = client.post("/api/v1/orgs", headers=admin.headers, json={"kind": "village", "name": "  ", "region_code": "430104"})
    assert org.status_code == 422 and org.json["code"] == "name_required"


def test_names_read_as_stored(client, factory):
    """A direction control would show the counter officer a name other than the one kept."""
    from tests.factories import valid_id_number

    user = factory.user("account")
    claim = client.post("/api/v1/me/real-name", json={"name": "张\u202e三", "id_number": valid_id_number()},
                        headers=user.headers)
    assert claim.status_code == 422 and claim.json["code"] == "bidi_control" and claim.json["field"] == "name"
    admin = factory.user("admin")
    org = client.post("/api/v1/orgs", headers=admin.headers,
                      json={"kind": "village", "name": "\u202e村东", "region_code": "430104"})
    assert org.status_code == 422 and org.json["code"] == "bidi_control"
    assert client.post("/api/v1/me/real-name", json={"name": "张三", "id_number": valid_id_number()},
                       headers=user.headers).status_code == 201


def test_a_credit_code_held_by_a_village_cannot_be_claimed_as_an_enterprise(client, factory):
    from tests.factories import valid_credit_code

    admin = factory.user("admin")
    code = valid_credit_code()
    assert client.post("/api/v1/orgs", headers=admin.headers, json={
        "kind": "merchant", "name": "某商户", "region_code": "430104", "credit_code": code}).status_code == 201
    claimant = factory.user("resident")
    claim = client.post("/api/v1/enterprises/claims", headers=claimant.headers,
                        json={"credit_code": code, "name": "某公司", "region_code": "430104"})
    assert claim.status_code == 409 and claim.json["code"] == "credit_code_taken"


def test_a_centrally_registered_credit_code_is_valid():
    """GB 32100: characters 3-8 are the registering authority's division; central level is 100000."""
    base = "11100000000013338"
    assert ids.normalize_credit_code(base + reference_uscc_check(base)) == base + reference_uscc_check(base)
