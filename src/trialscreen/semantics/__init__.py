"""Semantics in one place: Kleene logic, exact and censored comparison, durations, statuses and verdicts."""
