"""The data to fetch as a checklist in a coordinator's words, grouped by who supplies it.

A result's ``missing`` items name paths into the patient model (``labs.anc``,
``attestations.informed_consent_signed``) with what is needed of them (evaluate/missing.py).
Here each becomes one sentence ("a current absolute neutrophil count (ANC), dated within 28 days
before 2025-06-02") under its source: the laboratory, the chart, or the investigator. The names
come from the vocabularies' labels and the trial's own questions, so nothing disease-specific is
written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialscreen import vocab
from trialscreen.ir.base import walk
from trialscreen.ir.fields import AttestationTest
from trialscreen.patient.fields import FIELDS

SOURCES = ("laboratory", "chart", "investigator")
SOURCE_TITLE = {"laboratory": "From the laboratory", "chart": "From the chart",
                "investigator": "From the investigator"}
_LIMIT = {"uln": "upper limit of normal (ULN)", "lln": "lower limit of normal (LLN)"}
_LISTS = {"diagnoses": "diagnoses", "treatments": "treatments", "neoplasms": "other cancers (neoplasms)",
          "allergies": "allergies"}
_FIELD_WORDS = {"age": "age, or date of birth", "birth_date": "date of birth", "ecog": "ECOG performance status",
                "sex": "sex", "weight": "weight", "height": "height",
                "childbearing_potential": "whether the patient is of childbearing potential",
                "pregnant": "whether the patient is pregnant", "lactating": "whether the patient is breastfeeding",
                "transplant_candidate": "whether the patient is a transplant candidate"}
_ONE = {"diagnoses": "diagnosis", "treatments": "treatment", "neoplasms": "other cancer"}
_ITEM = re.compile(r"^(diagnoses|treatments|neoplasms)\[(\d+)\](?:\.(\w+))?$")


@dataclass(frozen=True)
class FetchItem:
    source: str        # one of SOURCES
    words: str         # the sentence
    path: str          # the patient field it fills (as in the JSON 'missing')


def analyte_words(name: str) -> str:
    """'absolute neutrophil count (ANC)', 'creatinine (serum)', 'alanine aminotransferase (ALT)'."""
    entry = vocab.analytes().get(name)
    label = entry.label if entry is not None else name.replace("_", " ")
    low = label[0].lower() + label[1:] if label[:2] != label[:2].upper() else label
    if len(name) <= 4 and name.upper() not in label.upper():
        return f"{low} ({name.upper()})"
    return low


def term_words(kind: str, name: str) -> str:
    """A finding's, condition's, diagnosis's or treatment type's label, else its name in words."""
    found = {"finding": vocab.findings, "condition": vocab.conditions, "diagnosis": vocab.diagnoses,
             "treatment": vocab.treatments}[kind]().get(name)
    label = found.label if found is not None and found.label else name.replace("_", " ")
    return label if kind == "finding" or label[:2] == label[:2].upper() else label[0].lower() + label[1:]


def questions(trial) -> dict:
    """attestation name -> the question the trial asks the investigator."""
    out: dict = {}
    for criterion in trial.criteria:
        for root in (criterion.rule, criterion.applies_if):
            if root is None:
                continue
            for node in walk(root):
                if isinstance(node, AttestationTest) and node.question:
                    out.setdefault(node.name, node.question)
    return out


def checklist(result) -> list[FetchItem]:
    """The result's data to fetch as sentences, in the order of SOURCES (then as listed)."""
    asked = questions(result.trial)
    window = getattr(result, "lab_window", "")
    window_words = f"dated within {window} before {result.as_of.isoformat()}" if window else ""
    items = [fetch_item(m, asked, window_words) for m in result.missing]
    return sorted(items, key=lambda i: SOURCES.index(i.source))


def fetch_item(missing, asked: dict, window_words: str = "") -> FetchItem:
    path = getattr(missing, "path", str(missing))
    need, ask = getattr(missing, "need", ""), getattr(missing, "ask", "")
    unit, alt = getattr(missing, "unit", ""), getattr(missing, "alt", "")
    head, _, rest = path.partition(".")
    if head == "labs":
        return FetchItem("laboratory", _lab_words(rest, need, unit, window_words), path)
    if head == "cytogenetics":
        return FetchItem("laboratory", _finding_words(rest, need), path)
    if head == "attestations":
        question = asked.get(rest) or f"{rest.replace('_', ' ')}?"
        return FetchItem("investigator", question, path)
    return FetchItem("chart", _chart_words(path, head, rest, need, ask, alt), path)


def _lab_words(rest: str, need: str, unit: str, window_words: str) -> str:
    name, _, attr = rest.partition(".")
    if attr in _LIMIT:
        return f"the {_LIMIT[attr]} of the {analyte_words(name)} result, as the laboratory reports it"
    if attr == "date":
        return f"the date of the {analyte_words(name)} result"
    words = f"a current {analyte_words(name)}"
    if unit:
        words += f", in {unit}"
    if need.startswith("fetch a current"):
        return words + need[need.index(","):] if "," in need else words
    if window_words:
        words += f", {window_words}"
    return words + (f" ({need})" if need else "")


def _finding_words(rest: str, need: str) -> str:
    name, _, attr = rest.partition(".")
    if attr == "percent":
        return f"the percentage of cells with {term_words('finding', name)} (FISH report)"
    words = f"{term_words('finding', name)}: detected or not detected (FISH or cytogenetics report)"
    return words + (f" ({need})" if need else "")


def _chart_words(path: str, head: str, rest: str, need: str, ask: str, alt: str) -> str:
    if head == "conditions":
        name, _, attr = rest.partition(".")
        label = term_words("condition", name)
        words = {"grade": f"the CTCAE grade of the {label}", "active": f"whether the {label} is still active"}.get(
            attr, f"{label}: present or absent, with its date")
    elif path in _FIELD_WORDS:
        words = _FIELD_WORDS[path]
        if alt and alt in _FIELD_WORDS and path != "age":
            words += f", or {_FIELD_WORDS[alt]}"
    elif path in _LISTS:
        words = f"the patient's {_LISTS[path]}" + ("" if ask else ", complete (or the record marked complete)")
    elif (item := _ITEM.match(path)) is not None:
        section, index, attr = item.groups()
        thing = f"{_ONE[section]} {int(index) + 1} of the record"
        words = f"the {attr.replace('_', ' ')} of {thing}" if attr else thing
    elif path in FIELDS:
        words = FIELDS[path].label
    else:
        words = path.replace("_", " ")
    if need and need != "the complete list, or mark it complete":
        words += f" ({need})"
    return words + (f": {ask}" if ask else "")
