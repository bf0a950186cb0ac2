"""A day in a town: the scenario mix of issue 8 under locust, beside the bare Flask endpoint.

One run on PostgreSQL + Redis, the product and bench/reference.py's bare app each served by
gunicorn (2 sync workers, 127.0.0.1). Locust (FastHttpUser, closed loop, no think time) runs
in a subprocess (bench/town_load.py, which holds the scenario mix) against the product for a
warm-up and a measured window, then against ``GET /bare`` with the same users; twice: busy
(BENCH_TOWN_USERS users: throughput, and latency that is mostly waiting in the queue of the
2 workers) and unhurried (one user per worker: latency that is each endpoint's own). Fixtures go
through the services: a village with a rule, clerk and approver, residents on its roll with
one approved award each; a merchant with a cashier and an offer (per-person limit and quota);
a hospital with a clinician and a policy.

Afterwards: ``points verify`` (points.service.verify) finds nothing; no code was used twice:
every second use of a redeemed code was refused 409 ``qr_already_used``, the redemption rows
written are exactly the first uses the load saw succeed (same ids, same persons), the offer's
quota and usage counters moved by as much.

Knobs: BENCH_TOWN_DURATION_S (the busy window, default 60, or BENCH_DURATION_S when only that
is set, for a quick look at every benchmark), BENCH_TOWN_SHORT_S (every other window, default:
the same, at most 20), BENCH_TOWN_USERS (default BENCH_CONNECTIONS), BENCH_TOWN_RESIDENTS
(default 200), BENCH_WARMUP_S.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness as h

DURATION_S = float(os.environ.get("BENCH_TOWN_DURATION_S") or os.environ.get("BENCH_DURATION_S") or "60")
SHORT_S = float(os.environ.get("BENCH_TOWN_SHORT_S") or min(DURATION_S, 20.0))
USERS = int(os.environ.get("BENCH_TOWN_USERS") or h.CONNECTIONS)
WORKERS = 2
RESIDENTS = int(os.environ.get("BENCH_TOWN_RESIDENTS") or "200")
QUOTA = 10_000_000
RULE_CODE = "help"
CHART = h.RESULTS_DIR / "day_in_town.png"


# --------------------------------------------------------------------------- fixtures


def _fixtures(fx: h.Fixtures) -> dict[str, Any]:
    """The town, built through the services; returns the part of the plan the load needs."""
    from backend.actor import Actor
    from points import service as points_service
    from scenarios.service import medical, offers

    village = fx.org("village")
    admin, clerk, approver = (fx.staff(village, role) for role in ("admin", "clerk", "approver"))
    residents = fx.residents(RESIDENTS)
    points_service.create_rule(session=fx.session, org_id=village.id, code=RULE_CODE, name="扶老助幼", points=5,
                               category="邻里互助")
    accounts = [points_service.add_resident(session=fx.session, settings=fx.settings,
                                            actor=Actor(account_id=admin.account_id), org_id=village.id,
                                            phone=user.phone).id for user in residents]
    # one approved award each, so every resident has a balance and ledger lines to read
    batch = points_service.submit_awards(session=fx.session, actor=Actor(account_id=clerk.account_id),
                                         org_id=village.id,
                                         items=[{"resident_id": a, "rule_code": RULE_CODE} for a in accounts])
    for item in batch["items"]:
        points_service.approve(session=fx.session, actor=Actor(account_id=approver.account_id),
                               org_id=village.id, award_id=item["id"])

    merchant = fx.org("merchant")
    cashier = fx.staff(merchant, "cashier")
    offer = offers.create_offer(session=fx.session, merchant_id=merchant.id, scenario="public_bikes",
                                title="压测免押骑行", benefit="免押金", min_level="A",
                                per_person_limit=1_000_000, period="day", total_quota=QUOTA)
    hospital = fx.org("hospital")
    clinician = fx.staff(hospital, "clinician")
    medical.put_policy(session=fx.session, settings=fx.settings, hospital_id=hospital.id, min_level="A",
                       lines_fen={"A": 100_000, "AA": 200_000, "AAA": 500_000}, repayment_days=30)
    return {
        "residents": [{"token": u.token, "person_id": u.person_id, "points_account_id": a}
                      for u, a in zip(residents, accounts, strict=True)],
        "village": {"id": village.id, "rule_code": RULE_CODE, "clerk_token": clerk.token,
                    "approver_token": approver.token},
        "merchant": {"id": merchant.id, "offer_id": offer.id},
        "cashier_token": cashier.token,
        "hospital": {"id": hospital.id, "clinician_token": clinician.token},
    }


# --------------------------------------------------------------------------- the load


@dataclass
class Level:
    """One load level: the mix against the product, then the bare endpoint, with as many users."""

    name: str
    users: int
    duration_s: float
    town: dict[str, Any] = field(default_factory=dict)
    bare: dict[str, Any] = field(default_factory=dict)


def _locust(server: h.Server, plan: dict[str, Any], *, mode: str, users: int, duration_s: float) -> dict[str, Any]:
    """Run bench/town_load.py in its own process against ``server``; its results, with CPU per request."""
    tag = f"{mode}-{users}"
    h.LOG_DIR.mkdir(parents=True, exist_ok=True)
    plan_path = h.LOG_DIR / f"day-in-town-{tag}-plan.json"
    out_path = h.LOG_DIR / f"day-in-town-{tag}-out.json"
    log_path = h.LOG_DIR / f"day-in-town-{tag}-locust.log"
    out_path.unlink(missing_ok=True)
    plan_path.write_text(json.dumps({**plan, "mode": mode, "host": server.url, "users": users,
                                     "warmup_s": h.WARMUP_S, "duration_s": duration_s, "out": str(out_path)}))
    h.log(f"locust {mode}: {users} users, warm-up {max(1.0, h.WARMUP_S):g} s, measured {duration_s:g} s "
          f"(log {log_path})")
    with open(log_path, "wb") as log_file, h.CpuMeter(server) as meter:
        proc = subprocess.run([sys.executable, "-m", "bench.town_load", str(plan_path)], cwd=h.ROOT,
                              stdout=log_file, stderr=subprocess.STDOUT, timeout=h.WARMUP_S + duration_s + 120)
    if proc.returncode != 0 or not out_path.exists():
        raise RuntimeError(f"locust {mode} failed ({proc.returncode}):\n{log_path.read_text(errors='replace')[-3000:]}")
    result: dict[str, Any] = json.loads(out_path.read_text())
    total = result["requests_total"] or 1  # the meter spans the whole process: warm-up and stop included
    result.update(app_cpu_ms=meter.app_ms / total, db_cpu_ms=meter.db_ms / total,
                  client_cpu_ms=result["cpu_s"] * 1000 / total, rps=sum(r["rps"] for r in result["endpoints"]))
    for row in result["endpoints"]:
        h.log(f"{row['name']}: {row['rps']:.1f} req/s p50 {row['p50_ms']:.1f} p95 {row['p95_ms']:.1f} "
              f"p99 {row['p99_ms']:.1f} ms, {row['failures']} failures")
    return result


# --------------------------------------------------------------------------- checks after the run


def _checks(fx: h.Fixtures, plan: dict[str, Any], ledgers: list[dict[str, list[Any]]]) -> dict[str, Any]:
    """points verify, and every way the database can show a code used twice."""
    from sqlalchemy import func, select

    from points import service as points_service
    from points.models import PointsAward
    from scenarios.models import Offer, OfferUsage, Redemption

    redeemed = [entry for ledger in ledgers for entry in ledger["redeemed"]]
    replays = [entry for ledger in ledgers for entry in ledger["replays"]]
    submitted = [award for ledger in ledgers for award in ledger["awards_submitted"]]
    approved_seen = sum(len(ledger["approved"]) for ledger in ledgers)
    session = fx.session
    session.rollback()
    rows = session.execute(select(Redemption.id, Redemption.person_id)
                           .where(Redemption.merchant_id == plan["merchant"]["id"])).all()
    remaining = session.scalar(select(Offer.remaining_quota).where(Offer.id == plan["merchant"]["offer_id"]))
    used = int(session.scalar(select(func.coalesce(func.sum(OfferUsage.used), 0))
                              .where(OfferUsage.offer_id == plan["merchant"]["offer_id"])) or 0)
    approved = int(session.scalar(select(func.count()).select_from(PointsAward)
                                  .where(PointsAward.id.in_(submitted), PointsAward.status == "approved")) or 0)
    problems = points_service.verify(session=session)
    session.rollback()
    return {
        "verify": problems,
        "redeemed": len(redeemed), "rows": len(rows), "quota_taken": QUOTA - (remaining or 0), "usage": used,
        "codes_twice_in_ledger": sum(1 for n in Counter(r["code"] for r in redeemed).values() if n > 1),
        "rows_match_ledger": dict(rows) == {r["redemption_id"]: r["person_id"] for r in redeemed},
        "replays": len(replays),
        "replays_refused": sum(1 for r in replays if r["status"] == 409 and r["problem"] == "qr_already_used"),
        "replays_won": sum(1 for r in replays if 200 <= r["status"] < 300),
        "approved_seen": approved_seen, "approved_rows": approved,
    }


def _no_code_twice(c: dict[str, Any]) -> bool:
    return (c["replays_won"] == 0 and c["replays_refused"] == c["replays"] and c["codes_twice_in_ledger"] == 0
            and c["rows_match_ledger"] and c["rows"] == c["redeemed"] == c["quota_taken"] == c["usage"])


# --------------------------------------------------------------------------- chart and report


def _chart(levels: list[Level], path: Path) -> None:
    """p50/p95/p99 bars per endpoint, one panel per load level (log scale: /bare and a redemption differ 10×+)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    rows_per_level = [level.town["endpoints"] + level.bare["endpoints"] for level in levels]
    # cheapest first, by the median of the last (least loaded) level
    labels = [r["name"] for r in sorted(rows_per_level[-1], key=lambda r: r["p50_ms"])]
    fig, axes = plt.subplots(1, len(levels), figsize=(7 * len(levels), 0.5 * len(labels) + 1.8), sharex=True,
                             sharey=True, squeeze=False)
    height = 0.27
    for ax, level, rows in zip(axes[0], levels, rows_per_level, strict=True):
        by_name = {r["name"]: r for r in rows}
        for i, key in enumerate(("p50", "p95", "p99")):
            ax.barh([y + (i - 1) * height for y in range(len(labels))],
                    [by_name[n][f"{key}_ms"] if n in by_name else 0 for n in labels], height=height, label=key)
        ax.set_xscale("log")
        ax.set_xlim(left=1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("latency, ms (log scale)")
        ax.set_title(f"{level.name}: {level.users} users, {level.town['rps']:,.0f} req/s", fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.3)
    axes[0][0].set_yticks(range(len(labels)), labels, fontsize=8)
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"A day in a town: latency per endpoint (locust, gunicorn {WORKERS} sync workers, PostgreSQL + Redis)",
                 fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _endpoint_table(report: h.Report, level: Level) -> None:
    town_rows, bare_rows = level.town["endpoints"], level.bare["endpoints"]
    total = sum(r["requests"] for r in town_rows) or 1
    shares = [f"{100 * r['requests'] / total:.1f} %" for r in town_rows] + ["–"] * len(bare_rows)
    report.table(["endpoint", "share", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "failures"], [
        (r["name"], share, r["requests"], r["rps"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["max_ms"], r["failures"])
        for r, share in zip(town_rows + bare_rows, shares, strict=True)],
        caption=f"{level.name}: {level.users} users, {level.town['elapsed_s']:.0f} s on the product, then "
                f"{level.bare['elapsed_s']:.0f} s on the bare Flask endpoint (last row)")


def _report(levels: list[Level], checks: dict[str, Any]) -> h.Report:
    busy = levels[0]
    report = h.Report("day_in_town", "A day in a town: the scenario mix under locust", method=(
        "The product (`backend.wsgi:app`) and the bare Flask app (`bench/reference.py:bare_app()`), each served "
        f"by gunicorn with `backend/gunicorn.conf.py`, {WORKERS} sync workers, on 127.0.0.1; PostgreSQL database "
        f"`{h.DATABASE_NAME}` freshly migrated, Redis db {h.REDIS_URL.rsplit('/', 1)[-1]}. Load: locust "
        "(FastHttpUser) in a subprocess (`bench/town_load.py`), closed-loop users without think time, all "
        f"started at once, a warm-up of {max(1.0, h.WARMUP_S):g} s, then the measured window; first the mix "
        "against the product, then `GET /bare` with as many users; at two levels: "
        + "; ".join(f"{level.name}, {level.users} users" for level in levels)
        + " (one per worker: each request finds a free worker, so its latency is the endpoint's own, "
        "locust included). The mix, as locust task weights: 70 a resident reads one of `GET /me`, "
        "`/me/credit`, `/me/points`, `/me/points/entries`, `/me/benefits`; 15 a resident issues a code "
        "(`POST /me/qr-codes`), the cashier scans it and redeems an offer with it (fresh Idempotency-Key), "
        "then tries the same code once more with another fresh key (must be 409 `qr_already_used`); 10 the "
        "village clerk submits an award and an approver approves it; 5 a resident issues a code and the "
        f"clinician checks hospital eligibility with it. {RESIDENTS} verified residents on the village roll, "
        "one approved award each; a merchant offer with a per-person limit and a quota; a hospital policy. "
        "Latency percentiles are exact (every request's own time in the window, nearest rank); req/s = "
        "requests finished in the window ÷ its length. CPU ms per request: gunicorn workers and their "
        "PostgreSQL backends (from /proc) and the locust process, over its whole run (warm-up included) ÷ "
        "all its requests. Locust shares the machine's CPUs with the server and the database."
    ))
    for level in levels:
        _endpoint_table(report, level)
    report.note(f"![Latency percentiles per endpoint]({CHART.name})")
    report.table(["load", "req/s", "app CPU ms/req", "DB CPU ms/req", "locust CPU ms/req"], [
        *((f"{name} ({level.name}, {level.users} users)", run["rps"], run["app_cpu_ms"], run["db_cpu_ms"],
           run["client_cpu_ms"])
          for level in levels for name, run in (("the mix", level.town), ("GET /bare", level.bare))),
        (f"mix ÷ bare ({busy.name})", h.ratio(busy.town["rps"], busy.bare["rps"]),
         h.ratio(busy.town["app_cpu_ms"], busy.bare["app_cpu_ms"]), float("nan"), float("nan")),
    ], caption="Throughput and CPU")
    report.note(f"With {busy.users} users on {WORKERS} sync workers a request waits behind about "
                f"{busy.users // WORKERS - 1} others, so the busy percentiles are mostly queueing and alike "
                "across endpoints; the unhurried ones show what each endpoint costs.")
    report.table(["check after the run", "value"], [
        ("`points verify` (points.service.verify)", "clean" if not checks["verify"] else "; ".join(checks["verify"])),
        ("awards approved: answers 200 seen = awards approved in the database",
         f"{checks['approved_seen']} = {checks['approved_rows']}"),
        ("redemptions: 201s seen = rows = quota taken = usage counted",
         f"{checks['redeemed']} = {checks['rows']} = {checks['quota_taken']} = {checks['usage']}"),
        ("rows are the 201s seen (same ids, same persons)", checks["rows_match_ledger"]),
        ("codes with two successful redemptions", checks["codes_twice_in_ledger"]),
        ("second uses refused 409 qr_already_used / attempted (2xx)",
         f"{checks['replays_refused']} / {checks['replays']} ({checks['replays_won']})"),
    ], caption="Consistency (both levels)")
    runs = [run for level in levels for run in (level.town, level.bare)]
    failures = sum(r["failures"] for run in runs for r in run["endpoints"])
    errors: dict[str, int] = {}
    for run in runs:
        errors.update(run["errors"])
    report.target("`points verify` passes", not checks["verify"],
                  "clean" if not checks["verify"] else f"{len(checks['verify'])} problem(s)")
    report.target("no code used twice", _no_code_twice(checks),
                  f"{checks['replays_refused']}/{checks['replays']} second uses refused; "
                  f"{checks['rows']} rows for {checks['redeemed']} codes")
    report.target("every award approved in the load is approved in the database",
                  checks["approved_seen"] == checks["approved_rows"],
                  f"{checks['approved_seen']} = {checks['approved_rows']}")
    report.target("every request answered as expected", failures == 0,
                  f"{failures} failures" + (f": {json.dumps(errors, ensure_ascii=False)}" if failures else ""))
    return report


# --------------------------------------------------------------------------- main


def main() -> None:
    h.log("day_in_town: preparing the bench database (alembic upgrade head)")
    h.prepare_database()
    h.flush_redis()
    levels = [Level("busy", USERS, DURATION_S), Level("unhurried", WORKERS, SHORT_S)]
    with h.Fixtures() as fx:
        plan = _fixtures(fx)
        with h.gunicorn("backend.wsgi:app", workers=WORKERS) as app_srv, \
                h.gunicorn("bench.reference:bare_app()", workers=WORKERS) as bare_srv:
            h.expect(200, "GET", app_srv.url + "/api/v1/me/points", headers={
                "Authorization": f"Bearer {plan['residents'][0]['token']}"})
            for level in levels:
                level.town = _locust(app_srv, plan, mode="town", users=level.users, duration_s=level.duration_s)
                level.bare = _locust(bare_srv, plan, mode="bare", users=level.users, duration_s=SHORT_S)
        checks = _checks(fx, plan, [level.town["ledger"] for level in levels])
    h.flush_redis()
    _chart(levels, CHART)
    _report(levels, checks).write()


if __name__ == "__main__":
    main()
