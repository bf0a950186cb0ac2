"""Pure rules for identifiers: GB 11643 citizen ID numbers, GB 32100 credit codes, masking.

Checksums and birth dates come from python-stdnum (``stdnum.cn.ric``,
``stdnum.cn.uscc``). ``ric.validate`` is deliberately not used: it also
rejects numbers whose region code did not exist in the birth year, but the
region code is the place of first registration, so real residents (born
1978, registered in a district created in 1996) would be refused.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from backend.text import has_visible

_PHONE = re.compile(r"^1[3-9][0-9]{9}\Z")


# The province (first two digits) of a GB/T 2260 division: a number from nowhere is no ID number.
# 71 Taiwan, 81/82 Hong Kong and Macao, 83 the residence permits of Taiwan residents.
_PROVINCES = frozenset(["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"])


def has_letters(name: str) -> bool:
    """Whether a name has something to read: a letter or digit that shows, not only blanks,
    zero-width marks or fillers (U+3164 is a "letter" that renders as nothing)."""
    return any(ch.isalnum() and has_visible(ch) for ch in name or "")


def stub_enterprise_name(credit_code: str) -> str:
    """The name of an enterprise known only by its credit code (from a department's records) until
    someone claims it and names it."""
    return f"企业 {credit_code}"


def normalize_id_number(value: str) -> str | None:
    """The canonical 18-character ID number, or None when the checksum or birth date is wrong."""
    candidate = (value or "").strip().upper()
    if len(candidate) != 18:
        return None
    # ASCII digits only: str.isdigit() also takes full-width ones (４…), which would make a second
    # blind index, so a second identity, for the same number
    if not (candidate[:17].isascii() and candidate[:17].isdigit()) or candidate[17] != ric.calc_check_digit(candidate):
        return None
    if candidate[:2] not in _PROVINCES:
        return None
    try:
        birth = ric.get_birth_date(candidate)
    except (ValidationError, ValueError):
        return None
    if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
        return None
    return candidate


_USCC_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")


def normalize_credit_code(value: str) -> str | None:
    """The canonical 18-character unified social credit code, or None when invalid.

    ``uscc.validate`` is not used: it demands eight leading digits, but real
    codes begin with letters too (registration authorities N, A, Y). Characters 3-8 are the
    registering authority's division code: six digits of a real province, or 100000 (central level).
    """
    candidate = (value or "").strip().upper()
    if len(candidate) != 18 or not set(candidate) <= _USCC_ALPHABET:
        return None
    division = candidate[2:8]  # GB 32100: the registering authority's GB/T 2260 division, six digits
    if not (division.isascii() and division.isdigit()) or (division[:2] not in _PROVINCES and division != "100000"):
        return None
    return candidate if uscc.calc_check_digit(candidate[:17]) == candidate[17] else None


def is_mobile_number(value: str) -> bool:
    return bool(_PHONE.match(value or ""))


def mask_id_number(number: str) -> str:
    """4301**********123X: region prefix and the last four only."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str | None) -> str:
    """张*, 欧阳**: the first character, then one star per hidden character."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "*" * len(phone)

