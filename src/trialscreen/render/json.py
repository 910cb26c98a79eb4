"""Screening results as JSON: the text of ``trialscreen screen --format json``."""

from __future__ import annotations

from trialscreen.textio import json_text


def results_json(results) -> str:
    """A list with one object per result (``ScreenResult.as_dict``), indented by two."""
    return json_text([r.as_dict() for r in results], indent=2)
