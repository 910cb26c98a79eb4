"""The vocabularies: analytes, cytogenetic findings, conditions and diagnoses.

They are data (the YAML files beside this module), not code: adding a synonym
or an analyte is an edit to a data file. Names are matched after a light
normalisation (case, spaces, punctuation), and every look-up that fails can
say "did you mean ...".
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from trialscreen.cache import cached
from trialscreen.units.normalize import Unit, normalize

_HERE = Path(__file__).parent


def load_file(name: str) -> dict:
    """A vocabulary file beside this module, parsed. The parsed data is cached by the file's
    bytes (trialscreen.cache), so a run parses YAML only when a file changed."""
    data = (_HERE / name).read_bytes()
    return cached("vocab-data", (name, data), lambda: _parse_yaml(data))


def _built(name: str, what: str, build):
    """The vocabulary ``build()`` makes from the file ``name``, cached by the file's bytes
    (with the package code, which the cache key includes): indexing the synonyms of every
    entry is then done once, not on every run."""
    return cached("vocab", (name, what, (_HERE / name).read_bytes()), build)


def _parse_yaml(data: bytes) -> dict:
    import yaml  # only on a cache miss: a warm run never imports the YAML parser

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data.decode("utf-8"), Loader=loader)  # noqa: S506 - a safe loader


# Letters lab systems write in names, spelled out as the vocabularies spell them: the Greek
# letters of beta-2 microglobulin and of the kappa and lambda light chains, German sharp s, Danish
# and Norwegian ae and o-slash (Hæmoglobin). Accents are dropped (Créatinine, Hämoglobin). Without
# this each of these letters became '_'.
_NAME_LETTERS = str.maketrans({"\u03b2": "beta", "\u03d0": "beta", "\u03ba": "kappa", "\u03f0": "kappa",
                               "\u03bb": "lambda", "\u03b1": "alpha", "\u03b3": "gamma", "\u00df": "ss",
                               "\u00e6": "ae", "\u00f8": "o"})


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    """Key for analyte, condition and diagnosis names: 'Total Bilirubin' -> 'total_bilirubin',
    'β2-Microglobulin' -> 'beta2_microglobulin', 'Kreatinin' stays 'kreatinin', 'Ca²⁺' -> 'ca2+'."""
    s = str(text).strip().lower()
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s.translate(_NAME_LETTERS)).translate(_NAME_LETTERS)
        s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z%+]+", "_", s).strip("_")


_BANDS = re.compile(r"^(t\(\d+;\d+\))\(.*\)$")
# Unicode minus and dashes as '-' (−17 is -17), the multiplication sign as 'x', '≥' as '>='.
_FINDING_CHARS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2010": "-", "\u2011": "-",
                                "\u00d7": "x", "\u2265": ">=", "\u2a7e": ">="})
# der(14)t(4;14)(p16;q32), +der(14)t(11;14): the derivative of one of the two chromosomes
_DERIVATIVE = re.compile(r"^\+?der\((\d+)\)(t\((\d+);(\d+)\))(?:\(.*\))?$")
# two genes fused, either order: IGH::FGFR3, FGFR3/IGH, CCND1-IGH fusion
_FUSION = re.compile(r"^([a-z][a-z0-9]+?)(?:::|/|-)([a-z][a-z0-9]+?)(?:fusion)?$")
# 1q21 / CKS1B copy numbers: CKS1B x3, 4 copies of 1q21, CKS1B 3 copies, >=4 copies of 1q21
_BAND_1Q21 = r"1q21(?:\.\d+)?"
_LOCUS_1Q = (rf"(?:1q|{_BAND_1Q21}|cks1b|{_BAND_1Q21}/cks1b|cks1b/{_BAND_1Q21}|cks1b\({_BAND_1Q21}\)"
             rf"|{_BAND_1Q21}\(cks1b\))")
_COPIES_1Q = tuple(re.compile(p) for p in (
    rf"^{_LOCUS_1Q}x(?P<n>\d{{1,3}})$",
    rf"^(?P<ge>>=)?(?P<n>\d{{1,3}})copies(?:of)?{_LOCUS_1Q}$",
    rf"^{_LOCUS_1Q}\(?(?P<ge>>=)?(?P<n>\d{{1,3}})copies\)?$",
))


@lru_cache(maxsize=65536)
def finding_key(text: str) -> str:
    """Key for cytogenetic findings: case, spaces and underscores do not matter; nor do band
    or derivative notation around a translocation, the order of two fused genes, or how a
    1q21 copy number is written (cytogenetics.yaml says which spellings and why)."""
    s = re.sub(r"[\s_]+", "", str(text).strip().lower().translate(_FINDING_CHARS))
    m = _DERIVATIVE.match(s)
    if m and m.group(1) in (m.group(3), m.group(4)):
        return m.group(2)
    m = _BANDS.match(s)
    if m:
        return m.group(1)
    for pattern in _COPIES_1Q:
        m = pattern.match(s)
        if m:
            n, at_least = int(m.group("n")), bool(m.groupdict().get("ge"))
            if n >= 4:
                return "amp(1q)"
            if n == 3:
                return "1q+" if at_least else "gain(1q)"
            return s  # two copies or fewer is no gain: not a finding of this vocabulary
    m = _FUSION.match(s)
    if m:
        return "::".join(sorted(m.groups()))
    return s


@dataclass(frozen=True)
class Plausible:
    """What a real result looks like in one unit family, in its canonical unit:
    ``value`` for a lab value, ``limit`` for a ULN or LLN (None where labs publish
    no reference interval). Bounds are inclusive (see analytes.yaml)."""

    unit: Unit
    value: tuple[float, float]
    limit: tuple[float, float] | None = None


@dataclass(frozen=True)
class Analyte:
    name: str
    label: str
    klass: str
    units: tuple[Unit, ...]
    loinc: str | None = None
    molar_mass: float | None = None
    valence: int | None = None
    molar_units_refused: str | None = None
    synonyms: tuple[str, ...] = ()
    reference_units: tuple[Unit, ...] = ()   # units in which a bare-number ULN/LLN is accepted
    plausible: tuple[Plausible, ...] = ()     # one per unit family, in the order of units
    detection_limit: tuple[float, str] | None = None  # the bound 'not detected' stands for
    loinc_also: tuple[str, ...] = ()          # further LOINC codes of the same quantity
    short: str | None = None                  # the name explanations use (ALT, ANC), else the name

    @property
    def qualitative(self) -> bool:
        return self.klass == "qualitative"

    @property
    def codes(self) -> tuple[str, ...]:
        """Every LOINC code that names this analyte, the primary one (``loinc``) first."""
        return ((self.loinc,) if self.loinc else ()) + self.loinc_also


@dataclass(frozen=True)
class Term:
    """A named concept of a vocabulary (finding, condition, diagnosis)."""

    name: str
    label: str
    synonyms: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)


class Vocabulary:
    """One vocabulary: canonical entries and a synonym index."""

    def __init__(self, kind: str, entries: dict, keyfunc, ambiguous: dict | None = None):
        self.kind = kind
        self.entries = entries
        self.keyfunc = keyfunc
        self.index: dict[str, str] = {}
        for canonical, entry in entries.items():
            # an entry's codes (an analyte's LOINC codes) are looked up like its synonyms
            for spelling in (canonical, *getattr(entry, "synonyms", ()), *getattr(entry, "codes", ())):
                key = keyfunc(spelling)
                if self.index.get(key, canonical) != canonical:
                    raise ValueError(f"{kind} spelling {spelling!r} names two entries")
                self.index[key] = canonical
        # spelling key -> what the spelling may mean: never looked up as any one of them
        self.ambiguous: dict[str, tuple[str, ...]] = {}
        for spelling, meanings in (ambiguous or {}).items():
            key = keyfunc(spelling)
            if key in self.index:
                raise ValueError(f"{kind} spelling {spelling!r} is listed as ambiguous but names "
                                 f"{self.index[key]}")
            if not isinstance(meanings, (list, tuple)) or len(meanings) < 2:
                raise ValueError(f"ambiguous {kind} spelling {spelling!r} needs two meanings or more")
            self.ambiguous[key] = tuple(str(m) for m in meanings)

    def canonical(self, name) -> str | None:
        if not isinstance(name, str):
            name = str(name)
        return self.index.get(self.keyfunc(name))

    def ambiguity(self, name) -> str | None:
        """The refusal of a name the vocabulary knows to mean more than one thing ('K': potassium
        in chemistry, kappa in myeloma reports), or None. Such a name is never looked up as any
        of its meanings: ``canonical`` gives None, and the caller refuses the name with this."""
        meanings = self.ambiguous.get(self.keyfunc(str(name)))
        if meanings is None:
            return None
        listed = ", ".join(meanings[:-1]) + " or " + meanings[-1]
        return f"'{str(name).strip()}' is ambiguous: {listed}; write the full name"

    @property
    def parents(self) -> dict:
        """canonical -> the canonical names it implies (from 'implies' in the data)."""
        cached = getattr(self, "_parents", None)
        if cached is None:
            cached = {name: tuple(self.canonical(p) for p in getattr(term, "extra", {}).get("implies", []))
                      for name, term in self.entries.items()}
            self._parents = cached
        return cached

    def get(self, name):
        canonical = self.canonical(name)
        return self.entries[canonical] if canonical else None

    @lru_cache(maxsize=4096)   # noqa: B019 - vocabularies live as long as the process; a batch meets a name often
    def suggest(self, name) -> str:
        """A 'did you mean ...' hint, or a pointer to the vocabulary."""
        refusal = self.ambiguity(name)  # 'K': say what it may mean, not the nearest spelling
        if refusal:
            return refusal
        close = difflib.get_close_matches(self.keyfunc(name), list(self.index), n=3, cutoff=0.6)
        names = []
        for key in close:
            canonical = self.index[key]
            if canonical not in names:
                names.append(canonical)
        from trialscreen.vocab.lookup import command_for  # here: lookup imports this module

        command = command_for(self.kind)
        if names:
            return "did you mean " + " or ".join(f"'{n}'" for n in names) + "?" + (
                f" see '{command}'" if command else "")
        if command:
            return f"run '{command}' for the known names"
        return f"see the {self.kind} vocabulary (trialscreen/vocab) for the known names"

    def __contains__(self, name) -> bool:
        return self.canonical(name) is not None


@lru_cache(maxsize=None)
def analytes() -> Vocabulary:
    return _built("analytes.yaml", "analytes", _build_analytes)


def _build_analytes() -> Vocabulary:
    raw_file = load_file("analytes.yaml")
    data = raw_file["analytes"]
    entries = {}
    for name, raw in data.items():
        klass = raw.get("class", "chemistry")
        units = tuple(normalize(u, klass) for u in raw.get("units", []) or [])
        plausible = []
        for p in raw.get("plausible", []) or []:
            value = _range(name, p["value"])
            limit = _range(name, p["limit"]) if p.get("limit") is not None else None
            plausible.append(Plausible(normalize(str(p["unit"]), klass), value, limit))
        entries[name] = Analyte(
            name=name,
            label=raw.get("label", name),
            klass=klass,
            units=units,
            loinc=checked_loinc(name, raw.get("loinc")),
            loinc_also=tuple(code for c in raw.get("loinc_also", []) or [] if (code := checked_loinc(name, c))),
            molar_mass=raw.get("molar_mass"),
            valence=raw.get("valence"),
            molar_units_refused=raw.get("molar_units_refused"),
            synonyms=tuple(str(s) for s in raw.get("synonyms", []) or []),
            # dict.fromkeys: K/uL and 10^3/uL are one unit, kept once, in order
            reference_units=tuple(dict.fromkeys(normalize(str(u), klass)
                                                for u in raw.get("reference_units", []) or [])),
            plausible=tuple(plausible),
            detection_limit=_detection_limit(name, raw.get("detection_limit")),
            short=str(raw["short"]) if raw.get("short") else None,
        )
    return Vocabulary("analyte", entries, name_key, raw_file.get("ambiguous"))


_LOINC = re.compile(r"(\d{1,7})-(\d)")


def checked_loinc(name: str, code) -> str | None:
    """A LOINC code of the vocabulary, checked: the form 'digits-check digit' and LOINC's
    mod-10 check digit (loinc.org: the Luhn algorithm over the digits before the hyphen),
    so that a mistyped code fails at load instead of naming the wrong test."""
    if code is None:
        return None
    m = _LOINC.fullmatch(str(code))
    if not m:
        raise ValueError(f"analyte {name}: LOINC code {code!r} is not of the form 12345-6")
    total = 0
    for i, ch in enumerate(reversed(m.group(1))):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    if (10 - total % 10) % 10 != int(m.group(2)):
        raise ValueError(f"analyte {name}: LOINC code {code} has a wrong check digit")
    return str(code)


def _range(name: str, raw) -> tuple[float, float]:
    """[low, high] of a plausible range, as floats; anything else is an error in the data file."""
    pair = tuple(float(x) for x in raw)
    if len(pair) != 2 or pair[0] > pair[1]:
        raise ValueError(f"analyte {name}: a plausible range is not [low, high]")
    return pair[0], pair[1]


def _detection_limit(name: str, raw) -> tuple[float, str] | None:
    """'20 IU/mL' -> (20.0, 'IU/mL'): what a result 'not detected' is known to be below."""
    if raw is None:
        return None
    number, _, unit = str(raw).strip().partition(" ")
    try:
        return float(number), unit.strip()
    except ValueError:
        raise ValueError(f"analyte {name}: detection_limit '{raw}' is not 'number unit'") from None


def _terms(file: str, top: str, kind: str, keyfunc) -> Vocabulary:
    return _built(file, top, lambda: _build_terms(file, top, kind, keyfunc))


def _build_terms(file: str, top: str, kind: str, keyfunc) -> Vocabulary:
    data = load_file(file)[top]
    entries = {}
    for name, raw in data.items():
        raw = raw or {}
        entries[name] = Term(
            name=name,
            label=raw.get("label", name),
            synonyms=tuple(str(s) for s in raw.get("synonyms", []) or []),
            extra={k: v for k, v in raw.items() if k not in ("label", "synonyms")},
        )
    return Vocabulary(kind, entries, keyfunc)


@lru_cache(maxsize=None)
def findings() -> Vocabulary:
    return _terms("cytogenetics.yaml", "findings", "cytogenetic finding", finding_key)


@lru_cache(maxsize=None)
def conditions() -> Vocabulary:
    return _terms("conditions.yaml", "conditions", "condition", name_key)


@lru_cache(maxsize=None)
def diagnoses() -> Vocabulary:
    return _terms("diagnoses.yaml", "diagnoses", "diagnosis", name_key)


@lru_cache(maxsize=None)
def treatments() -> Vocabulary:
    return _terms("treatments.yaml", "treatments", "treatment type", name_key)


@lru_cache(maxsize=None)
def drugs() -> Vocabulary:
    return _terms("drugs.yaml", "drugs", "substance", name_key)


@lru_cache(maxsize=None)
def attributes() -> dict:
    """attribute name -> (Vocabulary of its values, its aliases): the attributes whose values
    form a closed set (attributes.yaml)."""
    return _built("attributes.yaml", "attributes", _build_attributes)


def _build_attributes() -> dict:
    out = {}
    for attr, raw in load_file("attributes.yaml")["attributes"].items():
        values = {name: Term(name=name, label=name, synonyms=tuple(str(s) for s in (v or {}).get("synonyms", [])),
                             extra={"implies": list((v or {}).get("implies", []) or [])})
                  for name, v in raw["values"].items()}
        out[name_key(attr)] = (Vocabulary(f"{attr} value", values, name_key),
                               tuple(name_key(a) for a in raw.get("aliases", []) or []))
    return out


def substance(text: str) -> str | None:
    """The substance a free-text entry names ('Revlimid', 'lenalidomide (rash)'),
    or None when it names none the vocabulary knows."""
    v = drugs()
    found = v.canonical(text)
    if found:
        return found
    key = "_" + name_key(text) + "_"
    for spelling, canonical in v.index.items():
        if f"_{spelling}_" in key:
            return canonical
    return None


# yes/no and qualitative answers live in answers.py; read them as vocab.qualitative, vocab.yes_no
from trialscreen.vocab.answers import QUALITATIVE_WORDS, qualitative, yes_no  # noqa: E402, F401

# the implies hierarchy lives in hierarchy.py; read it as vocab.kinds, vocab.with_descendants, vocab.broader
from trialscreen.vocab.hierarchy import broader, kinds, with_descendants  # noqa: E402, F401
