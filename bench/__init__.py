"""Benchmarks: run by ``make bench`` (``python bench/run.py``), figures printed as ratios."""
