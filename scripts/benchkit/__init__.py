"""The pieces of scripts/bench (scripts/bench.py runs them)."""
