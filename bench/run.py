"""Run the benchmarks, then assemble bench/RESULTS.md.

``python -m bench.run`` runs every module bench/<name>.py that defines a top-level
``main()`` (foundation first, then by name), each in its own process so one
failing benchmark does not stop the others; ``python -m bench.run foundation points``
runs the ones named. The exit status is non-zero when a benchmark failed (a missed
target is reported in its section, not as a failure).
"""

from __future__ import annotations

import ast
import os
import shlex
import subprocess
import sys
import time

from bench.assemble import assemble
from bench.harness import BENCH_DIR, ROOT, log

NOT_BENCHMARKS = {"__init__", "harness", "reference", "run", "assemble"}


def discover() -> list[str]:
    """Modules of bench/ with a top-level ``def main`` (read, not imported), foundation first."""
    names = []
    for path in BENCH_DIR.glob("*.py"):
        if path.stem in NOT_BENCHMARKS:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            names.append(path.stem)
    return sorted(names, key=lambda n: (n != "foundation", n))


def run(names: list[str]) -> dict[str, int]:
    env = dict(os.environ)
    env.setdefault("BENCH_COMMAND", shlex.join([".venv/bin/python", "-m", "bench.run", *sys.argv[1:]]))
    statuses = {}
    for name in names:
        log(f"=== {name}")
        started = time.monotonic()
        code = f"import bench.{name} as m; m.main()"
        statuses[name] = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env).returncode
        log(f"=== {name}: {'ok' if statuses[name] == 0 else f'FAILED ({statuses[name]})'} "
            f"in {time.monotonic() - started:.0f} s")
    return statuses


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    available = discover()
    unknown = [n for n in args if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    statuses = run(args or available)
    assemble()
    failed = [n for n, s in statuses.items() if s != 0]
    if failed:
        log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
