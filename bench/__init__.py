"""Benchmarks (not tests): ``make bench`` / ``python -m bench.run [name ...]``; see bench/harness.py."""
