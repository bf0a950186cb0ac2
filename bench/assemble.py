"""Concatenate bench/results/*.md (foundation first) into bench/RESULTS.md: ``python -m bench.assemble``."""

from __future__ import annotations

import re
from pathlib import Path

from bench.harness import BENCH_DIR, RESULTS_DIR, log

HEADER = """# Benchmark results

Written by `make bench` (`python -m bench.run`), which runs every benchmark module
`bench/<name>.py` that has a `main()` (foundation first; `python -m bench.run NAME...`
runs the ones named) and then assembles this file from `bench/results/<name>.md`.

Method, common to every section: the app is served the way production serves it —
gunicorn with `backend/gunicorn.conf.py`, 2 sync workers, bound to 127.0.0.1 — on
PostgreSQL (a `bench` database dropped, recreated and migrated with
`alembic upgrade heads` at the start of each benchmark) and Redis (db 10). Load comes
from wrk on the same machine (2 threads, 32 connections,
a warm-up, then a bounded measured duration; loopback only), latency percentiles from
wrk's histogram. Fixtures are created through the product's services
(`bench/harness.py`). Each section names its command, the machine, the load average
(the machine may be shared: req/s moves with other work; CPU ms per request, measured
from /proc for the workers and their PostgreSQL backends, moves much less), its
figures, ratios and whether each target was met. Knobs: `BENCH_DURATION_S`,
`BENCH_WARMUP_S`, `BENCH_ROUNDS`, `BENCH_CONNECTIONS`; `BENCH_DB` / `BENCH_REDIS_DB` move a
run to another database / Redis db.
"""


def sections() -> list[Path]:
    files = sorted(RESULTS_DIR.glob("*.md"))
    return sorted(files, key=lambda p: (p.stem != "foundation", p.stem))


# A relative link target in a section (not a URL, an absolute path or an anchor), e.g. `](day_in_town.png)`.
_RELATIVE_LINK = re.compile(r"(\]\()(?![a-z][a-z0-9+.-]*:|/|#)([^)\s]+\))")


def rebase_links(text: str) -> str:
    """Links in bench/results/<name>.md (a chart beside it) as seen from bench/RESULTS.md."""
    prefix = RESULTS_DIR.relative_to(BENCH_DIR).as_posix() + "/"
    return _RELATIVE_LINK.sub(lambda m: m.group(1) + prefix + m.group(2), text)


def assemble() -> Path:
    parts = [HEADER.strip()]
    parts += [rebase_links(path.read_text().strip()) for path in sections()]
    target = BENCH_DIR / "RESULTS.md"
    target.write_text("\n\n".join(parts) + "\n")
    log(f"assembled {target.relative_to(BENCH_DIR.parent)} from {len(parts) - 1} section(s)")
    return target


def main() -> None:
    assemble()


if __name__ == "__main__":
    main()
