"""Commitment templates: publish, edit (new version), list; field rules and text rendering."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Any

import re2
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.commitments.models import COMMITMENT_TYPES, FIELD_TYPES, CommitmentTemplate
from backend.db import new_id, rowcount, utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.identity import service as identity_service
from backend.pagination import Page, paginate
from backend.text import has_bidi_controls, has_visible

SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")
MAX_VALUE_LENGTH = 500
_EXPECTED = {"string": "text", "integer": "integer", "number": "number", "date": "YYYY-MM-DD",
             "boolean": "true/false"}  # machine words, read in either language's detail


def check_fields(fields: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Normalise field definitions; every ``{slot}`` of the text must be a defined field."""
    names: set[str] = set()
    normalised = []
    for definition in fields:
        name = definition["name"]
        if not FIELD_NAME.match(name):
            raise Invalid("invalid_template", reason=f"field name {name!r}: lower-case letters, digits, _")
        if name in names:
            raise Invalid("invalid_template", reason=f"duplicate field {name!r}")
        names.add(name)
        kind = definition.get("type", "string")
        if kind not in FIELD_TYPES:
            raise Invalid("invalid_template", reason=f"field {name!r}: type must be one of {', '.join(FIELD_TYPES)}")
        item: dict[str, Any] = {"name": name, "type": kind, "required": bool(definition.get("required", True))}
        pattern = definition.get("pattern")
        if pattern:
            if kind != "string":
                raise Invalid("invalid_template", reason=f"field {name!r}: pattern applies to string fields only")
            try:
                _pattern(pattern)
            except re2.error as exc:
                reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
                raise Invalid("invalid_template", reason=f"field {name!r}: bad pattern ({reason})") from exc
            item["pattern"] = pattern
        if definition.get("label"):
            item["label"] = definition["label"]
        normalised.append(item)
    for slot in SLOT.findall(text):
        if slot not in names:
            raise Invalid("invalid_template", reason=f"slot {{{slot}}} has no field definition")
    return normalised


_RE2 = re2.Options()
_RE2.log_errors = False

@functools.lru_cache(maxsize=512)
def _pattern(pattern: str) -> Any:
    """A field's pattern compiled by RE2: matching takes time linear in the value, whatever the
    pattern (Python's backtracking ``re`` takes exponential time on ``(a+)+b``, holding the GIL, so
    one template could stall the server). RE2 syntax, plus ``\\uXXXX``: no backreferences or
    lookarounds; ``\\d`` and ``\\w`` are ASCII (``\\p{Han}``, ``\\p{L}`` for other scripts)."""
    return re2.compile(_UNICODE_ESCAPE.sub(_code_point, pattern), options=_RE2)


# ``\u4e00`` (as JSON Schema and JavaScript patterns write a code point) is ``\x{4e00}`` in RE2, and
# a surrogate pair ``\ud83d\ude00`` is the one code point it encodes, ``\x{1f600}``.
_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9A-Fa-f]{2})\\u([dD][c-fC-F][0-9A-Fa-f]{2})"
                             r"|(?<!\\)((?:\\\\)*)\\u([0-9A-Fa-f]{4})")


def _code_point(match: re.Match[str]) -> str:
    if match.group(2):
        high, low = int(match.group(2), 16), int(match.group(3), 16)
        return f"{match.group(1)}\\x{{{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):x}}}"
    if 0xD800 <= int(match.group(5), 16) <= 0xDFFF:  # half a pair: no character
        raise re2.error(b"lone surrogate escape")
    return f"{match.group(4)}\\x{{{match.group(5)}}}"


_FIRST_DAY, _LAST_DAY = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _check_value(definition: dict[str, Any], value: Any) -> Any:
    kind, name = definition["type"], definition["name"]
    bad = Invalid("invalid_field_value", field=name, expected=_EXPECTED[kind])
    if kind == "string":
        # blank, or only invisible characters (a zero-width space reads blank in the sealed text)
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH or not has_visible(value):
            raise bad
        value = value.strip()
        if has_bidi_controls(value):  # sealed text must read as it is stored
            raise Invalid("invalid_field_value", field=name, expected="text without bidirectional control characters")
        if definition.get("pattern"):
            try:
                pattern = _pattern(definition["pattern"])
            except re2.error as exc:  # stored before patterns were RE2 (a lookaround): republish the template
                raise Conflict("template_pattern_unusable", field=name) from exc
            if not pattern.fullmatch(value):
                raise Invalid("invalid_field_value", field=name, expected=definition["pattern"])
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 10**15:
            raise bad
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise bad
        return value
    if kind == "date":
        if not isinstance(value, str) or len(value) != 10:
            raise bad
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise bad from exc
        if not _FIRST_DAY <= day <= _LAST_DAY:  # "承诺在0001-01-01前…" is no date a person means
            raise Invalid("invalid_field_value", field=name, expected="1900-01-01..2100-12-31")
        return day.isoformat()
    if not isinstance(value, bool):
        raise bad
    return value


def check_values(definitions: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """The filled values, checked against the template's field definitions."""
    known = {d["name"]: d for d in definitions}
    for name in values:
        if name not in known:
            raise Invalid("unknown_field", field=name)
    checked: dict[str, Any] = {}
    for name, definition in known.items():
        value = values.get(name)
        if value is None or value == "":
            if definition.get("required", True):
                raise Invalid("missing_field", field=name)
            continue
        checked[name] = _check_value(definition, value)
    return checked


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def render(text: str, values: dict[str, Any]) -> str:
    """Replace each ``{field}`` slot by its value (no format-string evaluation)."""
    return SLOT.sub(lambda m: _display(values[m.group(1)]) if m.group(1) in values else "", text)


def check_readable(**texts: str | None) -> None:
    """A template's or a paper commitment's title and text carry no bidirectional controls: sealed
    text reads as it is stored (422 ``bidi_control``)."""
    for name, value in texts.items():
        if value and has_bidi_controls(value):
            raise Invalid("bidi_control", field=name)


def create_template(*, session: Session, actor: Actor, department_id: str, type: str, title: str,  # noqa: A002
                    text: str, fields: list[dict[str, Any]], validity_days: int) -> CommitmentTemplate:
    if type not in COMMITMENT_TYPES:
        raise Invalid("invalid_template", reason=f"type must be one of {', '.join(COMMITMENT_TYPES)}")
    check_readable(title=title, text=text)
    template_id = new_id("ctp")
    template = CommitmentTemplate(id=template_id, family_id=template_id, version=1, is_current=True,
                                  department_id=department_id, type=type, title=title, text=text,
                                  fields=check_fields(fields, text), validity_days=validity_days,
                                  created_by=actor.account_id, created_at=utcnow())
    session.add(template)
    session.commit()
    return template


def edit_template(*, session: Session, actor: Actor, department_id: str, template_id: str,
                  title: str | None = None, text: str | None = None, fields: list[dict[str, Any]] | None = None,
                  validity_days: int | None = None) -> CommitmentTemplate:
    """A new version of the template; commitments keep the version they were drafted from."""
    old = get_template(session=session, template_id=template_id, department_id=department_id)
    if not old.is_current:
        current = current_version(session=session, family_id=old.family_id)
        raise Conflict("template_superseded", current_id=current.id if current else None)
    new_text = text if text is not None else old.text
    check_readable(title=title, text=new_text)
    new_fields = check_fields(fields if fields is not None else old.fields, new_text)
    if not rowcount(session, update(CommitmentTemplate)
                    .where(CommitmentTemplate.id == old.id, CommitmentTemplate.is_current.is_(True))
                    .values(is_current=False)):
        raise Conflict("template_superseded", current_id=None)
    template = CommitmentTemplate(id=new_id("ctp"), family_id=old.family_id, version=old.version + 1,
                                  is_current=True, department_id=department_id, type=old.type,
                                  title=title if title is not None else old.title, text=new_text,
                                  fields=new_fields,
                                  validity_days=validity_days if validity_days is not None else old.validity_days,
                                  created_by=actor.account_id, created_at=utcnow())
    session.add(template)
    session.commit()
    return template


def current_version(*, session: Session, family_id: str) -> CommitmentTemplate | None:
    return session.scalars(select(CommitmentTemplate).where(CommitmentTemplate.family_id == family_id,
                                                            CommitmentTemplate.is_current.is_(True))).first()


def get_template(*, session: Session, template_id: str, department_id: str | None = None) -> CommitmentTemplate:
    template = session.get(CommitmentTemplate, template_id)
    if template is None or (department_id is not None and template.department_id != department_id):
        raise NotFound("template_not_found")
    return template


def list_templates(*, session: Session, department_id: str, type: str | None, limit: int,  # noqa: A002
                   cursor: str | None) -> Page:
    """A department's current templates (public); 404 when there is no such department."""
    department = identity_service.find_org(session=session, org_id=department_id)
    if department is None or department.kind != "department":
        raise NotFound("org_not_found")
    stmt = select(CommitmentTemplate).where(CommitmentTemplate.department_id == department_id,
                                            CommitmentTemplate.is_current.is_(True))
    if type:
        stmt = stmt.where(CommitmentTemplate.type == type)
    return paginate(session, stmt, CommitmentTemplate.id, limit=limit, cursor=cursor)
