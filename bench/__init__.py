"""Synthetic data and benchmarks at national scale, for PostgreSQL (see bench/README.md)."""
