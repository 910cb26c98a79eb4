"""Answers in words: a qualitative lab or cytogenetic result (detected, negative, failed) and a
yes/no answer. The one reader of each, shared by every section of a record and every CSV cell."""

from __future__ import annotations

import re
from functools import lru_cache

# Qualitative results, shared by cytogenetics, serologies and other yes/no tests.
_POSITIVE = {"detected", "positive", "pos", "present", "yes", "y", "true", "1", "reactive", "abnormal", "+"}
# "-" is not here: in many exports it means "not done", so it stays missing.
_NEGATIVE = {"not detected", "notdetected", "not_detected", "negative", "neg", "absent", "no", "n",
             "false", "0", "non-reactive", "nonreactive", "non reactive", "undetected", "normal"}
_UNDECIDED = {"indeterminate", "equivocal", "failed", "not tested", "not done", "insufficient",
              "unknown", "pending", "inconclusive", "borderline"}


def qualitative(value) -> bool | None:
    """Read a qualitative result. True/False for a clear result, None for an
    explicit non-result (failed, equivocal, pending). Raises ValueError for
    text that is none of these."""
    if isinstance(value, bool):
        return value
    return _qualitative_text(str(value))


@lru_cache(maxsize=4096)
def _qualitative_text(value: str) -> bool | None:
    text = re.sub(r"\s+", " ", value.strip().lower())
    if text in _POSITIVE:
        return True
    if text in _NEGATIVE:
        return False
    if text in _UNDECIDED:
        return None
    raise ValueError(value)


_YES = {"true", "yes", "y", "1"}
_NO = {"false", "no", "n", "0"}


@lru_cache(maxsize=1024)
def yes_no(value, digits: bool = True) -> bool | None:
    """Read a yes/no answer: true/false, yes/no, y/n and (unless ``digits`` is
    off, where 1 might be a line number) 1/0. None for no answer ('', unknown).
    Raises ValueError for anything else. The one reader of yes/no text."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "unknown"):
        return None
    if text in _YES and (digits or not text.isdigit()):
        return True
    if text in _NO and (digits or not text.isdigit()):
        return False
    raise ValueError(value)


QUALITATIVE_WORDS = "detected / not detected (also positive / negative, true / false, present / absent)"
