"""Issue 7's measurement: seals and verifications per second, and the public verification endpoint.

1. **In process** (one thread, no I/O): a seal = canonical JSON of a realistic commitment document
   (about 1 KB, Chinese text) + SHA-256 + Ed25519 signature (``backend.commitments.sealing.seal``);
   a verification = SHA-256 of the stored bytes + Ed25519 verify (``sealing.verify_seal``), which is
   what ``valid`` costs on every public read. Also the whole public view in process
   (``service.public.commitment_view``: the seal joined to its commitment from PostgreSQL + verify).
2. **HTTP**: ``GET /api/v1/public/commitments/{public_id}`` of the product (no login; 200 signed
   commitments rotating) beside the harness's bare Flask endpoint (``bench.reference:bare_app()``,
   ``GET /bare``), interleaved rounds in the same run, both on gunicorn with 2 sync workers.

``BENCH_COMMITMENTS_DB`` / ``BENCH_COMMITMENTS_REDIS_DB`` run it on another database / Redis db than the
harness's shared ``bench`` / db 10.
"""

from __future__ import annotations

import os
from typing import Any

from bench import harness as h

COMMITMENTS = 200
ITERATIONS = int(os.environ.get("BENCH_COMMITMENTS_ITERATIONS", "5000"))
SEALS_TARGET = 2000.0  # seals/s in one thread
VERIFY_TARGET = 2000.0


def _own_namespace() -> None:
    name = os.environ.get("BENCH_COMMITMENTS_DB")
    if name:
        h.DATABASE_NAME = name
        h.DATABASE_URL = f"{h.PG_SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
        h.BENCH_ENV["DATABASE_URL"] = h.DATABASE_URL
    redis_db = os.environ.get("BENCH_COMMITMENTS_REDIS_DB")
    if redis_db:
        h.REDIS_URL = f"redis://127.0.0.1:6379/{int(redis_db)}"
        h.BENCH_ENV["REDIS_URL"] = h.REDIS_URL


def _document() -> dict[str, Any]:
    return {
        "v": 1, "kind": "commitment", "public_id": "ZF39GFBRKQB2JR4V", "type": "approval_substitute",
        "type_name": "审批替代（容缺受理）型", "title": "审批替代（容缺受理）型信用承诺书",
        "text": "本人申请办理食品经营许可，现缺少消防验收意见，承诺于2026-12-31前补齐，逾期未补齐的，"
                "同意撤销审批结果并记入信用记录。" * 4,
        "fields": {"matter": "食品经营许可", "missing": "消防验收意见", "due_date": "2026-12-31"},
        "template": {"id": "ctp_01M84E6QATNDKFFPYYZSJ4ARBK", "family_id": "ctp_01M84E6QATNDKFFPYYZSJ4ARBK",
                     "version": 3},
        "department": {"id": "org_01M84E6QATNDKFFPYYZSJ4ARBK", "name": "长沙市市场监督管理局"},
        "subject": {"kind": "person", "name": "张*", "id_number": "4301**********0012"},
        "signer": {"account_id": "acc_01M84E6QATNDKFFPYYZSJ4ARBK", "role": "self"},
        "signed_at": "2026-11-23T14:59:59Z", "valid_until": "2027-02-21T14:59:59Z",
    }


def _in_process() -> tuple[list[tuple[str, dict[str, float]]], int]:
    from backend.commitments import sealing

    key = sealing.generate_private_key()
    public = key.public_key()
    document = _document()
    data, digest, signature = sealing.seal(key, document)
    h.log(f"commitments: document {len(data)} bytes; {ITERATIONS} iterations each")
    return [
        ("canonical JSON only", h.timed(lambda: sealing.canonical_json(document), ITERATIONS)),
        ("seal (canonical JSON + SHA-256 + Ed25519 sign)", h.timed(lambda: sealing.seal(key, document), ITERATIONS)),
        ("verify (SHA-256 + Ed25519 verify)",
         h.timed(lambda: sealing.verify_seal(public, data, digest, signature), ITERATIONS)),
    ], len(data)


def _fixtures(fx: Any) -> list[str]:
    """A department, a template and COMMITMENTS commitments signed through the services."""
    from backend.actor import Actor
    from backend.commitments.service import commitments, templates

    department = fx.org("department")
    officer = fx.staff(department, "officer")
    template = templates.create_template(
        session=fx.session, actor=Actor(account_id=officer.account_id), department_id=department.id,
        type="approval_substitute", title="审批替代（容缺受理）型信用承诺书",
        text="本人申请办理{matter}，现缺少{missing}，承诺于{due_date}前补齐。",
        fields=[{"name": "matter"}, {"name": "missing"}, {"name": "due_date", "type": "date"}], validity_days=90)
    public_ids = []
    for user in fx.residents(COMMITMENTS // 4):
        actor = Actor(account_id=user.account_id, person_id=user.person_id, ip="127.0.0.1", user_agent="bench")
        for _ in range(4):
            draft = commitments.draft(session=fx.session, actor=actor, template_id=template.id,
                                      fields={"matter": "食品经营许可", "missing": "消防验收意见",
                                              "due_date": "2026-12-31"})
            sealed = commitments.sign(session=fx.session, settings=fx.settings, actor=actor, commitment_id=draft.id,
                                      password=h.PASSWORD)
            public_ids.append(sealed.public_id)
    return public_ids


def _rotating_paths_lua(paths: list[str]) -> str:
    items = ", ".join(h.lua_string(p) for p in paths)
    return (f"local paths = {{{items}}}\nlocal i = 0\n"
            "request = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n")


def main() -> None:
    _own_namespace()
    timings, doc_bytes = _in_process()
    h.log(f"commitments: preparing the database {h.DATABASE_NAME} (alembic upgrade heads)")
    h.prepare_database()
    h.flush_redis()
    with h.Fixtures(seed=7) as fx:
        h.log(f"commitments: signing {COMMITMENTS} commitments through the services")
        public_ids = _fixtures(fx)
        from backend.commitments.service import public

        view = h.timed(lambda: (public.commitment_view(session=fx.session, settings=fx.settings,
                                                       public_id=public_ids[0]), fx.session.rollback()),
                       min(ITERATIONS, 2000))
        timings.append(("public view in process (1 joined read on PostgreSQL + verify)", view))
        checked = public.commitment_view(session=fx.session, settings=fx.settings, public_id=public_ids[-1])
        fx.session.rollback()
        assert checked["valid"] is True
    paths = [f"/api/v1/public/commitments/{p}" for p in public_ids]
    with h.gunicorn("backend.wsgi:app") as app_srv, h.gunicorn("bench.reference:bare_app()") as bare_srv:
        status, body = h.http("GET", app_srv.url + paths[0])
        assert status == 200 and body["valid"] is True, (status, body)
        h.expect(200, "GET", bare_srv.url + "/bare")
        runs = h.interleave({
            "GET /api/v1/public/commitments/{id}": h.Load(app_srv.url + paths[0], app_srv,
                                                          {"lua": _rotating_paths_lua(paths)}),
            "GET /bare (bare Flask)": h.Load(bare_srv.url + "/bare", bare_srv),
        })
    product, bare = runs["GET /api/v1/public/commitments/{id}"], runs["GET /bare (bare Flask)"]
    share = h.paired_ratio(product, bare)

    report = h.Report("commitments", "Commitments: seals, verifications and public verification", method=(
        "Module `bench/commitments_seal.py`. "
        f"**In process**: one thread, `time.perf_counter` around each call, {ITERATIONS:,} iterations after 50 "
        f"warm-up calls, on a {doc_bytes:,}-byte commitment document (Chinese text, sorted keys, UTF-8). "
        "Rates are 1000 ÷ median ms (targets) and 1000 ÷ mean ms (includes preemption by other load). "
        f"**HTTP**: PostgreSQL database `{h.DATABASE_NAME}` freshly migrated, {COMMITMENTS} commitments "
        "signed through the services; product and the harness's bare Flask app each on gunicorn "
        "(`backend/gunicorn.conf.py`, 2 sync workers, 127.0.0.1); wrk 2 threads, "
        f"{h.CONNECTIONS} connections, the product's URL rotating over the {COMMITMENTS} public ids; "
        f"warm-up {h.WARMUP_S:g} s, then {h.ROUNDS} interleaved rounds of {h.DURATION_S:g} s. "
        "Each product request: one SELECT of the seal joined to its commitment by public id, SHA-256 + "
        "Ed25519 verify, JSON."
    ))
    report.table(["in process", "median ms", "p99 ms", "per second (1000 ÷ median)", "per second (1000 ÷ mean)"], [
        (label, t["median_ms"], t["p99_ms"], 1000 / t["median_ms"], 1000 / t["mean_ms"]) for label, t in timings])
    report.results_table([("GET /api/v1/public/commitments/{id}", h.median_result(product)),
                          ("GET /bare (bare Flask)", h.median_result(bare))], caption="HTTP (median of rounds)")
    # Targets on the median: on a shared machine the mean carries other processes' preemptions.
    seals_per_s = 1000 / timings[1][1]["median_ms"]
    verifies_per_s = 1000 / timings[2][1]["median_ms"]
    report.target(f"seals/s in one thread ≥ {SEALS_TARGET:,.0f}", seals_per_s >= SEALS_TARGET,
                  f"{seals_per_s:,.0f}")
    report.target(f"verifications/s in one thread ≥ {VERIFY_TARGET:,.0f}", verifies_per_s >= VERIFY_TARGET,
                  f"{verifies_per_s:,.0f}")
    report.note(f"Public verification endpoint at {share:.0%} of the bare Flask endpoint's requests/s "
                "(median of per-round ratios): the rest is the framework, the read and JSON.")
    report.write()


if __name__ == "__main__":
    main()
