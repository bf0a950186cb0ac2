"""The load generator of bench/day_in_town.py: locust users living a day in a town.

Run in its own process, ``python -m bench.town_load <plan.json>``, because importing
locust patches the standard library for gevent, which the harness process must not be.
The plan (written by day_in_town.py) names the server, the users, the durations and the
fixtures (tokens, org ids); the process writes ``plan["out"]``: per endpoint the
requests, failures and exact latency percentiles of the measured window (from every
request's own timing, not locust's rounded histogram), the requests of the whole run,
this process's CPU time, and a ledger of what the load did, for the checks afterwards.

The scenario mix is locust task weights on one closed-loop user class (no think time):

- 70: a resident reads one of READS (scores, points, ledger lines, benefits);
- 15: a resident issues a code, the cashier scans it, redeems an offer with it
  (fresh Idempotency-Key), then tries the same code again with another fresh key,
  which must be refused 409 ``qr_already_used``;
- 10: the village clerk submits an award for a resident, an approver approves it;
- 5: a resident issues a code, the hospital clinician checks eligibility with it.

A plan with ``"mode": "bare"`` loads ``GET /bare`` of bench/reference.py instead, with the same users.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, task
from locust.env import Environment

READS = ("/api/v1/me", "/api/v1/me/credit", "/api/v1/me/points", "/api/v1/me/points/entries", "/api/v1/me/benefits")
REPLAY = "POST /merchants/{id}/redemptions (same code, new key)"

PLAN: dict[str, Any] = {}
LEDGER: dict[str, list[Any]] = {"redeemed": [], "replays": [], "approved": [], "awards_submitted": []}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _problem_code(response: Any) -> str | None:
    """The ``code`` of a problem+json answer (None for a success or an unreadable body)."""
    try:
        return response.json().get("code") if response.status_code >= 400 else None
    except (ValueError, TypeError, AttributeError):
        return None


class Townsfolk(FastHttpUser):
    """One person at a time of the town: a resident, or the cashier, clerk or clinician serving one."""

    wait_time = constant(0)

    def _resident(self) -> dict[str, Any]:
        resident: dict[str, Any] = random.choice(PLAN["residents"])
        return resident

    def _issue_code(self, resident: dict[str, Any]) -> str | None:
        with self.client.post("/api/v1/me/qr-codes", headers=_bearer(resident["token"]), name="POST /me/qr-codes",
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return None
            code: str = response.json()["code"]
            return code

    @task(70)
    def read_my_standing(self) -> None:
        path = random.choice(READS)
        self.client.get(path, headers=_bearer(self._resident()["token"]), name=f"GET {path.removeprefix('/api/v1')}")

    @task(15)
    def redeem_at_the_counter(self) -> None:
        resident = self._resident()
        code = self._issue_code(resident)
        if code is None:
            return
        merchant = PLAN["merchant"]
        cashier = _bearer(PLAN["cashier_token"])
        base = f"/api/v1/merchants/{merchant['id']}"
        self.client.post(base + "/scans", json={"code": code}, headers=cashier, name="POST /merchants/{id}/scans")
        body = {"code": code, "offer_id": merchant["offer_id"]}
        with self.client.post(base + "/redemptions", json=body, name="POST /merchants/{id}/redemptions",
                              headers={**cashier, "Idempotency-Key": uuid.uuid4().hex},
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return
            LEDGER["redeemed"].append({"code": code, "person_id": resident["person_id"],
                                       "redemption_id": response.json()["id"]})
        # The same code at the counter again, as a new request: a second use must be refused.
        with self.client.post(base + "/redemptions", json=body, name=REPLAY,
                              headers={**cashier, "Idempotency-Key": uuid.uuid4().hex},
                              catch_response=True) as response:
            code_name = _problem_code(response)
            LEDGER["replays"].append({"code": code, "status": response.status_code, "problem": code_name})
            if response.status_code == 409 and code_name == "qr_already_used":
                response.success()
            else:
                response.failure(f"second use answered {response.status_code} {code_name}")

    @task(10)
    def award_and_approve(self) -> None:
        village = PLAN["village"]
        base = f"/api/v1/villages/{village['id']}/awards"
        resident = self._resident()
        item = {"resident_id": resident["points_account_id"], "rule_code": village["rule_code"],
                "note": "扶老助幼 (bench)"}
        with self.client.post(base, json={"items": [item]}, headers=_bearer(village["clerk_token"]),
                              name="POST /villages/{id}/awards", catch_response=True) as response:
            result = response.json()["items"][0] if response.status_code == 201 else {}
            if "id" not in result:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return
            LEDGER["awards_submitted"].append(result["id"])
        with self.client.post(f"{base}/{result['id']}/approve", headers=_bearer(village["approver_token"]),
                              name="POST /villages/{id}/awards/{id}/approve", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return
            LEDGER["approved"].append(result["id"])

    @task(5)
    def hospital_eligibility(self) -> None:
        code = self._issue_code(self._resident())
        if code is None:
            return
        hospital = PLAN["hospital"]
        self.client.post(f"/api/v1/hospitals/{hospital['id']}/eligibility", json={"code": code},
                         headers=_bearer(hospital["clinician_token"]), name="POST /hospitals/{id}/eligibility")


class BareVisitor(FastHttpUser):
    """The bare Flask endpoint under the same client, users and durations: the ceiling."""

    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/bare", name="GET /bare (bare Flask)")


class Recorder:
    """Every request's own latency, per endpoint, while ``measuring`` (locust's histogram rounds to 10 ms above 100 ms)."""

    def __init__(self) -> None:
        self.measuring = False
        self.requests_total = 0
        self.samples: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.failures: dict[tuple[str, str], int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)

    def on_request(self, request_type: str, name: str, response_time: float, exception: Any = None,
                   **_kwargs: Any) -> None:
        self.requests_total += 1
        if not self.measuring:
            return
        self.samples[(request_type, name)].append(response_time)
        if exception is not None:
            self.failures[(request_type, name)] += 1
            self.errors[f"{name}: {str(exception)[:160]}"] += 1


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered))) - 1))]


def _summary(recorder: Recorder, elapsed_s: float) -> list[dict[str, Any]]:
    rows = []
    for (method, name), samples in sorted(recorder.samples.items(), key=lambda kv: -len(kv[1])):
        ordered = sorted(samples)
        rows.append({"name": name, "method": method, "requests": len(ordered),
                     "failures": recorder.failures.get((method, name), 0), "rps": len(ordered) / elapsed_s,
                     "p50_ms": _percentile(ordered, 0.50), "p95_ms": _percentile(ordered, 0.95),
                     "p99_ms": _percentile(ordered, 0.99), "mean_ms": statistics.fmean(ordered),
                     "max_ms": ordered[-1]})
    return rows


def run(plan_path: str) -> None:
    PLAN.update(json.loads(Path(plan_path).read_text()))
    user_class = BareVisitor if PLAN.get("mode") == "bare" else Townsfolk
    env = Environment(user_classes=[user_class], host=PLAN["host"], stop_timeout=30)
    recorder = Recorder()
    env.events.request.add_listener(recorder.on_request)
    runner = env.create_local_runner()
    cpu_start = time.process_time()
    users = int(PLAN["users"])
    runner.start(users, spawn_rate=users)  # all users within the first second of the warm-up
    gevent.sleep(max(1.0, float(PLAN["warmup_s"])))
    recorder.measuring = True
    started = time.monotonic()
    gevent.sleep(float(PLAN["duration_s"]))
    recorder.measuring = False
    elapsed = time.monotonic() - started
    endpoints = _summary(recorder, elapsed)
    runner.stop()  # users finish the task they are in (stop_timeout), so the ledger holds every answer
    runner.quit()
    Path(PLAN["out"]).write_text(json.dumps({
        "elapsed_s": elapsed, "users": users, "endpoints": endpoints,
        "errors": dict(sorted(recorder.errors.items(), key=lambda kv: -kv[1])[:10]),
        "requests_total": recorder.requests_total, "cpu_s": time.process_time() - cpu_start, "ledger": LEDGER,
    }))


if __name__ == "__main__":
    run(sys.argv[1])
