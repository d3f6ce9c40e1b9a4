"""Reproducible performance runs; `make bench` runs them all (see benchmarks/run.py)."""
