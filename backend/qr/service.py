"""One-time dynamic resident codes.

A code is ``CX1:`` + 26 base32 characters of 128 random bits: upper-case
alphanumeric, so the QR uses alphanumeric mode and fits version 2 at error
correction M. Redis holds three keys per code, all set in one MULTI:

- ``qr:c:<code>`` -> person id, expires with the code; consuming is one atomic
  GETDEL, so exactly one caller ever gets the person;
- ``qr:e:<code>`` expires with the code and is never deleted early, so a
  caller who finds ``qr:c`` gone can tell "used" (still unexpired) from
  "expired" without racing the winner;
- ``qr:i:<code>`` lives a day, so an expired code is told apart from a code
  that was never issued.

``qr:p:<person>`` is a sorted set of the person's codes by expiry. A person holds
at most ``max_live`` unused live codes at once: issuing more is 429
``too_many_live_codes`` until one is used or expires, so a looping client cannot
fill Redis with day-long markers.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import secrets
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.constants
from redis import Redis

from backend.errors import AppError, Conflict, Gone, NotFound, register_messages

register_messages(
    {
        "qr_already_used": ("二维码已使用", "Code already used", "该二维码已经使用过，请让对方刷新后重试。", "This code was already used; ask for a fresh one."),
        "qr_expired": ("二维码已过期", "Code expired", "该二维码已过期，请让对方刷新后重试。", "This code has expired; ask for a fresh one."),
        "qr_not_found": ("二维码无效", "Unknown code", "无法识别该二维码。", "This code was not issued by the platform."),
        "too_many_live_codes": ("未使用的二维码过多", "Too many live codes", "您已有 {max_live} 个未使用的二维码，请先使用或等其过期（{retry_after_s} 秒内）。", "You already hold {max_live} unused codes; use one or wait for one to expire (within {retry_after_s} s)."),
    }
)

PREFIX = "CX1:"
CODE_PATTERN = re.compile(r"^CX1:[A-Z2-7]{26}\Z")
_ISSUED_TTL_S = 24 * 3600


@dataclass
class IssuedCode:
    code: str
    expires_at: dt.datetime


def new_code() -> str:
    return PREFIX + base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")


def issue(*, redis: Redis, person_id: str, ttl_s: int, max_live: int | None = None,
          now: dt.datetime | None = None) -> IssuedCode:
    """Issue a fresh code for a person; earlier live codes stay valid until used or expired.

    With ``max_live``, a person already holding that many live codes gets 429
    ``too_many_live_codes`` (used codes do not count). The code is added and the person's codes
    counted in the same MULTI, so however many issues race, at most ``max_live`` unused codes
    stand; a code that did not fit is taken back before anyone saw it.
    """
    now = now or dt.datetime.now(dt.UTC)
    code = new_code()
    expires_at = now + dt.timedelta(seconds=ttl_s)
    expires_ms = int(expires_at.timestamp() * 1000)
    live = f"qr:p:{person_id}"
    pipe = redis.pipeline(transaction=True)
    pipe.set(f"qr:c:{code}", person_id, pxat=expires_ms)
    pipe.set(f"qr:e:{code}", "1", pxat=expires_ms)
    pipe.set(f"qr:i:{code}", "1", ex=_ISSUED_TTL_S)
    pipe.zremrangebyscore(live, "-inf", int(now.timestamp() * 1000))
    pipe.zadd(live, {code: expires_ms})
    pipe.zcard(live)
    pipe.expire(live, ttl_s + 5)
    held = pipe.execute()[5]
    if max_live is not None and held > max_live and _drop_used(redis, live) > max_live:
        take_back = redis.pipeline(transaction=True)
        take_back.zrem(live, code)
        take_back.delete(f"qr:c:{code}", f"qr:e:{code}", f"qr:i:{code}")
        take_back.execute()
        oldest = redis.zrange(live, 0, 0, withscores=True)
        wait_ms = int(oldest[0][1]) - int(now.timestamp() * 1000) if oldest else ttl_s * 1000
        retry_after_s = max(1, -(-wait_ms // 1000))
        error = AppError("too_many_live_codes", 429, max_live=max_live, retry_after_s=retry_after_s)
        error.headers["Retry-After"] = str(retry_after_s)
        raise error
    return IssuedCode(code=code, expires_at=expires_at)


def _person_codes(redis: Redis, live: str) -> list[str]:
    """Every code in a person's set ``qr:p:<person>``, live or used, oldest first."""
    return [c.decode() if isinstance(c, bytes) else str(c) for c in redis.zrange(live, 0, -1)]  # type: ignore[union-attr]


def _drop_used(redis: Redis, live: str) -> int:
    """Take used codes out of a person's live set (consuming leaves them there until they
    expire, to keep redemptions at one Redis command); how many are left."""
    codes = _person_codes(redis, live)
    pipe = redis.pipeline(transaction=False)
    for code in codes:
        pipe.exists(f"qr:c:{code}")
    used = [code for code, alive in zip(codes, pipe.execute(), strict=True) if not alive]
    if used:
        redis.zrem(live, *used)
    return int(redis.zcard(live))


def revoke_all(*, redis: Redis, person_id: str) -> int:
    """Void every live code of a person (their account was disabled): each answers 410
    ``qr_expired`` from now on, as a code past its time does. How many were live."""
    live = f"qr:p:{person_id}"
    codes = _person_codes(redis, live)
    pipe = redis.pipeline(transaction=True)
    for code in codes:
        pipe.delete(f"qr:c:{code}")
        pipe.delete(f"qr:e:{code}")
    pipe.delete(live)
    voided = pipe.execute()
    return sum(voided[0:-1:2])


def _dead_code_error(redis: Redis, code: str) -> Exception:
    if redis.exists(f"qr:e:{code}"):
        return Conflict("qr_already_used")
    if redis.exists(f"qr:i:{code}"):
        return Gone("qr_expired")
    return NotFound("qr_not_found")


def _check_format(code: str) -> str:
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        raise NotFound("qr_not_found")
    return code


def peek(*, redis: Redis, code: str) -> str:
    """The person behind a live code, without consuming it (merchant scan, eligibility check)."""
    code = _check_format(code)
    person_id = redis.get(f"qr:c:{code}")
    if person_id is None:
        raise _dead_code_error(redis, code)
    return person_id.decode() if isinstance(person_id, bytes) else str(person_id)


def consume(*, redis: Redis, code: str) -> str:
    """Use a code once: exactly one caller gets the person; the rest get 409 used or 410 expired."""
    code = _check_format(code)
    person_id = redis.getdel(f"qr:c:{code}")
    if person_id is None:
        raise _dead_code_error(redis, code)
    return person_id.decode() if isinstance(person_id, bytes) else str(person_id)


def live_codes(*, redis: Redis, person_id: str, now: dt.datetime | None = None) -> list[IssuedCode]:
    """The person's codes that are neither used nor expired."""
    now_ms = int((now or dt.datetime.now(dt.UTC)).timestamp() * 1000)
    entries: list[tuple[Any, float]] = redis.zrangebyscore(  # type: ignore[assignment]
        f"qr:p:{person_id}", now_ms, "+inf", withscores=True)
    if not entries:
        return []
    codes = [c.decode() if isinstance(c, bytes) else str(c) for c, _ in entries]
    pipe = redis.pipeline(transaction=False)
    for code in codes:
        pipe.exists(f"qr:c:{code}")
    alive = pipe.execute()
    return [
        IssuedCode(code=code, expires_at=dt.datetime.fromtimestamp(score / 1000, dt.UTC))
        for code, (_, score), is_alive in zip(codes, entries, alive, strict=True)
        if is_alive
    ]


# Any of the eight masks is valid (ISO/IEC 18004); trying all eight to pick the
# "best" costs two thirds of the render time and buys nothing measurable for a
# 30-character version-2 code (tests decode every rendering with zxing-cpp).
_MASK_PATTERN = 2


def render_png(code: str, box_size: int = 6) -> bytes:
    """A PNG of the code at error correction M (alphanumeric mode, version 2)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4,
                       mask_pattern=_MASK_PATTERN)
    qr.add_data(code, optimize=0)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()


def png_data_uri(code: str) -> str:
    return "data:image/png;base64," + base64.b64encode(render_png(code)).decode()
