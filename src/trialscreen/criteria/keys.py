"""The words of a criteria file: its keys, each rule head's allowed keys, the patient fields a
rule can name, and the small helpers the compiler's parts share."""

from __future__ import annotations

import re

from trialscreen.patient.fields import FIELDS as PATIENT_FIELDS
from trialscreen.semantics.logic import OP_WORDS

TRIAL_KEYS = {"id", "title", "source", "version", "complete", "not_encoded", "notes", "phase",
              "sponsor", "population", "definitions", "inclusion", "exclusion", "screening_window"}
CRITERION_KEYS = {"id", "text", "rule", "applies_if", "note", "unreachable"}
STATUSES = ("pass", "fail", "unknown")
COMPARE = tuple(OP_WORDS) + ("between", "outside")
NODE_KEYS = {
    "all": set(), "any": set(), "not": set(), "use": set(),
    "lab": set(COMPARE) | {"is", "by_unit", "within"},
    "field": set(COMPARE) | {"in"},
    "cytogenetics": set(),
    "diagnosis": {"with", "within", "after"},
    "condition": {"grade", "active", "within", "after"},
    "treatment": {"drug", "with", "within", "after", "duration", "count"},
    "neoplasm": set(),
    "attestation": {"is", "question"},
    "allergy": set(),
}
FIELDS = {name: f.kind for name, f in PATIENT_FIELDS.items()}
CRITERION_ID = re.compile(r"^[IE]\d+(?:[a-z]|\.\d+)?$")
RELATIVE = re.compile(
    r"^\s*(?:(?P<mult>[0-9]*\.?[0-9]+)\s*(?:x|\*|×)\s*)?(?P<ref>ULN|LLN)"
    r"(?:\s*(?P<sign>[+-])\s*(?P<off>[0-9]*\.?[0-9]+)\s*(?P<unit>\S.*))?\s*$", re.I)


def close_word(word: str, options) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def range_text(values) -> str:
    vals = sorted(values) if all(isinstance(v, (int, float)) for v in values) else list(values)
    if len(vals) > 2 and all(isinstance(v, int) for v in vals) and vals == list(range(vals[0], vals[-1] + 1)):
        return f"{vals[0]}..{vals[-1]}"
    return "{" + ", ".join(str(v) for v in vals) + "}"
