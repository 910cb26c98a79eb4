"""The JSON Schema of criteria files, generated from the compiler's own tables.

The key sets (trial, criterion, and each rule's keys) are the ones the
compiler validates with (``criteria.keys``: ``TRIAL_KEYS``, ``CRITERION_KEYS``,
``NODE_KEYS``, ``FIELDS``); names come from the vocabularies. Only the shape
of each key's value is described here, and a test checks that every key the
compiler accepts has one, and that ``criteria/criteria.schema.json`` is this
function's output. Editors that speak yaml-language-server validate and
complete criteria files through the modeline at the top of each file.
"""

from __future__ import annotations

from trialscreen import vocab
from trialscreen.criteria.keys import CRITERION_ID, CRITERION_KEYS, FIELDS, NODE_KEYS, STATUSES, TRIAL_KEYS
from trialscreen.semantics.logic import OP_WORDS

DURATION = {"type": "string", "pattern": r"^\s*\d{1,4}\s*(d|days?|w|wks?|weeks?|mo|months?|y|yrs?|years?)\s*$",
            "description": "a duration: '28 days', '4 weeks', '3 months', '3 years'"}
THRESHOLD = {"type": ["string", "number"],
             "description": "a value with its unit ('177 umol/L', '75 x10^9/L'), or relative to the "
                            "patient's range ('3 x ULN', 'LLN - 20 g/L')"}
NAME_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
COMPARISON = {"type": "object", "minProperties": 1, "maxProperties": 1,
              "propertyNames": {"enum": list(OP_WORDS)}}
ATTRS = {"type": "object", "description": "attribute -> value or list of accepted values",
         "additionalProperties": {"type": ["string", "number", "boolean", "array"]}}


def _names(v) -> list:
    return sorted({*v.entries, *(s for e in v.entries.values() for s in getattr(e, "synonyms", ()))}, key=str)


def _value_schemas() -> dict:
    """Schema of each rule key's value, by (head, key)."""
    rule = {"$ref": "#/$defs/rule"}
    rules = {"type": "array", "items": rule, "minItems": 1}
    pair = {"type": "array", "items": THRESHOLD, "minItems": 2, "maxItems": 2}
    out = {
        ("all", "all"): rules, ("any", "any"): rules, ("not", "not"): rule,
        ("use", "use"): {"type": "string",
                         "description": "a name from definitions: (the trial's or _definitions.yaml)"},
        ("lab", "lab"): {"enum": _names(vocab.analytes()), "description": "an analyte or a synonym"},
        ("lab", "is"): {"enum": ["positive", "negative", "detected", "not detected"]},
        ("lab", "by_unit"): {"type": "array", "minItems": 2,
                             "items": dict(COMPARISON, additionalProperties=THRESHOLD)},
        ("lab", "within"): DURATION,
        ("field", "field"): {"enum": sorted(FIELDS)},
        ("field", "in"): {"oneOf": [{"type": "string", "pattern": r"^\s*\d+\s*\.\.\s*\d+\s*$"},
                                    {"type": "array", "minItems": 1}]},
        ("cytogenetics", "cytogenetics"): {
            "type": "object", "additionalProperties": False,
            "properties": {
                "any_of": {"type": "array", "items": {"enum": _names(vocab.findings())}, "minItems": 1},
                "none_of": {"type": "array", "items": {"enum": _names(vocab.findings())}, "minItems": 1},
                "min_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}}},
        ("diagnosis", "diagnosis"): {"oneOf": [{"enum": _names(vocab.diagnoses())},
                                               {"type": "array", "items": {"enum": _names(vocab.diagnoses())}}]},
        ("diagnosis", "with"): ATTRS,
        ("condition", "condition"): {"oneOf": [{"enum": _names(vocab.conditions())},
                                               {"type": "array", "items": {"enum": _names(vocab.conditions())}}]},
        ("condition", "grade"): dict(COMPARISON, additionalProperties={"type": "integer", "minimum": 0, "maximum": 5}),
        ("condition", "active"): {"type": "boolean"},
        ("treatment", "treatment"): NAME_OR_LIST,
        ("treatment", "drug"): NAME_OR_LIST,
        ("treatment", "with"): ATTRS,
        ("treatment", "duration"): {"type": "object", "minProperties": 1, "maxProperties": 1,
                                    "propertyNames": {"enum": ["lt", "le", "gt", "ge"]},
                                    "additionalProperties": DURATION},
        ("treatment", "count"): dict(COMPARISON, additionalProperties={"type": "integer", "minimum": 0},
                                     description="how many treatments match (items sharing a 'line' count once)"),
        ("neoplasm", "neoplasm"): {
            "type": ["object", "null"], "additionalProperties": False,
            "properties": {
                "except": {"type": "array", "items": {"oneOf": [
                    {"type": "string"},
                    {"type": "object", "required": ["type"], "properties": {"type": NAME_OR_LIST}}]}},
                "unless_tumor_free_for": DURATION}},
        ("attestation", "attestation"): {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        ("attestation", "is"): {"type": "boolean"},
        ("attestation", "question"): {"type": "string"},
        ("allergy", "allergy"): NAME_OR_LIST,
    }
    for head in ("lab", "field"):
        for op in OP_WORDS:
            out[(head, op)] = THRESHOLD if head == "lab" else {"type": ["string", "number", "boolean"]}
        out[(head, "between")] = pair
        out[(head, "outside")] = pair
    for head in ("diagnosis", "condition", "treatment"):
        out[(head, "within")] = DURATION
        out[(head, "after")] = {"type": "string", "description": "a treatment type whose date starts the window"}
    return out


TRIAL_VALUES = {
    "id": {"type": "string"}, "title": {"type": "string"}, "source": {"type": "string"},
    "version": {"type": ["string", "number"]}, "complete": {"type": "boolean"},
    "not_encoded": {"type": "array", "items": {"type": "string"}},
    "notes": {"type": "string"}, "phase": {"type": ["string", "number"]}, "sponsor": {"type": "string"},
    "population": {"type": "string"},
    "screening_window": dict(DURATION, description="how old a lab may be where a criterion gives no 'within'"),
    "definitions": {"type": "object", "additionalProperties": {"$ref": "#/$defs/rule"}},
    "inclusion": {"type": "array", "items": {"$ref": "#/$defs/criterion"}},
    "exclusion": {"type": "array", "items": {"$ref": "#/$defs/criterion"}},
}
CRITERION_VALUES = {
    "id": {"type": "string", "pattern": CRITERION_ID.pattern}, "text": {"type": "string"},
    "rule": {"$ref": "#/$defs/rule"}, "applies_if": {"$ref": "#/$defs/rule"}, "note": {"type": "string"},
    "unreachable": {"type": "object", "propertyNames": {"enum": list(STATUSES)},
                    "additionalProperties": {"type": "string"}},
}


def missing_value_schemas() -> list:
    """Keys the compiler accepts that have no value schema here (must be empty)."""
    values = _value_schemas()
    gaps = [f"{head}.{key}" for head, keys in NODE_KEYS.items() for key in keys | {head}
            if (head, key) not in values]
    gaps += [f"trial.{k}" for k in TRIAL_KEYS if k not in TRIAL_VALUES]
    gaps += [f"criterion.{k}" for k in CRITERION_KEYS if k not in CRITERION_VALUES]
    return gaps


def criteria_schema() -> dict:
    values = _value_schemas()
    rules = []
    for head, keys in NODE_KEYS.items():
        props = {key: values[(head, key)] for key in sorted(keys | {head})}
        rules.append({"type": "object", "title": head, "required": [head], "properties": props,
                      "additionalProperties": False})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://trialscreen.example/criteria.schema.json",
        "title": "trialscreen criteria file",
        "description": "One clinical trial's eligibility criteria. Generated by trialscreen "
                       "(trialscreen schema criteria > criteria/criteria.schema.json); see criteria/README.md.",
        "type": "object",
        "required": ["id", "title", "source", "version", "inclusion"],
        "properties": {k: TRIAL_VALUES[k] for k in sorted(TRIAL_KEYS)},
        "additionalProperties": False,
        "$defs": {
            "criterion": {"type": "object", "required": ["id", "text", "rule"],
                          "properties": {k: CRITERION_VALUES[k] for k in sorted(CRITERION_KEYS)},
                          "additionalProperties": False},
            "rule": {"oneOf": rules},
        },
    }
