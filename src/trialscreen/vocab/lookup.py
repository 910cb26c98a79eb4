"""What the vocabularies know, as plain data: the listings and the look-up of one spelling
behind ``trialscreen vocab``.

Nothing here prints: every function returns dicts, lists or the small dataclasses below, and
the command line renders them (a table, a sentence, JSON). A look-up goes through the same
``Vocabulary.canonical`` the screener uses, so what it says a spelling means is what a
criteria file or a patient record with that spelling gets; a unit goes through the same
normaliser. An analyte is also found by its LOINC code (its ``loinc`` field), whether or not
the vocabulary lists the code as a spelling. The unit reader in words (what a unit spelling
means, every spelling it accepts) is ``vocab/unit_listing.py``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from trialscreen import vocab
from trialscreen.vocab.unit_listing import read_unit, unit_spellings

# The vocabularies, in the order the command lists them: command word -> what it holds.
KINDS: dict[str, str] = {
    "analytes": "laboratory tests: names, LOINC codes, canonical units",
    "units": "unit spellings the unit reader accepts",
    "findings": "cytogenetic findings and their lab spellings",
    "conditions": "clinical conditions (history, complications)",
    "treatments": "treatment types of a patient's history",
    "drugs": "substances of treatment histories and allergy lists",
    "diagnoses": "diagnoses (plasma-cell and related disorders)",
}
_SINGULAR = {"analyte": "analytes", "unit": "units", "finding": "findings", "condition": "conditions",
             "treatment": "treatments", "drug": "drugs", "diagnosis": "diagnoses"}
_LOADERS = {"analytes": vocab.analytes, "findings": vocab.findings, "conditions": vocab.conditions,
            "treatments": vocab.treatments, "drugs": vocab.drugs, "diagnoses": vocab.diagnoses}


def kind_of(word: str) -> str | None:
    """'analytes' or 'analyte' -> 'analytes'; None when the word names no vocabulary."""
    w = str(word).strip().lower()
    return w if w in KINDS else _SINGULAR.get(w)


def close_kinds(word: str) -> list[str]:
    """Vocabulary names close to a misspelt one ('analyts' -> ['analytes'])."""
    return difflib.get_close_matches(str(word).strip().lower(), [*KINDS, *_SINGULAR], n=1, cutoff=0.8)


# Vocabulary.kind -> command word, written out so that an error message about one vocabulary
# does not load the others (a test checks it against the loaders).
_BY_VOCABULARY_KIND = {"analyte": "analytes", "cytogenetic finding": "findings", "condition": "conditions",
                       "treatment type": "treatments", "substance": "drugs", "diagnosis": "diagnoses"}


def command_for(vocabulary_kind: str) -> str | None:
    """The command that lists a vocabulary, from its ``Vocabulary.kind`` ('analyte' ->
    "trialscreen vocab analytes"); None for a vocabulary the command does not list."""
    word = _BY_VOCABULARY_KIND.get(vocabulary_kind)
    return f"trialscreen vocab {word}" if word else None


def vocabulary(kind: str) -> vocab.Vocabulary:
    return _LOADERS[kind]()


# --- listings ------------------------------------------------------------------------------


def overview() -> list[dict]:
    """One row per vocabulary: its name, how many entries, what it holds."""
    return [{"kind": kind, "entries": len(entries(kind)), "holds": what} for kind, what in KINDS.items()]


def entries(kind: str) -> list[dict]:
    """Every entry of one vocabulary as plain data, in the order of its data file."""
    if kind == "units":
        return unit_spellings()
    v = vocabulary(kind)
    return [entry_dict(kind, v, name) for name in v.entries]


def _loinc_codes(analyte) -> list[str]:
    raw = getattr(analyte, "loinc", None)
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return [str(c) for c in raw]
    return [str(raw)]


def _plain(value):
    """YAML data as JSON-ready data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def entry_dict(kind: str, v: vocab.Vocabulary, name: str) -> dict:
    entry = v.entries[name]
    if kind == "analytes":
        limit = entry.detection_limit
        return {
            "name": entry.name,
            "label": entry.label,
            "class": entry.klass,
            "loinc": _loinc_codes(entry),
            "units": [str(u) for u in entry.units],
            "reference_units": [str(u) for u in entry.reference_units],
            "synonyms": list(entry.synonyms),
            "molar_mass": entry.molar_mass,
            "valence": entry.valence,
            "detection_limit": f"{limit[0]:g} {limit[1]}" if limit else None,
        }
    out = {"name": entry.name, "label": entry.label, "synonyms": list(entry.synonyms)}
    extra = _plain(getattr(entry, "extra", {}) or {})
    if kind in ("findings", "treatments"):
        extra["implies"] = [p for p in v.parents.get(name, ()) if p]
    out.update(extra)
    return out


# --- one spelling ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """What a spelling resolves to in one vocabulary."""

    kind: str       # the vocabulary ('analytes', 'units', ...)
    name: str       # the canonical name (for a unit, its canonical spelling)
    via: str        # 'name', 'synonym', 'loinc' or 'unit'
    summary: str    # "analyte creatinine (Creatinine (serum)), LOINC 2160-0, unit umol/L"
    entry: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "via": self.via, "summary": self.summary,
                "entry": self.entry}


@dataclass(frozen=True)
class Suggestion:
    """'did you mean ...' from one vocabulary."""

    kind: str
    names: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "names": list(self.names)}


@dataclass(frozen=True)
class Lookup:
    """The answer for one spelling: every vocabulary it resolves in, the vocabularies where
    it could mean several entries, and otherwise what it is close to."""

    word: str
    kind: str | None                       # the vocabulary asked, None for all of them
    matches: tuple[Match, ...] = ()
    ambiguous: tuple[Suggestion, ...] = ()  # spellings a vocabulary knows to name several entries
    suggestions: tuple[Suggestion, ...] = ()
    unit_error: str | None = None          # why the unit reader refuses it (units were searched)
    elsewhere: tuple[Match, ...] = ()      # asked one vocabulary: where else the word resolves

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def where(self) -> str:
        if self.kind is None:
            return "any vocabulary"
        if self.kind == "units":
            return "the unit reader"
        return f"the {self.kind} vocabulary"

    def sentences(self) -> list[str]:
        """What a person reads: one line per resolution, or why there is none."""
        lines = [f"{self.word} -> {m.summary}" for m in self.matches]
        for a in self.ambiguous:
            lines.append(f"{self.word} is ambiguous in the {a.kind} vocabulary: it could mean "
                         + " or ".join(f"'{n}'" for n in a.names) + "; write one of them")
        if self.found or self.ambiguous:
            return lines
        if self.kind == "units" and self.unit_error:
            return [self.unit_error]  # the unit reader's own sentence, as a record would get it
        lines.append(f"'{self.word}' names nothing in {self.where}.")
        return lines

    def as_dict(self) -> dict:
        return {"word": self.word, "kind": self.kind, "found": self.found,
                "matches": [m.as_dict() for m in self.matches],
                "ambiguous": [a.as_dict() for a in self.ambiguous],
                "suggestions": [s.as_dict() for s in self.suggestions],
                "unit_error": self.unit_error,
                "elsewhere": [m.as_dict() for m in self.elsewhere]}


def _label(entry) -> str:
    label = getattr(entry, "label", "") or ""
    return f" ({label})" if label and label != entry.name else ""


def summary(kind: str, v: vocab.Vocabulary, name: str) -> str:
    """One line on an entry: 'analyte creatinine (Creatinine (serum)), LOINC 2160-0, unit umol/L'."""
    entry = v.entries[name]
    text = f"{v.kind} {name}{_label(entry)}"
    if kind == "analytes":
        codes = _loinc_codes(entry)
        if codes:
            text += ", LOINC " + ", ".join(codes)
        shown = [str(u) for u in entry.units]
        if entry.qualitative:
            text += ", qualitative (" + vocab.QUALITATIVE_WORDS.split(" (")[0] + ")"
        elif shown:
            text += (", unit " if len(shown) == 1 else ", units ") + ", ".join(shown)
    elif kind in ("findings", "treatments"):
        parents = [p for p in v.parents.get(name, ()) if p]
        if parents:
            text += (", implies " if kind == "findings" else ", a kind of ") + ", ".join(parents)
    elif kind == "conditions" and (getattr(entry, "extra", {}) or {}).get("graded"):
        text += ", graded by CTCAE v5"
    return text


def _ambiguous(v: vocab.Vocabulary, word: str) -> tuple[str, ...]:
    """The entries a spelling the vocabulary marks as ambiguous could mean, if it marks any
    (an ``ambiguous`` mapping of key -> names, or a method of the spelling)."""
    marked = getattr(v, "ambiguous", None)
    if not marked:
        return ()
    try:
        hit = marked(word) if callable(marked) else marked.get(v.keyfunc(word))
    except (TypeError, ValueError, LookupError):
        return ()
    if not hit:
        return ()
    if isinstance(hit, str):
        return (hit,)
    if isinstance(hit, dict):
        hit = hit.get("names") or hit.get("candidates") or list(hit)
    names = getattr(hit, "names", None) or getattr(hit, "candidates", None) or hit
    try:
        return tuple(str(n) for n in names)
    except TypeError:
        return (str(names),)


_LOINC = re.compile(r"^\s*(?:loinc\s*[:#]?\s*)?(\d{1,7}-\d)\s*$", re.IGNORECASE)


def _in(kind: str, word: str) -> Match | None:
    v = vocabulary(kind)
    canonical = v.canonical(word)
    via = ""
    if canonical is not None:
        via = "name" if v.keyfunc(word) == v.keyfunc(canonical) else "synonym"
    if kind == "analytes":
        m = _LOINC.match(word)
        if m:
            by_code = [n for n, e in v.entries.items() if m.group(1) in _loinc_codes(e)]
            if by_code and (canonical is None or canonical in by_code):
                canonical, via = by_code[0], "loinc"
    if canonical is None:
        return None
    return Match(kind, canonical, via, summary(kind, v, canonical), entry_dict(kind, v, canonical))


def _unit(word: str) -> tuple[Match | None, str | None]:
    readings = read_unit(word)
    readings.sort(key=lambda r: "unit" not in r)  # what it means first, refusals after
    good = [r for r in readings if "unit" in r]
    if not good:
        r = readings[0]
        return None, r["error"] + (f" ({r['hint']})" if r.get("hint") else "")
    if len(readings) == 1:
        r = readings[0]
        text = f"unit {r['unit']} ({r['means']})"
    else:
        parts = []
        for r in readings:
            who = " and ".join(r["for"])
            parts.append(f"{r['unit']} ({r['means']}) for {who}" if "unit" in r
                         else f"refused for {who}: {r['error']}")
        text = "unit " + "; ".join(parts)
    return Match("units", good[0]["unit"], "unit", text, {"spelling": word, "readings": readings}), None


def _suggest(kind: str, word: str) -> Suggestion | None:
    v = vocabulary(kind)
    close = difflib.get_close_matches(v.keyfunc(word), list(v.index), n=3, cutoff=0.6)
    names = tuple(dict.fromkeys(v.index[k] for k in close))
    return Suggestion(kind, names) if names else None


def lookup(word: str, kind: str | None = None) -> Lookup:
    """What ``word`` resolves to in one vocabulary (``kind``) or in every one."""
    word = str(word).strip()
    kinds = [kind] if kind else [k for k in KINDS if k != "units"] + ["units"]  # names first
    matches: list[Match] = []
    ambiguous: list[Suggestion] = []
    unit_error = None
    for k in kinds:
        if k == "units":
            match, unit_error = _unit(word)
        else:
            match = _in(k, word)
            names = _ambiguous(vocabulary(k), word)
            if names and match is None:
                ambiguous.append(Suggestion(k, names))
        if match is not None:
            matches.append(match)
    suggestions: list[Suggestion] = []
    elsewhere: tuple[Match, ...] = ()
    if not matches and not ambiguous:
        for k in kinds:
            if k != "units":
                s = _suggest(k, word)
                if s:
                    suggestions.append(s)
        if kind is not None:
            elsewhere = lookup(word).matches
    return Lookup(word, kind, tuple(matches), tuple(ambiguous), tuple(suggestions), unit_error, elsewhere)
