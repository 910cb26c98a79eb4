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
    short = getattr(entry, "short", None)
    if short and short.lower() not in label.lower() and " " not in short:   # what laboratories print: ANC, IgG
        if low.endswith(")") and " (" in low:
            head, _, inner = low[:-1].partition(" (")
            return f"{head} ({short}; {inner})"
        return f"{low} ({short})"
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
    """The result's data to fetch as sentences, in the order of SOURCES (then as listed). A lab
    is asked for within the shortest window of the criteria that lack it (a criterion's own
    ``within``, else the result's lab window), so the one fetched serves them all."""
    asked = questions(result.trial)
    windows = _lab_windows(result)
    items = []
    for m in result.missing:
        path = getattr(m, "path", str(m))
        window = windows.get(path)
        words = f"dated within {window} before {result.as_of.isoformat()}" if window else ""
        items.append(fetch_item(m, asked, words))
    return sorted(items, key=lambda i: SOURCES.index(i.source))


def _lab_windows(result) -> dict:
    """labs.<analyte> -> the shortest window, among the criteria that lack it, a value must be in."""
    from trialscreen.semantics.timewin import parse_duration

    default = None
    if getattr(result, "lab_window", ""):
        default = parse_duration(result.lab_window)
    own: dict = {}
    for criterion in result.trial.criteria:
        for root in (criterion.rule, criterion.applies_if):
            for node in walk(root) if root is not None else ():
                if getattr(node, "within", None) is not None and hasattr(node, "analyte"):
                    key, window = (criterion.id, node.analyte.name), node.within
                    if key not in own or window.before(result.as_of) > own[key].before(result.as_of):
                        own[key] = window        # two windows for one lab: the shorter serves both
    out: dict = {}
    for c in result.criteria:
        for m in c.missing:
            path = getattr(m, "path", str(m))
            if not path.startswith("labs.") or path.count(".") != 1:
                continue
            window = own.get((c.id, path[5:]), default)
            if window is None:
                continue
            if path not in out or window.before(result.as_of) > out[path].before(result.as_of):
                out[path] = window
    return out


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
    if not rest and ask.startswith("is '"):     # what the record names but no vocabulary places
        return FetchItem("investigator", f"a person's judgement of what the record says: {_named_ask(head, ask)}",
                         path)
    return FetchItem("chart", _chart_words(path, head, rest, need, ask, alt, getattr(missing, "of", "")), path)


_KIND_OF = {"conditions": "condition", "treatments": "treatment", "diagnoses": "diagnosis"}
_ATTR_WORDS = {"date": "when", "drugs": "which drugs", "tumor_free_since": "tumour-free since when"}


def _item_words(section: str, index: str, attr: str | None, of: str) -> str:
    """An item of a list and what is asked of it, named by its type where the evaluator gave it:
    'the dates of the immunotherapy (treatment 5 of the record)'."""
    thing = f"{_ONE[section]} {int(index) + 1} of the record"
    if of:
        label = term_words(_KIND_OF[section], of) if section in _KIND_OF else of.replace("_", " ")
        thing = f"the {label} ({thing})"
    if not attr:
        return thing
    if attr == "end" and section == "treatments":
        return f"when {thing} ended" if of else f"the end date of {thing}"
    if attr == "date":
        return f"when {thing} {'was given' if section == 'treatments' else 'was'}: its dates" if of else \
            f"the date of {thing}"
    return f"{thing}: {_ATTR_WORDS.get(attr, attr.replace('_', ' '))}?" if of else \
        f"the {attr.replace('_', ' ')} of {thing}"
_ONE_OF = re.compile(r"^(is '.*' one of )(.+)\?$")


def _named_ask(section: str, ask: str) -> str:
    """"is 'x' one of cns_involvement?" with the vocabulary's names: "... one of CNS involvement?"."""
    m = _ONE_OF.match(ask)
    if m is None or section not in _KIND_OF:
        return ask
    from trialscreen.explain.names import term_name

    names = re.split(r"( or |, )", m.group(2))
    return m.group(1) + "".join(n if n in (" or ", ", ") else term_name(_KIND_OF[section], n) for n in names) + "?"


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
    words = f"{term_words('finding', name)}: detected or not detected (cytogenetics, FISH or sequencing report)"
    return words + (f" ({need})" if need else "")


def _chart_words(path: str, head: str, rest: str, need: str, ask: str, alt: str, of: str = "") -> str:
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
        words = _item_words(section, index, attr, of)
    elif path in FIELDS:
        words = FIELDS[path].label
    else:
        words = path.replace("_", " ")
    if need and need != "the complete list, or mark it complete":
        words += f" ({need})"
    return words + (f": {ask}" if ask else "")
