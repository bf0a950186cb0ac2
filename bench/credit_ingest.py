"""Issue 4's measurement: credit record ingestion and GET /me/credit.

One run on PostgreSQL + gunicorn (2 sync workers):

1. **Batch ingestion**: 100,000 records (100 calls of 1,000) through
   ``POST /api/v1/departments/{id}/records:batch`` of the product, two client threads (one per
   worker). Each call validates every item, resolves ID numbers through the blind index
   (creating the persons seen first, most of them without an account, in a short transaction of
   their own), inserts the records with ON CONFLICT DO NOTHING, and recomputes and stores the
   score snapshot of every subject it touched, in one transaction. Records/s = 100,000 ÷ wall time; the CPU the gunicorn workers
   and the database's PostgreSQL backends spent per call is measured too (steadier than the
   rate on a shared machine).
2. **Plain INSERT** of the same 100,000 rows (same columns, person ids already resolved) into a
   copy of ``credit_records`` (``CREATE TABLE ... (LIKE credit_records INCLUDING ALL)``), 1,000
   rows per multi-row INSERT and transaction, two threads: the database's ceiling for the rows.
3. **GET /me/credit** (product) vs the harness's reference endpoint (JWT + one primary-key read,
   ``bench/reference.py``), wrk, interleaved rounds, 50 residents' tokens rotating.

``BENCH_CREDIT_RECORDS`` (default 100000) and ``BENCH_CREDIT_DB`` (default: the harness's ``bench``)
change the size and the database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import harness as h

RECORDS = int(os.environ.get("BENCH_CREDIT_RECORDS", "100000"))
PER_CALL = 1000
PEOPLE = max(RECORDS // 5, 1)  # about five records per person
THREADS = 2
INGEST_TARGET = 5000.0
READ_RATIO_TARGET = 0.7
CATEGORIES = [  # (category, polarity, severity)
    ("utility_payment", "positive", None), ("volunteer_service", "positive", None),
    ("administrative_license", "positive", None), ("administrative_penalty", "negative", "general"),
    ("administrative_penalty", "negative", "minor"), ("contract_performance", "positive", None),
    ("honour", "positive", None), ("medical_credit_default", "negative", "general"),
]


def _own_database() -> None:
    name = os.environ.get("BENCH_CREDIT_DB")
    if not name:
        return
    h.DATABASE_NAME = name
    h.DATABASE_URL = f"{h.PG_SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    h.BENCH_ENV["DATABASE_URL"] = h.DATABASE_URL


def _items(rng: random.Random) -> list[dict[str, Any]]:
    people = sorted({h.valid_id_number(rng) for _ in range(PEOPLE * 2)})[:PEOPLE]
    rng.shuffle(people)
    base = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    items = []
    for i in range(RECORDS):
        category, polarity, severity = CATEGORIES[i % len(CATEGORIES)]
        item: dict[str, Any] = {
            "id_number": people[rng.randrange(len(people))], "category": category, "polarity": polarity,
            "source_ref": f"BENCH-{i:07d}",
            "occurred_at": (base + dt.timedelta(minutes=rng.randrange(390 * 24 * 60))).isoformat(),
            "decision": f"压测记录 {i}",
        }
        if severity:
            item["severity"] = severity
        items.append(item)
    return items


def _ingest(url: str, headers: dict[str, str], items: list[dict[str, Any]]) -> tuple[float, list[float], dict[str, int]]:
    bodies = [json.dumps({"records": items[i:i + PER_CALL]}).encode() for i in range(0, len(items), PER_CALL)]
    latencies: list[float] = []
    counts = {"created": 0, "duplicate": 0, "error": 0}
    lock = threading.Lock()

    def send(body: bytes) -> None:
        start = time.perf_counter()
        payload = h.expect(200, "POST", url, headers=headers, body=body, timeout_s=120)
        elapsed = (time.perf_counter() - start) * 1000
        with lock:
            latencies.append(elapsed)
            for key in counts:
                counts[key] += int(payload[key])

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(send, bodies))
    return time.perf_counter() - start, latencies, counts


def _plain_insert(fx: h.Fixtures, items: list[dict[str, Any]], source_org_id: str) -> float:
    """The same rows as plain multi-row INSERTs (persons already resolved), 1,000 per transaction."""
    from sqlalchemy import MetaData, Table, insert, text

    from backend.credit.models import CreditCategory
    from backend.credit.service import core
    from backend.db import new_id
    from backend.identity import service as identity_service
    from backend.identity.models import Person

    session = fx.session
    session.execute(text("CREATE TABLE bench_plain_records (LIKE credit_records INCLUDING ALL)"))
    session.commit()
    cats = {c.code: c for c in session.query(CreditCategory)}
    blinds = {identity_service.blind_index(settings=fx.settings, id_number=n) for n in {i["id_number"] for i in items}}
    person_by_blind = dict(session.query(Person.id_blind, Person.id).filter(Person.id_blind.in_(blinds)).all())
    rows = []
    for item in items:
        occurred = dt.datetime.fromisoformat(item["occurred_at"])
        cat = cats[item["category"]]
        rows.append({
            "id": new_id("crr"), "person_id": person_by_blind[identity_service.blind_index(
                settings=fx.settings, id_number=item["id_number"])],
            "org_id": None, "category": item["category"], "polarity": item["polarity"],
            "severity": item.get("severity"), "source_org_id": source_org_id, "source_ref": item["source_ref"],
            "occurred_at": occurred, "decision": item["decision"],
            "publicity_end": core.publicity_end(cat, item["polarity"], item.get("severity"), occurred),
            "status": "active", "created_at": occurred, "updated_at": occurred,
        })
    session.rollback()
    engine = fx.app.extensions["engine"]
    table = Table("bench_plain_records", MetaData(), autoload_with=engine)
    chunks = [rows[i:i + PER_CALL] for i in range(0, len(rows), PER_CALL)]

    def write(chunk: list[dict[str, Any]]) -> None:
        with engine.begin() as conn:
            conn.execute(insert(table), chunk)  # executemany: batched multi-row VALUES

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(write, chunks))
    return time.perf_counter() - start


def _checks(fx: h.Fixtures, source_org_id: str) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from backend.credit.models import CreditRecord, CreditStanding, ScoreSnapshot

    s = fx.session
    s.rollback()
    out = {
        "records": s.scalar(select(func.count()).select_from(CreditRecord)
                            .where(CreditRecord.source_org_id == source_org_id)),
        "subjects": s.scalar(select(func.count(func.distinct(CreditRecord.person_id)))),
        "standings": s.scalar(select(func.count()).select_from(CreditStanding)),
        "snapshots": s.scalar(select(func.count()).select_from(ScoreSnapshot)),
        "plain": s.scalar(text("SELECT count(*) FROM bench_plain_records")),
    }
    s.rollback()
    return out


def main() -> None:
    _own_database()
    h.log(f"credit: preparing the database {h.DATABASE_NAME} (alembic upgrade heads)")
    h.prepare_database()
    rng = random.Random(20261123)
    with h.Fixtures(seed=4) as fx:
        department = fx.org("department")
        officer = fx.staff(department, "officer")
        residents = fx.residents(50)
        items = _items(rng)
        dept_id = department.id
        headers = {**officer.headers, "Content-Type": "application/json"}
        url_path = f"/api/v1/departments/{dept_id}/records:batch"
        with h.gunicorn("backend.wsgi:app") as app_srv:
            h.log(f"credit: ingesting {RECORDS:,} records, {PER_CALL} per call, {THREADS} threads")
            with h.CpuMeter(app_srv) as cpu:
                elapsed, latencies, counts = _ingest(app_srv.url + url_path, headers, items)
            h.log(f"credit: ingest {RECORDS / elapsed:,.0f} records/s ({elapsed:.1f} s) {counts}; CPU per call "
                  f"app {cpu.app_ms * PER_CALL / RECORDS:.0f} ms + db {cpu.db_ms * PER_CALL / RECORDS:.0f} ms")
            _, _, again = _ingest(app_srv.url + url_path, headers, items[:PER_CALL * 2])
            h.log("credit: plain INSERT of the same rows")
            plain_s = _plain_insert(fx, items, dept_id)
            h.log(f"credit: plain {RECORDS / plain_s:,.0f} rows/s ({plain_s:.1f} s)")
            checks = _checks(fx, dept_id)

            with h.gunicorn("bench.reference:reference_app()") as ref_srv:
                header_sets = [u.headers for u in residents]
                h.expect(200, "GET", app_srv.url + "/api/v1/me/credit", headers=header_sets[0])
                h.expect(200, "GET", ref_srv.url + "/reference", headers=header_sets[0])
                lua = h.rotating_headers_lua(header_sets)
                runs = h.interleave({
                    "GET /me/credit": h.Load(app_srv.url + "/api/v1/me/credit", app_srv, {"lua": lua}),
                    "GET /reference (JWT + PK read)": h.Load(ref_srv.url + "/reference", ref_srv, {"lua": lua}),
                })

    rate, plain_rate = RECORDS / elapsed, RECORDS / plain_s
    calls = RECORDS / PER_CALL
    me, ref = runs["GET /me/credit"], runs["GET /reference (JWT + PK read)"]
    read_ratio = h.paired_ratio(me, ref)
    latencies.sort()
    report = h.Report("credit", "Credit: batch ingestion and GET /me/credit", method=(
        f"PostgreSQL database `{h.DATABASE_NAME}` freshly migrated; product served by gunicorn with "
        "`backend/gunicorn.conf.py`, 2 sync workers, on 127.0.0.1. "
        f"**Ingestion**: {RECORDS:,} records in {RECORDS // PER_CALL} calls of {PER_CALL:,} to "
        f"`POST /api/v1/departments/{{id}}/records:batch`, {THREADS} client threads (urllib), about "
        f"{PEOPLE:,} distinct ID numbers (persons created on first sight through the blind index, no accounts), "
        "8 categories mixed (positive and negative). Each call: per-item validation, blind-index lookups "
        "(new persons inserted and committed in a short transaction of their own), INSERT ... ON CONFLICT "
        "DO NOTHING RETURNING, records read and scores computed, standing rows locked in subject order "
        "(subjects changed meanwhile by another call read and scored again), a snapshot stored for every "
        "subject touched, one commit. CPU per call = "
        "utime + stime of the gunicorn workers and of the database's PostgreSQL backends over the ingestion "
        "÷ calls (the client and other processes excluded); the ceiling is what 2 CPUs doing nothing else "
        "would sustain at that CPU per call. "
        f"**Plain INSERT**: the same rows (persons resolved beforehand) into a copy of `credit_records` "
        f"(`LIKE credit_records INCLUDING ALL`, same indexes), {PER_CALL:,} rows per multi-row INSERT and "
        f"transaction, {THREADS} threads, SQLAlchemy Core on the product's engine. "
        f"**Reads**: wrk 2 threads, {h.CONNECTIONS} connections, 50 residents' tokens rotating; warm-up "
        f"{h.WARMUP_S:g} s, then {h.ROUNDS} interleaved rounds of {h.DURATION_S:g} s; ratio = median of "
        "per-round ratios."
    ))
    report.table(["figure", "value"], [
        ("records through the batch endpoint", RECORDS),
        ("wall time (s)", elapsed),
        ("records/s (incl. score recomputation)", rate),
        ("per call of 1,000: median / p90 / max ms",
         f"{statistics.median(latencies):.0f} / {latencies[int(len(latencies) * 0.9) - 1]:.0f} / "
         f"{latencies[-1]:.0f}"),
        ("CPU per call of 1,000: app (gunicorn workers) + DB (PostgreSQL backends) ms",
         f"{cpu.app_ms / calls:.0f} + {cpu.db_ms / calls:.0f}"),
        ("CPU ceiling on 2 CPUs at that CPU per call, records/s", 2 * RECORDS * 1000 / (cpu.app_ms + cpu.db_ms)),
        ("plain INSERT rows/s (same rows)", plain_rate),
        ("batch ÷ plain INSERT", rate / plain_rate),
        ("results: created / duplicate / error", f"{counts['created']} / {counts['duplicate']} / {counts['error']}"),
        ("re-sending the first 2,000: duplicates", again["duplicate"]),
        ("records stored / subjects / standings / snapshots",
         f"{checks['records']} / {checks['subjects']} / {checks['standings']} / {checks['snapshots']}"),
    ], caption="Ingestion")
    report.results_table([("GET /me/credit (product)", h.median_result(me)),
                          ("GET /reference (JWT + PK read)", h.median_result(ref))],
                         caption="Reads (medians over the rounds)")
    report.target(f"ingestion ≥ {INGEST_TARGET:,.0f} records/s including recomputation", rate >= INGEST_TARGET,
                  f"{rate:,.0f} records/s ({rate / plain_rate:.2f}× plain INSERT at {plain_rate:,.0f} rows/s)")
    report.target("every record created once", counts["created"] == RECORDS == checks["records"]
                  and again["duplicate"] == PER_CALL * 2, f"{checks['records']} stored")
    report.target(f"GET /me/credit ≥ {READ_RATIO_TARGET}× the reference", read_ratio >= READ_RATIO_TARGET,
                  f"{read_ratio:.2f}× ({h.median_result(me).requests_per_s:,.0f} vs "
                  f"{h.median_result(ref).requests_per_s:,.0f} req/s)")
    report.note(
        "Where a 1,000-record call goes (in process, Flask test client on PostgreSQL, the 21st to 30th "
        "calls of this data; CPU ms, Python + PostgreSQL): request checks and per-item validation ~40 + 0; "
        "blind indexes, person lookups and new persons ~20 + ~6; the records' INSERT ... ON CONFLICT ~20 + ~45 "
        "(of which ~23 the four foreign-key checks per row and ~10 parsing the JSON rows); standings and "
        "the subjects' records read, scores computed and reasons rendered ~60 + ~25; the snapshots' INSERT "
        "and standings' UPDATE (one statement, one JSON payload) ~22 + ~37; id generation (python-ulid, "
        "~7 µs an id, 2,000 ids) ~20 and the garbage collector's full passes ~18 spread over all of it. "
        "Every set of keys goes as one array parameter (`= ANY(:keys)`), never as an IN list of 1,000 "
        "placeholders, and only records already stored (a retry, a concurrent twin batch) are looked up "
        "again. Concurrency: new persons are inserted in a short transaction of their own (otherwise the "
        "second of two calls naming the same new person waits for the first call's commit: that wait held "
        "one of the two workers ~2/3 of the time); scores are computed before the standings are locked "
        "(`SELECT ... FOR UPDATE` in subject order, so never a deadlock) and recomputed under the lock only "
        "for subjects whose standing another transaction changed meanwhile, so every stored snapshot is "
        "consistent with the committed records while two overlapping calls queue only for their writes. The "
        "machine is 2 vCPUs shared with the other benchmarks and test suites of the same session "
        "(see the load average), so absolute figures are low for both the product and the plain INSERT.")
    report.write()


if __name__ == "__main__":
    main()
