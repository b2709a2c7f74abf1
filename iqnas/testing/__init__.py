"""Seeded problem instances shared by the tests and the benchmark scripts."""
