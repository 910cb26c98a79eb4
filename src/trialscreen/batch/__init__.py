"""Batch screening of CSV exports: column plans, rows to records, the streaming run."""
