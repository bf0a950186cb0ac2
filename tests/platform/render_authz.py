"""Render the authorisation table (tests/platform/authz_table.py) into docs/authz.md.

    python -m tests.platform.render_authz

tests/platform/test_authz_matrix.py fails when docs/authz.md differs from what this writes.
"""

from __future__ import annotations

from pathlib import Path

from tests.platform import authz_table as authz

DOC = Path(__file__).resolve().parents[2] / "docs" / "authz.md"

_PEOPLE = {"anon": "anonymous", "resident_a": "resident A (the owner)", "resident_b": "resident B",
           "unverified": "unverified account", "admin": "platform admin"}

HEADER = """# Who may call what (authorisation matrix)

Generated from `tests/platform/authz_table.py` by `python -m tests.platform.render_authz`;
`tests/platform/test_authz_matrix.py` calls every endpoint of the URL map as every caller below and
fails on any cell that differs, on a route missing from the table and on a row whose route is gone.

**Callers.** anonymous (no token); resident A (verified; owns the personal objects: credit
records, objections, repairs, commitments, reports, and is on village A's points roll);
resident B (another verified resident); an unverified account; a platform admin; and every org
role — village admin/clerk/approver/cashier, merchant admin/cashier, hospital
admin/clinician/billing, department admin/officer, enterprise admin/signer — once in **the
org of the path** and once in **another org of the same kind** ("another village's clerk").
Staff accounts are not verified residents.

**Outcomes.** *Allowed* = the request got past authorisation: 2xx, or 400/409/410/422 on the
merits of the body, or a business 403/404 that is not about the caller (`not_eligible`,
`qr_not_found`). **401** = no or invalid token. **403** = a member of the org without the role
(or an account that is not verified / not an admin). **404** = everyone else: non-members of the
org (its existence is not revealed), objects of another org or person. *Object check* = the
holder of an allowed role in another org, with its **own** org in the path and the right org's
object: must get 404. *Wrong kind*: every non-public endpoint with an org in the path is also called by the
admin of an org of another kind with its own org id in the path; it must get 404 (not shown per
row).
"""
COLUMNS = """| Endpoint | Allowed | 403 | 401 | 404 | Object check | Notes |
|---|---|---|---|---|---|---|
"""


def _roles(kind: str, roles: list[str]) -> str:
    every = authz.KINDS[kind]
    return f"{kind} (any role)" if len(roles) == len(every) else f"{kind} {'/'.join(roles)}"


def describe(callers: list[str], *, rest: set[str] | None = None) -> str:
    """A short phrase for a set of callers, in the order of authz.CALLERS."""
    chosen = set(callers)
    if not chosen:
        return "—"
    if chosen == set(authz.CALLERS):
        return "everyone"
    if chosen == set(authz.CALLERS) - {"anon"}:
        return "every account"
    if rest is not None and chosen == rest:
        return "every other account"
    parts: list[str] = []
    if {"resident_a", "resident_b"} <= chosen:
        parts.append("verified residents")
        chosen -= {"resident_a", "resident_b"}
    parts += [_PEOPLE[p] for p in authz.PEOPLE if p in chosen]
    for where, label in (("", ""), ("other", "another ")):
        for kind in authz.KINDS:
            roles = [r for r in authz.KINDS[kind] if (f"{kind}.{r}@{where}" if where else f"{kind}.{r}") in chosen]
            if roles:
                parts.append(label + _roles(kind, roles))
    return ", ".join(parts)


def row(key: str, entry: authz.Rule) -> str:
    cells = {c: authz.expected(entry, c) for c in authz.CALLERS}
    accounts = {c for c in authz.CALLERS if c != "anon"}
    ok = [c for c, want in cells.items() if want == "ok"]
    allowed = ok if not entry.missing else [c for c in authz.CALLERS if authz.matches(entry.ok, c)]
    forbidden = [c for c, want in cells.items() if want == "403"]
    rest = accounts - set(allowed) - {c for c in accounts if authz.matches(entry.notfound, c)}
    not_found = [c for c, want in cells.items() if want == "404" and c not in allowed]
    if entry.missing:
        not_found_text = "everyone allowed (no such object)" + (", everyone else" if not_found else "")
    elif not_found:
        explicit = [c for c in not_found if authz.matches(entry.notfound, c)]
        others = "everyone else" if len(explicit) < len(not_found) else ""
        not_found_text = ", ".join(part for part in (describe(explicit) if explicit else "", others) if part)
    else:
        not_found_text = "—"
    idor = authz.idor_callers(key, entry)
    if not idor:
        object_check = "—"
    else:
        holders = describe([c.replace("@own", "@other") for c in idor])
        object_check = f"{holders}: {'allowed (not org-owned)' if entry.idor == 'ok' else '404'}"
    method, path = key.split(" ", 1)
    return (f"| `{method} {path}` | {describe(allowed)} | {describe(forbidden, rest=rest)} | "
            f"{'anonymous' if cells['anon'] == '401' else '—'} | {not_found_text} | {object_check} | "
            f"{entry.note} |")


def render() -> str:
    parts = [HEADER]
    for title, section in authz.SECTIONS.items():
        parts.append(f"\n## {title}\n\n{COLUMNS}")
        parts.extend(row(key, entry) + "\n" for key, entry in section.items())
    return "".join(parts)


def main() -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
