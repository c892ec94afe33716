"""Diagnostics behind the benchmark verdicts: profiles and fix experiments."""
