"""The benchmark harness: database, app environment, gunicorn, wrk, fixtures and result files.

Benchmarks are modules ``bench/<name>.py`` with a ``main()``; ``python -m bench.run``
runs them all (foundation first) or the ones named, then assembles bench/RESULTS.md.
A benchmark typically does::

    from bench import harness as h

    def main() -> None:
        h.prepare_database()                             # fresh `bench` DB, `alembic upgrade head`
        h.flush_redis()                                  # Redis db 10
        with h.Fixtures() as fx:                         # create_app(bench_settings()) + a session
            users = fx.residents(50)                     # verified residents with access tokens
            cashier = fx.staff(fx.org("merchant"), "cashier")
        with h.gunicorn("backend.wsgi:app") as server:   # 2 sync workers on 127.0.0.1:180xx
            h.expect(200, "GET", server.url + "/api/v1/me", headers=users[0].headers)
            runs = h.interleave({                        # warm-up, then ROUNDS rounds of DURATION_S
                "me": h.Load(server.url + "/api/v1/me", server,
                             {"lua": h.rotating_headers_lua([u.headers for u in users])}),
                "qr": h.Load(server.url + "/api/v1/me/qr-codes", server,
                             {"method": "POST", "headers": users[0].headers}),
            })
        me = h.median_result(runs["me"])
        report = h.Report("points", "Points: earning and spending", method="...")
        report.results_table([("GET /me", me), ("POST /me/qr-codes", h.median_result(runs["qr"]))])
        report.target("GET /me p99 < 50 ms", me.p99_ms < 50, f"{me.p99_ms:.1f} ms")
        report.write()                                   # bench/results/points.md, printed too

Everything runs on loopback: servers bind 127.0.0.1 on ports 18000-18099, wrk
runs for a bounded duration, the database is ``bench`` and Redis is db 10.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = ROOT / ".venv" / "bin"
LOG_DIR = Path(tempfile.gettempdir()) / "bench-logs"

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
# BENCH_DB / BENCH_REDIS_DB move a run to another database / Redis db (e.g. two people benchmarking at once).
DATABASE_NAME = os.environ.get("BENCH_DB", "bench")
DATABASE_URL = f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{DATABASE_NAME}"
REDIS_URL = f"redis://127.0.0.1:6379/{int(os.environ.get('BENCH_REDIS_DB', '10'))}"
PORT_RANGE = range(18000, 18100)
PASSWORD = "Bench#Passw0rd-2026"

# Knobs for every benchmark (a quick look: BENCH_DURATION_S=3 BENCH_WARMUP_S=1 make bench).
DURATION_S = float(os.environ.get("BENCH_DURATION_S", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP_S = float(os.environ.get("BENCH_WARMUP_S", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))

# Fixed for the run, so fixtures made in this process and the servers agree.
BENCH_ENV = {
    "APP_ENV": "development",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "JWT_SECRET": "bench-jwt-secret-0123456789abcdef0123456789abcdef",
    "PII_KEY": "42" * 32,
    "LOG_LEVEL": "WARNING",
    "LOGIN_LIMIT_PER_PHONE": "1000000 per minute",
    "LOGIN_LIMIT_PER_IP": "1000000 per minute",
    "RATELIMIT_KEY_PREFIX": "rl-bench",
    "ACCESS_TOKEN_TTL_S": "7200",  # tokens made at fixture time outlive a long run
    "REAL_NAME_VERIFIER": "checksum",
}


LOAD_AT_START = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else ""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- environment and database


def bench_env(**overrides: str) -> dict[str, str]:
    """The app's environment for this run (APP_ENV, DATABASE_URL, REDIS_URL, secrets, limits...)."""
    env = dict(BENCH_ENV)
    env.update(overrides)
    return env


def bench_settings(**overrides: Any) -> Any:
    """backend.config.Settings built from ``bench_env()``: the same settings the servers load."""
    from backend.config import load_settings

    return load_settings(environ=bench_env(), **overrides)


# How the last prepare_database() built the schema; Report.render() prints it.
SCHEMA_NOTE = ""


def _recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def prepare_database() -> str:
    """Drop and recreate the ``bench`` database and build it with ``alembic upgrade head``; returns its URL."""
    global SCHEMA_NOTE
    from alembic import command

    from backend.schema import alembic_config

    _recreate_database()
    command.upgrade(alembic_config(DATABASE_URL), "head")
    SCHEMA_NOTE = "Schema: `alembic upgrade head`."
    return DATABASE_URL


def flush_redis() -> None:
    """Empty Redis db 10 (the benchmarks' own; never any other db)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# --------------------------------------------------------------------------- gunicorn


def free_port() -> int:
    """A free port in 18000-18099 on 127.0.0.1."""
    for port in random.sample(PORT_RANGE, len(PORT_RANGE)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18000-18099")


@dataclass
class Server:
    url: str  # http://127.0.0.1:<port>
    port: int
    pid: int
    log_path: Path
    command: list[str]

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master), e.g. for py-spy."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


def _process_env(env: dict[str, str] | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}}
    extra = (env or {}).get("PYTHONPATH")
    base.update(bench_env() if env is None else env)
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT), extra] if extra else [str(ROOT)])
    return base


@contextlib.contextmanager
def gunicorn(app_spec: str = "backend.wsgi:app", port: int | None = None, workers: int = 2,
             env: dict[str, str] | None = None, *, max_requests: int = 0,
             start_timeout_s: float = 60.0) -> Iterator[Server]:
    """Serve ``app_spec`` with the project's gunicorn config, 2 sync workers, on 127.0.0.1.

    ``-c backend/gunicorn.conf.py`` gives the production settings (timeouts,
    keep-alive, logging); the flags pin bind/workers/worker class. Worker recycling
    (``max_requests``) is off by default so a run measures the steady state, not
    re-imports. ``app_spec`` may be a factory call, e.g. ``bench.reference:bare_app()``.
    Waits for GET /healthz, yields a Server, then stops the process group it started.
    """
    port = port or free_port()
    if port not in PORT_RANGE:
        raise ValueError(f"port {port} is outside 18000-18099")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{re.sub(r'[^A-Za-z0-9]+', '-', app_spec).strip('-')}-{port}.log"
    command = [
        str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "backend" / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--threads", "1", "--max-requests", str(max_requests), "--chdir", str(ROOT), app_spec,
    ]
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(command, cwd=ROOT, env=_process_env(env), stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(url=f"http://127.0.0.1:{port}", port=port, pid=proc.pid, log_path=log_path, command=command)
    try:
        _wait_healthy(proc, server, start_timeout_s)
        yield server
    finally:
        _stop(proc)


def _wait_healthy(proc: subprocess.Popen[bytes], server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{_tail(server.log_path)}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {timeout_s:.0f} s:\n{_tail(server.log_path)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # the session we started: master + its workers
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------- wrk


@dataclass
class Result:
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int  # socket errors: connect, read, write, timeout
    non_2xx: int  # wrk's "Non-2xx or 3xx responses": statuses >= 400
    requests: int = 0
    duration_s: float = 0.0
    mean_ms: float = 0.0
    max_ms: float = 0.0
    command: str = ""
    # CPU time spent per request by the server's workers and by its PostgreSQL backends
    # (measured from /proc when ``server`` is given to wrk()/measure(); 0 otherwise).
    app_cpu_ms: float = 0.0
    db_cpu_ms: float = 0.0

    @property
    def cpu_ms(self) -> float:
        return self.app_cpu_ms + self.db_cpu_ms

    def __str__(self) -> str:
        cpu = (f"  CPU/req app {self.app_cpu_ms:.2f} ms + db {self.db_cpu_ms:.2f} ms"
               if self.app_cpu_ms else "")
        return (f"{self.requests_per_s:8.1f} req/s  p50 {self.p50_ms:6.2f} ms  p90 {self.p90_ms:6.2f} ms  "
                f"p99 {self.p99_ms:6.2f} ms  errors {self.errors}  non-2xx {self.non_2xx}  "
                f"({self.requests} requests in {self.duration_s:.1f} s){cpu}")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _db_backend_pids() -> list[int]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DATABASE_NAME,)).fetchall()
    return [row[0] for row in rows]


class CpuMeter:
    """CPU time used by a server's workers and the ``bench`` database's backends over a block.

    Other work on the machine slows requests down but barely changes the CPU each
    request costs, so CPU ms per request is the steadier figure on a shared box.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.app_ms = 0.0
        self.db_ms = 0.0

    def _snapshot(self) -> tuple[dict[int, int], dict[int, int]]:
        workers = {pid: _cpu_ticks(pid) for pid in self.server.worker_pids()}
        backends = {pid: _cpu_ticks(pid) for pid in _db_backend_pids()}
        return workers, backends

    def __enter__(self) -> CpuMeter:
        self._start = self._snapshot()
        return self

    def __exit__(self, *_exc: object) -> None:
        end = self._snapshot()
        to_ms = 1000 / _CLOCK_TICKS
        self.app_ms = sum(t - self._start[0].get(p, 0) for p, t in end[0].items()) * to_ms
        self.db_ms = sum(t - self._start[1].get(p, 0) for p, t in end[1].items()) * to_ms


_DONE_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50":%.1f,"p90":%.1f,"p99":%.1f,"mean":%.1f,"max":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


def lua_string(value: str) -> str:
    """A Lua string literal for any text (every byte outside printable ASCII escaped)."""
    out = []
    for byte in value.encode():
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def rotating_headers_lua(header_sets: Sequence[dict[str, str]]) -> str:
    """A wrk ``request()`` that cycles through header sets, e.g. one Authorization per user.

    Each wrk thread starts at a different offset so threads do not move in step.
    """
    if not header_sets:
        raise ValueError("no header sets")
    rows = ",\n".join("{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in h.items()) + "}"
                      for h in header_sets)
    return f"""
local sets = {{
{rows}
}}
local i = 0
local thread_no = 0
function setup(thread)
  thread:set("offset", thread_no * 7919)
  thread_no = thread_no + 1
end
function init(args)
  i = (offset or 0) % #sets
end
function request()
  i = i % #sets + 1
  local h = {{}}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(sets[i]) do h[k] = v end
  return wrk.format(nil, nil, h)
end
"""


def unique_header_lua(name: str = "Idempotency-Key") -> str:
    """A wrk ``request()`` that sends a value of header ``name`` never sent before with every request."""
    run_tag = f"{random.getrandbits(32):08x}"
    return f"""
local n = 0
local thread_no = 0
function setup(thread)
  thread:set("thread_id", thread_no)
  thread_no = thread_no + 1
end
function request()
  n = n + 1
  local h = {{}}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h[{lua_string(name)}] = "bench-{run_tag}-" .. tostring(thread_id or 0) .. "-" .. n
  return wrk.format(nil, nil, h)
end
"""


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get when missing (root on Debian)."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("wrk is missing: install it (apt-get install -y wrk)")
    log("wrk missing: apt-get update && apt-get install -y wrk")
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    path = shutil.which("wrk")
    if not path:
        raise RuntimeError("apt-get install wrk did not provide a wrk binary")
    return path


def wrk(url: str, *, connections: int = 32, duration_s: float = 10, threads: int = 2, method: str = "GET",
        headers: dict[str, str] | None = None, body: Any = None, lua: str | None = None,
        timeout_s: float = 5, server: Server | None = None) -> Result:
    """Load ``url`` (loopback only) for ``duration_s`` with wrk; latency percentiles from its histogram.

    ``method``/``headers``/``body`` (text, bytes, or anything JSON-serialisable) become
    ``wrk.method``/``wrk.headers``/``wrk.body`` in a
    generated Lua script; ``lua`` is appended to it (it may define ``request()``, see
    ``rotating_headers_lua``/``unique_header_lua``, but not ``done()``). With ``server``,
    the CPU its workers and the database backends spent per request is measured too.
    """
    host = urllib.parse.urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"wrk only against loopback, not {host}")
    if not 0 < duration_s <= 120:
        raise ValueError("duration_s must be in (0, 120]")
    binary = ensure_wrk()
    script = [f"wrk.method = {lua_string(method.upper())}"]
    if body is not None:
        text = body.decode() if isinstance(body, bytes) else body if isinstance(body, str) else json.dumps(body)
        script.append(f"wrk.body = {lua_string(text)}")
        if not any(k.lower() == "content-type" for k in (headers or {})):
            script.append('wrk.headers["Content-Type"] = "application/json"')
    for key, value in (headers or {}).items():
        script.append(f"wrk.headers[{lua_string(key)}] = {lua_string(value)}")
    if lua:
        script.append(lua)
    script.append(_DONE_LUA)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=LOG_DIR, delete=False) as handle:
        handle.write("\n".join(script))
        script_path = handle.name
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{duration_s:g}s", f"--timeout={timeout_s:g}s",
               "--latency", "-s", script_path, url]
    meter = CpuMeter(server) if server is not None else contextlib.nullcontext()
    try:
        with meter:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60)
    finally:
        os.unlink(script_path)
    match = re.search(r"^WRK_JSON (\{.*\})$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    data = json.loads(match.group(1))
    duration = data["duration_us"] / 1e6
    shown = [c if c != script_path else "<script.lua>" for c in command]
    return Result(
        requests_per_s=data["requests"] / duration if duration else 0.0,
        p50_ms=data["p50"] / 1000, p90_ms=data["p90"] / 1000, p99_ms=data["p99"] / 1000,
        errors=data["connect"] + data["read"] + data["write"] + data["timeout"], non_2xx=data["status"],
        requests=data["requests"], duration_s=duration, mean_ms=data["mean"] / 1000, max_ms=data["max"] / 1000,
        command=shlex.join(["wrk", *shown[1:]]),
        app_cpu_ms=meter.app_ms / data["requests"] if isinstance(meter, CpuMeter) and data["requests"] else 0.0,
        db_cpu_ms=meter.db_ms / data["requests"] if isinstance(meter, CpuMeter) and data["requests"] else 0.0,
    )


def measure(url: str, **kwargs: Any) -> Result:
    """A warm-up run of WARMUP_S, then the measured run of DURATION_S with CONNECTIONS (same options)."""
    kwargs.setdefault("connections", CONNECTIONS)
    if WARMUP_S > 0:
        wrk(url, **{**kwargs, "duration_s": WARMUP_S, "server": None})
    result = wrk(url, **{"duration_s": DURATION_S, **kwargs})
    log(f"{kwargs.get('method', 'GET')} {url}: {result}")
    return result


def median_result(results: Sequence[Result]) -> Result:
    """One Result from several runs of the same load: the median of every figure, requests summed."""
    if len(results) == 1:
        return results[0]

    def med(name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in results))

    return Result(
        requests_per_s=med("requests_per_s"), p50_ms=med("p50_ms"), p90_ms=med("p90_ms"), p99_ms=med("p99_ms"),
        errors=sum(r.errors for r in results), non_2xx=sum(r.non_2xx for r in results),
        requests=sum(r.requests for r in results), duration_s=sum(r.duration_s for r in results),
        mean_ms=med("mean_ms"), max_ms=max(r.max_ms for r in results), command=results[0].command,
        app_cpu_ms=med("app_cpu_ms"), db_cpu_ms=med("db_cpu_ms"),
    )


@dataclass
class Load:
    """One load to measure: ``wrk(url, **options)`` against ``server`` (for CPU accounting)."""

    url: str
    server: Server | None = None
    options: dict[str, Any] = field(default_factory=dict)


def interleave(loads: dict[str, Load], rounds: int | None = None) -> dict[str, list[Result]]:
    """Warm each load up once, then measure them in turn, ``rounds`` times (A B C, A B C, ...).

    On a shared machine the background load drifts; interleaving gives every load the
    same share of good and bad moments, and per-round ratios compare like with like.
    """
    rounds = ROUNDS if rounds is None else rounds
    for label, load in loads.items():
        if WARMUP_S > 0:
            log(f"warm-up {label}")
            wrk(load.url, **{"connections": CONNECTIONS, **load.options, "duration_s": WARMUP_S})
    results: dict[str, list[Result]] = {label: [] for label in loads}
    for round_no in range(1, rounds + 1):
        for label, load in loads.items():
            result = wrk(load.url, server=load.server,
                         **{"connections": CONNECTIONS, "duration_s": DURATION_S, **load.options})
            results[label].append(result)
            log(f"round {round_no}/{rounds} {label}: {result}")
    return results


def paired_ratio(numerators: Sequence[Result], denominators: Sequence[Result]) -> float:
    """Median over rounds of numerator req/s ÷ denominator req/s of the same round."""
    return float(statistics.median(ratio(n.requests_per_s, d.requests_per_s)
                                   for n, d in zip(numerators, denominators, strict=True)))


def http(method: str, url: str, *, headers: dict[str, str] | None = None, body: Any = None,
         timeout_s: float = 10) -> tuple[int, Any]:
    """One request (e.g. to check an endpoint answers as expected before loading it): (status, JSON or text)."""
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    req = urllib.request.Request(url, data=data, method=method.upper(), headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def expect(status: int, method: str, url: str, **kwargs: Any) -> Any:
    """``http(...)``, raising unless it answered ``status``; returns the body."""
    got, payload = http(method, url, **kwargs)
    if got != status:
        raise RuntimeError(f"{method} {url}: expected {status}, got {got}: {str(payload)[:500]}")
    return payload


def sql_per_request(app: Any, method: str, path: str, *, headers: dict[str, str] | None = None,
                    json_body: Any = None) -> list[str]:
    """The SQL statements one request runs (in process, Flask test client, after a warm-up request).

    Deterministic, unlike timings: a count of round trips to the database. ``app`` must keep
    its engine in ``app.extensions["engine"]`` (the product and bench/reference.py do).
    Connection pre-ping, BEGIN and ROLLBACK are not statements here; each request pays
    them once on top.
    """
    from sqlalchemy import event

    engine = app.extensions["engine"]
    client = app.test_client()
    client.open(path, method=method, headers=headers, json=json_body)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.open(path, method=method, headers=headers, json=json_body)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return seen


def timed(func: Callable[[], Any], iterations: int, *, warmup: int = 50) -> dict[str, float]:
    """Run ``func`` ``iterations`` times in process: wall-clock median/p90/p99/mean in milliseconds,
    and ``cpu_median_ms``, the median CPU time of this process per call (steadier on a busy machine)."""
    for _ in range(warmup):
        func()
    samples, cpu = [], []
    for _ in range(iterations):
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p90_ms": samples[int(len(samples) * 0.90) - 1],
        "p99_ms": samples[int(len(samples) * 0.99) - 1],
        "mean_ms": statistics.fmean(samples),
        "cpu_median_ms": statistics.median(cpu),
        "iterations": float(iterations),
    }


# --------------------------------------------------------------------------- fixtures through the services


@dataclass
class User:
    account_id: str
    phone: str
    token: str
    password: str = PASSWORD
    person_id: str | None = None
    id_number: str | None = None
    name: str | None = None
    refresh_token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def valid_id_number(rng: random.Random) -> str:
    """A checksum-valid ID number with a real birth date (1950-2005) and a random sequence."""
    from stdnum.cn import ric

    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
    base = f"430104{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return base + ric.calc_check_digit(base + "0")


def valid_credit_code(rng: random.Random) -> str:
    from stdnum.cn import uscc

    base = "91430100" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return base + uscc.calc_check_digit(base)


class Fixtures:
    """Build data through the product's services on the bench database.

    ``create_app(bench_settings())`` gives the same settings, engine and Redis as the
    servers; ``self.session`` is one session for the fixture work. Accounts are
    inserted in bulk with one shared argon2 hash made with the product's own
    parameters (so a login benchmark measures the real cost); real-name
    verification, organisations and memberships go through the services.
    """

    def __init__(self, settings: Any = None, seed: int | None = None) -> None:
        from backend import create_app

        self.settings = settings or bench_settings()
        self.app = create_app(self.settings)
        self.session = self.app.extensions["session_factory"]()
        self.redis = self.app.extensions["redis"]
        self.rng = random.Random(seed)
        self._password_hash: str | None = None

    def __enter__(self) -> Fixtures:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.rollback()
        self.session.close()
        self.app.extensions["engine"].dispose()

    # accounts ---------------------------------------------------------------

    def _new_phones(self, n: int) -> list[str]:
        from sqlalchemy import select

        from backend.identity.models import Account

        phones: set[str] = set()
        while len(phones) < n:
            batch = {f"13{self.rng.randrange(10**9):09d}" for _ in range(n - len(phones))} - phones
            taken = set(self.session.scalars(select(Account.phone).where(Account.phone.in_(batch))))
            phones |= batch - taken
        return sorted(phones)

    def accounts(self, n: int, *, is_admin: bool = False) -> list[User]:
        """``n`` new (unverified) accounts with access tokens; all share PASSWORD."""
        from backend.auth import service as auth_service
        from backend.identity.models import Account

        if self._password_hash is None:
            self._password_hash = auth_service.hash_password(self.settings, PASSWORD)
        rows = [Account(phone=phone, password_hash=self._password_hash, is_admin=is_admin)
                for phone in self._new_phones(n)]
        self.session.add_all(rows)
        self.session.commit()
        return [User(account_id=a.id, phone=a.phone, token=auth_service.make_access_token(self.settings, a.id))
                for a in rows]

    def verify(self, user: User, *, name: str = "张三") -> User:
        """Real-name verification through identity.service (checksum verifier)."""
        from backend.actor import Actor
        from backend.errors import Conflict
        from backend.identity import service as identity_service

        for _ in range(20):
            number = valid_id_number(self.rng)
            try:
                claim = identity_service.submit_real_name(
                    session=self.session, settings=self.settings.with_overrides(real_name_verifier="checksum"),
                    actor=Actor(account_id=user.account_id), name=name, id_number=number)
            except Conflict:  # that ID number belongs to someone already: draw another
                self.session.rollback()
                continue
            user.person_id, user.id_number, user.name = claim.person_id, number, name
            return user
        raise RuntimeError("could not draw a free ID number")

    def residents(self, n: int, *, name: str = "张三") -> list[User]:
        """``n`` verified residents with access tokens (about 3 ms each on PostgreSQL)."""
        return [self.verify(user, name=name) for user in self.accounts(n)]

    def codes(self, residents: Sequence[User], n: int, *, ttl_s: int = 1800) -> list[str]:
        """``n`` one-time resident codes issued through ``backend.qr.service``, round-robin over ``residents``."""
        from backend.qr import service as qr

        return [qr.issue(redis=self.redis, person_id=residents[i % len(residents)].person_id or "", ttl_s=ttl_s).code
                for i in range(n)]

    def refresh_tokens(self, users: Iterable[User]) -> None:
        """Give users a refresh token too (auth.service.issue_tokens; one row each)."""
        from backend.auth import service as auth_service

        for user in users:
            pair = auth_service.issue_tokens(session=self.session, settings=self.settings, account_id=user.account_id)
            user.token, user.refresh_token = pair.access_token, pair.refresh_token

    # organisations ----------------------------------------------------------

    def org(self, kind: str = "village", name: str | None = None, region_code: str = "430104") -> Any:
        """An organisation through identity.service.create_org (credit code where the kind needs one)."""
        from backend.identity import service as identity_service
        from backend.identity.models import KINDS_REQUIRING_CREDIT_CODE

        code = valid_credit_code(self.rng) if kind in KINDS_REQUIRING_CREDIT_CODE else None
        return identity_service.create_org(session=self.session, kind=kind,
                                           name=name or f"压测{kind}{self.rng.randrange(10**6)}",
                                           region_code=region_code, credit_code=code)

    def grant(self, user: User, org: Any, *roles: str) -> None:
        """Give ``user`` roles in ``org`` (membership rows, as tests/factories.py does)."""
        from backend.db import insert_ignore, utcnow
        from backend.identity.models import Membership

        for role in roles:
            insert_ignore(self.session, Membership.__table__,
                          {"account_id": user.account_id, "org_id": org.id, "role": role, "created_at": utcnow()},
                          ["account_id", "org_id", "role"])
        self.session.commit()

    def staff(self, org: Any, *roles: str, verified: bool = False) -> User:
        """A new account with ``roles`` in ``org``."""
        user = self.accounts(1)[0]
        if verified:
            self.verify(user)
        self.grant(user, org, *roles)
        return user

    def admin(self) -> User:
        """A platform admin."""
        return self.accounts(1, is_admin=True)[0]


# --------------------------------------------------------------------------- results


def _first_line(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for package in ("flask", "sqlalchemy", "psycopg", "gunicorn", "redis"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            continue
    return ", ".join(parts)


def _services() -> str:
    parts = []
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
            row = conn.execute("SHOW server_version").fetchone()
            parts.append(f"PostgreSQL {row[0] if row else '?'}")
    except Exception:  # noqa: BLE001 - machine info is best effort
        parts.append("PostgreSQL ?")
    try:
        import redis

        info: Any = redis.Redis.from_url(REDIS_URL).info("server")
        parts.append(f"Redis {info.get('redis_version', '?')}")
    except Exception:  # noqa: BLE001
        parts.append("Redis ?")
    wrk_path = shutil.which("wrk")
    if wrk_path:
        out = subprocess.run([wrk_path, "--version"], capture_output=True, text=True)
        parts.append((out.stdout or out.stderr).split(" Copyright")[0].strip())
    return ", ".join(parts)


def _git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        # the benchmarks' own output (written as a run goes) is no change to the code measured
        dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!bench/results", ":!bench/RESULTS.md"],
                               cwd=ROOT, capture_output=True, text=True).stdout
        return rev + (" + uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine_info() -> dict[str, str]:
    mem_kb = _first_line("/proc/meminfo", "MemTotal").split()[0]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": f"{os.cpu_count()} (nproc {len(os.sched_getaffinity(0))})",
        "cpu": _first_line("/proc/cpuinfo", "model name"),
        "memory": f"{int(mem_kb) // 1024} MiB" if mem_kb.isdigit() else "?",
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": _versions(),
        "services": _services(),
        "revision": _git_revision(),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def bench_command() -> str:
    """The command that started this run (bench.run passes it down in BENCH_COMMAND)."""
    return os.environ.get("BENCH_COMMAND") or shlex.join(["python", *sys.argv])


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


@dataclass
class Report:
    """One benchmark's section of bench/RESULTS.md, written to bench/results/<name>.md."""

    name: str
    title: str
    method: str = ""
    blocks: list[str] = field(default_factory=list)
    targets: list[tuple[str, bool, str]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str | None = None) -> None:
        rows = [list(row) for row in rows]
        numeric = [i > 0 and all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]
        lines = [f"**{caption}**", ""] if caption else []
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
        lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)
        self.blocks.append("\n".join(lines))

    def results_table(self, rows: Iterable[tuple[str, Result]], caption: str | None = None) -> None:
        """A table of wrk results (req/s, p50/p90/p99, errors, non-2xx); remembers their commands."""
        rows = list(rows)
        headers = ["endpoint", "req/s", "p50 ms", "p90 ms", "p99 ms", "requests", "errors", "non-2xx"]
        with_cpu = any(r.app_cpu_ms for _, r in rows)
        if with_cpu:
            headers += ["app CPU ms/req", "DB CPU ms/req"]
        self.table(headers, [
            (label, r.requests_per_s, r.p50_ms, r.p90_ms, r.p99_ms, r.requests, r.errors, r.non_2xx,
             *((r.app_cpu_ms, r.db_cpu_ms) if with_cpu else ()))
            for label, r in rows], caption)
        self.commands.extend(f"{label}: `{r.command}`" for label, r in rows if r.command)

    def target(self, description: str, met: bool, measured: str) -> bool:
        self.targets.append((description, met, measured))
        return met

    def note(self, text: str) -> None:
        self.blocks.append(text.strip())

    @property
    def all_met(self) -> bool:
        return all(met for _, met, _ in self.targets)

    def render(self) -> str:
        info = machine_info()
        out = [f"## {self.title}", ""]
        if self.method:
            out += [self.method.strip(), ""]
        out += [f"Command: `{bench_command()}` (module `bench/{self.name}.py`)", ""]
        if SCHEMA_NOTE:
            out += [SCHEMA_NOTE, ""]
        out += [f"Machine: {info['cpus']} × {info['cpu']}, {info['memory']}, {info['os']}; "
                f"Python {info['python']}; {info['packages']}; {info['services']}. "
                f"Run {info['date']} at revision {info['revision']}; load average when written: "
                f"{info['load']}{LOAD_AT_START and f' (at start: {LOAD_AT_START})'}.", ""]
        for block in self.blocks:
            out += [block, ""]
        if self.targets:
            out += ["| target | measured | met |", "|---|---:|:---:|"]
            out += [f"| {d} | {m} | {'yes' if ok else '**NO**'} |" for d, ok, m in self.targets]
            out.append("")
        if self.commands:
            out += ["<details><summary>wrk commands</summary>", ""]
            out += [f"- {c}" for c in self.commands]
            out += ["", "</details>", ""]
        return "\n".join(out)

    def write(self) -> Path:
        """Write bench/results/<name>.md and print it."""
        text = self.render()
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}.md"
        path.write_text(text)
        print("\n" + text, flush=True)
        log(f"wrote {path.relative_to(ROOT)}")
        return path


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
