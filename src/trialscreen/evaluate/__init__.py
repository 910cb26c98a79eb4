"""The reference evaluator: a compiled trial (trialscreen.ir) x a patient x an as-of date -> statuses,
verdict, missing data."""
