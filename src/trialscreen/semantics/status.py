"""The words of a result, defined once: a criterion's status and a screening's verdict.

Both are str enums defined here once; results carry their plain words (``Status.PASS.value``
is "pass"), so a result prints, compares and serialises (JSON, YAML, CSV) as plain data.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A criterion's status for one patient."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


class Verdict(StrEnum):
    """A screening's verdict; ERROR is a batch row that could not be read."""

    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    NEEDS_REVIEW = "needs_review"
    ERROR = "error"


DECIDED = (Status.PASS, Status.FAIL, Status.UNKNOWN)          # what a golden case may expect
SCREENED = (Verdict.ELIGIBLE, Verdict.INELIGIBLE, Verdict.NEEDS_REVIEW)
