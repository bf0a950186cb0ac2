"""Issue 3's measurement: GET /me against the framework and framework + database ceilings, and QR codes.

One run, one server at a time (gunicorn, 2 sync workers, PostgreSQL ``bench`` +
Redis db 10), wrk with 32 connections on loopback after a short warm-up:

1. ``GET /bare`` (bench/reference.py): bare Flask JSON, the framework ceiling;
2. ``GET /reference`` (bench/reference.py): the same JWT verified + the account read
   by primary key with SQLAlchemy 2, a session per request: the framework + DB ceiling;
3. ``GET /api/v1/me`` of the product with a valid token of a verified resident
   (target: >= 0.7x the reference's req/s, p99 < 50 ms); for context also a staff
   account with two memberships;
4. resident code issue (Redis) + PNG rendering in process (target: median < 5 ms), and
   ``POST /api/v1/me/qr-codes`` over HTTP for context.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from bench import harness as h

ME_RATIO_TARGET = 0.7
ME_P99_TARGET_MS = 50.0
QR_MEDIAN_TARGET_MS = 5.0
QR_ITERATIONS = 2000


def _qr_in_process(fx: h.Fixtures, person_id: str) -> dict[str, dict[str, float]]:
    from backend.qr import service as qr

    ttl = fx.settings.qr_ttl_s
    redis = fx.redis
    return {
        "issue + PNG": h.timed(lambda: qr.render_png(qr.issue(redis=redis, person_id=person_id, ttl_s=ttl).code),
                               QR_ITERATIONS),
        "issue (Redis MULTI)": h.timed(lambda: qr.issue(redis=redis, person_id=person_id, ttl_s=ttl),
                                       QR_ITERATIONS),
        "render_png": h.timed(lambda: qr.render_png(qr.new_code()), QR_ITERATIONS),
        "issue + PNG data URI (as the endpoint)": h.timed(
            lambda: qr.png_data_uri(qr.issue(redis=redis, person_id=person_id, ttl_s=ttl).code), QR_ITERATIONS),
    }


def _sql_counts(fx: h.Fixtures, resident: h.User, staff: h.User) -> dict[str, list[str]]:
    import os

    from bench.reference import reference_app

    saved = {k: os.environ.get(k) for k in h.BENCH_ENV}
    os.environ.update(h.bench_env())  # reference_app() reads the environment, as under gunicorn
    try:
        ref_app = reference_app()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    counts = {
        "GET /reference": h.sql_per_request(ref_app, "GET", "/reference", headers=resident.headers),
        "GET /api/v1/me (resident)": h.sql_per_request(fx.app, "GET", "/api/v1/me", headers=resident.headers),
        "GET /api/v1/me (staff, 2 orgs)": h.sql_per_request(fx.app, "GET", "/api/v1/me", headers=staff.headers),
    }
    ref_app.extensions["engine"].dispose()
    for label, statements in counts.items():
        h.log(f"  {label}: {len(statements)} SQL statement(s)")
    return counts


def _short(statement: str) -> str:
    head, _, rest = statement.partition(" FROM ")
    table = rest.split(" ", 1)[0] if rest else ""
    return f"SELECT … FROM {table}" + (" JOIN …" if " JOIN " in rest else "") if head.startswith("SELECT") \
        else statement[:40]


def main() -> None:
    h.log("foundation: preparing the bench database (alembic upgrade heads)")
    h.prepare_database()
    h.flush_redis()
    with h.Fixtures() as fx:
        resident = fx.residents(1)[0]
        village, merchant = fx.org("village"), fx.org("merchant")
        staff = fx.staff(village, "clerk", "approver", verified=True)
        fx.grant(staff, merchant, "cashier")
        h.log(f"foundation: resident code issue + PNG in process ({QR_ITERATIONS} iterations each, Redis db 10)")
        qr_times = _qr_in_process(fx, resident.person_id or "")
        for label, stats in qr_times.items():
            h.log(f"  {label}: median {stats['median_ms']:.3f} ms (CPU {stats['cpu_median_ms']:.3f} ms), "
                  f"p99 {stats['p99_ms']:.3f} ms")
        sql = _sql_counts(fx, resident, staff)
    h.flush_redis()

    with contextlib.ExitStack() as stack:
        bare_srv = stack.enter_context(h.gunicorn("bench.reference:bare_app()"))
        ref_srv = stack.enter_context(h.gunicorn("bench.reference:reference_app()"))
        app_srv = stack.enter_context(h.gunicorn("backend.wsgi:app"))
        me_url, qr_url = app_srv.url + "/api/v1/me", app_srv.url + "/api/v1/me/qr-codes"
        assert h.expect(200, "GET", ref_srv.url + "/reference", headers=resident.headers)["id"] == resident.account_id
        assert h.expect(200, "GET", me_url, headers=resident.headers)["verified"] is True
        assert len(h.expect(200, "GET", me_url, headers=staff.headers)["memberships"]) == 2
        h.expect(201, "POST", qr_url, headers=resident.headers)
        runs = h.interleave({
            "bare": h.Load(bare_srv.url + "/bare", bare_srv),
            "reference": h.Load(ref_srv.url + "/reference", ref_srv, {"headers": resident.headers}),
            "me": h.Load(me_url, app_srv, {"headers": resident.headers}),
            "me_staff": h.Load(me_url, app_srv, {"headers": staff.headers}),
        })
        extra = h.interleave({
            "reference_c4": h.Load(ref_srv.url + "/reference", ref_srv, {"headers": resident.headers, "connections": 4}),
            "me_c4": h.Load(me_url, app_srv, {"headers": resident.headers, "connections": 4}),
            "qr": h.Load(qr_url, app_srv, {"method": "POST", "headers": resident.headers}),
        }, rounds=1)
        ref_c4, me_c4, qr_http = extra["reference_c4"][0], extra["me_c4"][0], extra["qr"][0]
    h.flush_redis()

    bare, reference, me, me_staff = (h.median_result(runs[k]) for k in ("bare", "reference", "me", "me_staff"))
    me_vs_ref = h.paired_ratio(runs["me"], runs["reference"])
    ref_vs_bare = h.paired_ratio(runs["reference"], runs["bare"])
    me_vs_bare = h.paired_ratio(runs["me"], runs["bare"])
    staff_vs_ref = h.paired_ratio(runs["me_staff"], runs["reference"])
    cpu_me_vs_ref = h.ratio(reference.cpu_ms, me.cpu_ms)
    qr_median = qr_times["issue + PNG"]["median_ms"]

    report = h.Report("foundation", "Foundation: GET /me against the framework ceilings; resident codes", method=(
        "Three servers side by side, each gunicorn with `backend/gunicorn.conf.py`, 2 sync workers, worker "
        "recycling off, on 127.0.0.1: the bare and reference apps of bench/reference.py (outside the product) and "
        "the product (`backend.wsgi:app`). PostgreSQL database `bench` freshly migrated, Redis db 10. "
        f"wrk: 2 threads, {h.CONNECTIONS} connections; each load warmed up {h.WARMUP_S:g} s, then measured "
        f"{h.DURATION_S:g} s in each of {h.ROUNDS} interleaved rounds (bare, reference, me, me staff; repeat). "
        "Figures are medians over the rounds; a req/s ratio is the median of the per-round ratios. "
        "CPU ms/req is the CPU time of the server's workers and of its PostgreSQL backends (from /proc) divided "
        "by the requests served: it moves much less than req/s when other work shares the machine. "
        "wrk, the servers, PostgreSQL and Redis share the same CPUs. The reference verifies the same JWT (HS256 "
        "pinned, iss/aud/exp) and reads the account by primary key with SQLAlchemy 2, a session per request, on "
        "an engine built like the product's (`backend.db.make_engine`, so the same pool and pre-ping). "
        "`GET /api/v1/me` uses one verified resident's token; the staff row an account with 3 roles in 2 orgs."
    ))
    report.results_table([
        ("GET /bare (bare Flask)", bare),
        ("GET /reference (JWT + 1 row by PK)", reference),
        ("GET /api/v1/me (resident)", me),
        ("GET /api/v1/me (staff, 2 orgs)", me_staff),
        ("GET /reference, 4 connections, 1 round", ref_c4),
        ("GET /api/v1/me (resident), 4 connections, 1 round", me_c4),
        ("POST /api/v1/me/qr-codes (issue + PNG), 1 round", qr_http),
    ], caption="HTTP (medians over the rounds)")
    report.table(["load", *(f"round {i + 1} req/s" for i in range(h.ROUNDS))],
                 [(label, *(r.requests_per_s for r in rs)) for label, rs in runs.items()],
                 caption="Every round")
    report.table(["ratio", "value"], [
        ("GET /me ÷ reference (req/s)", me_vs_ref),
        ("reference ÷ bare (req/s)", ref_vs_bare),
        ("GET /me ÷ bare (req/s)", me_vs_bare),
        ("GET /me staff ÷ reference (req/s)", staff_vs_ref),
        ("reference CPU/req ÷ GET /me CPU/req (capacity ratio when CPU-bound)", cpu_me_vs_ref),
    ], caption="Ratios")
    report.table(["request", "SQL statements", "which"], [
        (label, len(stmts), "; ".join(_short(x) for x in stmts)) for label, stmts in sql.items()
    ], caption="Database round trips per request (in process; plus one pre-ping, BEGIN and ROLLBACK each)")
    report.table(["in process", "median ms", "p90 ms", "p99 ms", "mean ms", "CPU median ms", "iterations"], [
        (label, s["median_ms"], s["p90_ms"], s["p99_ms"], s["mean_ms"], s["cpu_median_ms"], int(s["iterations"]))
        for label, s in qr_times.items()
    ], caption="Resident codes in process (backend.qr.service against Redis db 10)")
    report.target(f"GET /me ≥ {ME_RATIO_TARGET}× reference req/s", me_vs_ref >= ME_RATIO_TARGET,
                  f"{me_vs_ref:.2f}× ({me.requests_per_s:,.0f} vs {reference.requests_per_s:,.0f} req/s; "
                  f"by CPU/req {cpu_me_vs_ref:.2f}×)")
    report.target(f"GET /me p99 < {ME_P99_TARGET_MS:g} ms", me.p99_ms < ME_P99_TARGET_MS, f"{me.p99_ms:.1f} ms")
    report.target("GET /me: no errors, no non-2xx", me.errors == 0 and me.non_2xx == 0,
                  f"{me.errors} errors, {me.non_2xx} non-2xx")
    report.target(f"resident code issue + PNG median < {QR_MEDIAN_TARGET_MS:g} ms", qr_median < QR_MEDIAN_TARGET_MS,
                  f"{qr_median:.2f} ms")
    notes = Path(__file__).with_name("foundation_notes.md")
    if notes.exists():
        report.note(notes.read_text())
    report.write()


if __name__ == "__main__":
    main()
