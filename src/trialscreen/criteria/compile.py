"""Compile a criteria file into a :class:`Trial` of node trees.

The whole file is validated before any patient is screened: unknown keys,
unknown analytes, findings, conditions and diagnoses (with "did you mean"),
units that do not parse, thresholds whose unit cannot convert to the
analyte's, duplicate ids. Every problem is collected with file:line:column and
reported together. The format is documented in criteria/README.md.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from pathlib import Path

from trialscreen import vocab
from trialscreen.criteria.yamlsrc import LList, LMap, load_yaml
from trialscreen.engine.logic import OP_WORDS, SYMBOL, fmt
from trialscreen.engine.nodes import (
    Absolute,
    All,
    AllergyTest,
    Any,
    AttestationTest,
    ConditionTest,
    DiagnosisTest,
    FieldTest,
    FindingTest,
    LabResult,
    LabTest,
    NeoplasmTest,
    Not,
    Reference,
    Relative,
    TreatmentTest,
    Window,
)
from trialscreen.engine.screen import Criterion, Trial
from trialscreen.engine.timewin import parse_duration
from trialscreen.errors import CriteriaError, FileReadError, Location, Problem, UnitError
from trialscreen.patient.fields import FIELDS as PATIENT_FIELDS
from trialscreen.units import convert
from trialscreen.units.normalize import DIMENSIONLESS, normalize, split_value

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
_ID = re.compile(r"^[IE]\d+(?:[a-z]|\.\d+)?$")
_RELATIVE = re.compile(
    r"^\s*(?:(?P<mult>[0-9]*\.?[0-9]+)\s*(?:x|\*|×)\s*)?(?P<ref>ULN|LLN)"
    r"(?:\s*(?P<sign>[+-])\s*(?P<off>[0-9]*\.?[0-9]+)\s*(?P<unit>\S.*))?\s*$", re.I)


class _Compiler:
    def __init__(self, file: str, shared: dict | None = None):
        self.file = file
        self.problems: list[Problem] = []
        self.definitions: dict = {}
        self.shared = shared or {}

    # --- reporting -----------------------------------------------------------------------
    def error(self, pos, message: str, hint: str = ""):
        self.problems.append(Problem(Location(self.file, pos[0], pos[1]), message, hint))

    def warn(self, pos, message: str, hint: str = ""):
        self.problems.append(Problem(Location(self.file, pos[0], pos[1]), message, hint, "warning"))

    def unknown_keys(self, obj: LMap, allowed: set, what: str):
        for key in obj:
            if key not in allowed:
                close = _close(str(key), allowed)
                self.error(obj.where_key(key), f"unknown key '{key}' in {what}",
                           f"did you mean '{close}'?" if close else "allowed: " + ", ".join(sorted(allowed)))

    # --- trial ----------------------------------------------------------------------------
    def trial(self, data, text: str) -> Trial | None:
        if not isinstance(data, LMap):
            self.error((1, 1), "a criteria file must be a mapping with id, title and inclusion")
            return None
        self.unknown_keys(data, TRIAL_KEYS, "the trial")
        for key in ("id", "title", "source", "version"):
            if key not in data:
                self.error(data.pos, f"the trial has no '{key}'", f"add '{key}:' at the top level")
        tid = self.text_value(data, "id", "the trial id")
        title = self.text_value(data, "title", "the title")
        source = self.text_value(data, "source", "the source")
        version = data.get("version")
        if isinstance(version, date):
            version = version.isoformat()
        elif version is not None and not isinstance(version, (str, int, float)):
            self.error(data.where("version"), "the version must be text or a date")
        complete = data.get("complete", True)
        if not isinstance(complete, bool):
            self.error(data.where("complete"), "complete must be true or false")
            complete = True
        not_encoded = data.get("not_encoded") or []
        if not isinstance(not_encoded, list) or not all(isinstance(x, str) for x in not_encoded):
            self.error(data.where("not_encoded"), "not_encoded must be a list of texts")
            not_encoded = []
        if not complete and not not_encoded:
            self.error(data.where("complete"), "an incomplete trial must list what is not encoded",
                       "add not_encoded: [ ... ]")
        if "definitions" in data:
            self.read_definitions(data["definitions"], data.where("definitions"))
        criteria = []
        self.seen_ids: dict = {}
        for kind in ("inclusion", "exclusion"):
            items = data.get(kind)
            if items is None:
                if kind == "inclusion":
                    self.error(data.pos, "the trial has no 'inclusion' list")
                continue
            if not isinstance(items, LList):
                self.error(data.where(kind), f"'{kind}' must be a list of criteria")
                continue
            for index, item in enumerate(items):
                c = self.criterion(item, items.where(index), kind)
                if c is not None:
                    criteria.append(c)
        if not criteria and not self.problems:
            self.error(data.pos, "the trial has no criteria", "add at least one inclusion criterion")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        meta = {k: data[k] for k in ("phase", "sponsor", "population", "notes") if k in data}
        window = self.duration(data, "screening_window")
        return Trial(tid or "", title or "", source or "", str(version or ""), criteria,
                     self.file, digest, complete, list(not_encoded), meta, window)

    def text_value(self, data: LMap, key: str, what: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "":
            self.error(data.where(key), f"{what} must be a non-empty text")
            return None
        return str(value).strip()

    def read_definitions(self, defs, pos):
        if not isinstance(defs, LMap):
            self.error(pos, "definitions must be a mapping of name to rule")
            return
        for name, body in defs.items():
            if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
                self.error(defs.where_key(name), f"'{name}' is not a definition name",
                           "use lower-case snake_case")
                continue
            if name in self.shared:
                self.error(defs.where_key(name), f"'{name}' is already a shared definition",
                           "use it with {use: " + name + "}, or choose another name")
                continue
            node = self.node(body, defs.where(name))
            if node is not None:
                self.definitions[name] = node

    def criterion(self, item, pos, kind) -> Criterion | None:
        if not isinstance(item, LMap):
            self.error(pos, f"each {kind} criterion must be a mapping with id, text and rule")
            return None
        self.unknown_keys(item, CRITERION_KEYS, "a criterion")
        cid = item.get("id")
        if not isinstance(cid, str) or not _ID.match(cid):
            self.error(item.where("id") if "id" in item else pos,
                       f"criterion id {cid!r} is not of the form I1, I2, ... or E1, E2, ...",
                       "use the registry's numbering")
            cid = str(cid)
        elif (kind == "inclusion") != cid.startswith("I"):
            self.error(item.where("id"), f"criterion '{cid}' is in the {kind} list",
                       "inclusion ids start with I, exclusion ids with E")
        if cid in self.seen_ids:
            self.error(item.where("id") if "id" in item else pos, f"duplicate criterion id '{cid}'",
                       f"it is already used at line {self.seen_ids[cid]}")
        self.seen_ids.setdefault(cid, pos[0])
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            self.error(item.where("text") if "text" in item else pos,
                       f"criterion {cid} needs the protocol's verbatim 'text'")
            text = ""
        if "rule" not in item:
            self.error(pos, f"criterion {cid} has no 'rule'",
                       "write its logic, or an attestation for a judgment")
            return None
        rule = self.node(item["rule"], item.where("rule"))
        applies = None
        if "applies_if" in item:
            applies = self.node(item["applies_if"], item.where("applies_if"))
        note = item.get("note") or ""
        unreachable = item.get("unreachable") or {}
        if not isinstance(unreachable, dict) or any(
                k not in STATUSES or not isinstance(v, str) or not v.strip() for k, v in unreachable.items()):
            self.error(item.where("unreachable"), "unreachable maps a status (pass, fail, unknown) to the "
                       "reason no patient can reach it")
            unreachable = {}
        if rule is None:
            return None
        return Criterion(cid, kind, " ".join(text.split()), rule, applies, str(note), pos[0],
                         dict(unreachable))

    # --- nodes ------------------------------------------------------------------------------
    def node(self, obj, pos):
        if not isinstance(obj, LMap):
            self.error(pos, "a rule must be a mapping such as {lab: ..., lt: ...} or {all: [...]}")
            return None
        heads = [k for k in obj if k in NODE_KEYS]
        if not heads:
            close = _close(str(next(iter(obj), "")), set(NODE_KEYS))
            self.error(obj.pos, "a rule needs one of: " + ", ".join(NODE_KEYS),
                       f"did you mean '{close}'?" if close else "")
            return None
        if len(heads) > 1:
            self.error(obj.where_key(heads[1]), f"one rule cannot be both '{heads[0]}' and '{heads[1]}'",
                       "combine them with all: or any:")
            return None
        head = heads[0]
        allowed = NODE_KEYS[head] | {head}
        self.unknown_keys(obj, allowed, f"a {head} rule")
        return getattr(self, "n_" + head)(obj, obj.where(head))

    def children(self, obj, head, pos):
        items = obj[head]
        if not isinstance(items, LList) or not items:
            self.error(pos, f"'{head}' needs a non-empty list of rules")
            return None
        out = [self.node(item, items.where(i)) for i, item in enumerate(items)]
        return None if any(x is None for x in out) else out

    def n_all(self, obj, pos):
        items = self.children(obj, "all", pos)
        return All(items) if items else None

    def n_any(self, obj, pos):
        items = self.children(obj, "any", pos)
        return Any(items) if items else None

    def n_not(self, obj, pos):
        inner = self.node(obj["not"], pos)
        return Not(inner) if inner else None

    def n_use(self, obj, pos):
        name = obj["use"]
        if not isinstance(name, str):
            self.error(pos, "use names one definition", "write {use: name}")
            return None
        node = self.definitions.get(name) or self.shared.get(name)
        if node is None:
            known = set(self.definitions) | set(self.shared)
            close = _close(str(name), known)
            self.error(pos, f"no definition named '{name}'",
                       f"did you mean '{close}'?" if close else "define it under 'definitions:'")
            return None
        return Reference(name, node)

    # lab ---------------------------------------------------------------------------------
    def n_lab(self, obj, pos):
        name = obj["lab"]
        analyte = vocab.analytes().get(name) if isinstance(name, str) else None
        if analyte is None:
            self.error(pos, f"unknown analyte '{name}'", vocab.analytes().suggest(str(name)))
            return None
        within = self.duration(obj, "within")
        ops = [k for k in obj if k in COMPARE or k in ("is", "by_unit")]
        if len(ops) != 1:
            self.error(pos, f"a lab rule needs exactly one comparison ({', '.join(COMPARE)}, is or by_unit)",
                       "use all: or any: to combine several")
            return None
        op = ops[0]
        where = obj.where(op)
        if op == "is":
            if not analyte.qualitative:
                self.error(where, f"'is' is for qualitative tests; {analyte.name} is a measured value",
                           "compare it with lt, le, gt, ge, ...")
                return None
            try:
                expected = vocab.qualitative(obj["is"])
            except ValueError:
                expected = None
            if expected is None:
                self.error(where, f"'{obj['is']}' is not positive or negative")
                return None
            return LabResult(analyte, expected, within)
        if analyte.qualitative:
            self.error(where, f"{analyte.name} is a qualitative test", "use 'is: positive' or 'is: negative'")
            return None
        if op == "by_unit":
            alts = obj["by_unit"]
            if not isinstance(alts, LList) or len(alts) < 2:
                self.error(where, "by_unit needs a list of at least two comparisons, one per unit")
                return None
            out = []
            for i, alt in enumerate(alts):
                apos = alts.where(i)
                if not isinstance(alt, LMap) or len(alt) != 1 or next(iter(alt)) not in OP_WORDS:
                    self.error(apos, "each by_unit item is one comparison such as {gt: 200 IU/mL}")
                    return None
                aop = next(iter(alt))
                thr = self.threshold(alt[aop], analyte, alt.where(aop))
                if thr is None:
                    return None
                if not isinstance(thr, Absolute):
                    self.error(apos, "by_unit alternatives must be absolute thresholds with units")
                    return None
                out.append((OP_WORDS[aop], thr))
            for i, (_, a) in enumerate(out):
                for _, b in out[i + 1:]:
                    if convert.convertible(a.unit, b.unit, analyte):
                        self.error(where, f"by_unit alternatives {a.text} and {b.text} are in convertible units",
                                   "by_unit is for units that do not convert (IU/mL vs copies/mL)")
                        return None
            return LabTest(analyte, out, within)
        if op in ("between", "outside"):
            pair = obj[op]
            if not isinstance(pair, LList) or len(pair) != 2:
                self.error(where, f"'{op}' needs a list of two thresholds [low, high]")
                return None
            lo = self.threshold(pair[0], analyte, pair.where(0))
            hi = self.threshold(pair[1], analyte, pair.where(1))
            if lo is None or hi is None:
                return None
            if isinstance(lo, Absolute) and isinstance(hi, Absolute):
                lo_v = lo.value * convert.factor(lo.unit, hi.unit, analyte)
                if lo_v > hi.value:
                    self.error(where, f"the range [{lo.text}, {hi.text}] is empty", "put the low end first")
            if op == "between":
                return All([LabTest(analyte, [(">=", lo)], within),
                              LabTest(analyte, [("<=", hi)], within)])
            return Any([LabTest(analyte, [("<", lo)], within), LabTest(analyte, [(">", hi)], within)])
        thr = self.threshold(obj[op], analyte, where)
        if thr is None:
            return None
        return LabTest(analyte, [(OP_WORDS[op], thr)], within)

    def threshold(self, raw, analyte, pos):
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            self.error(pos, f"'{raw}' is not a threshold", "write it like '177 umol/L' or '3 x ULN'")
            return None
        text = str(raw).strip()
        unreadable = ("write it like '177 umol/L', '75 x10^9/L', '3 x ULN' or 'LLN - 20 g/L'")
        m = _RELATIVE.match(text)
        if m:
            mult = float(m.group("mult")) if m.group("mult") else 1.0
            ref = m.group("ref").lower()
            if m.group("off"):
                if m.group("mult"):
                    self.error(pos, f"'{text}' mixes a multiple and an offset of the {ref.upper()}")
                    return None
                try:
                    unit = normalize(m.group("unit"), analyte.klass)
                    self.check_unit(unit, analyte)
                except UnitError as exc:
                    self.error(pos, f"in threshold '{text}': {exc.message}", exc.hint)
                    return None
                off = float(m.group("off")) * (1 if m.group("sign") == "+" else -1)
                return Relative(ref, 1.0, off, unit, text)
            return Relative(ref, mult, None, None, text)
        try:
            censor, number, unit_text = split_value(text)
            if not math.isfinite(number):  # 1e999, .inf, .nan
                raise ValueError(text)
        except ValueError:
            self.error(pos, f"cannot read the threshold '{text}'", unreadable)
            return None
        if censor:
            self.error(pos, f"a threshold cannot be a bound ('{text}')", "use the comparison key instead")
            return None
        try:
            unit = normalize(unit_text, analyte.klass)
            self.check_unit(unit, analyte)
        except UnitError as exc:
            self.error(pos, f"in threshold '{text}': {exc.message}", exc.hint)
            return None
        shown = f"{fmt(number)} {unit}" if unit is not DIMENSIONLESS else fmt(number)
        return Absolute(number, unit, shown)

    def check_unit(self, unit, analyte):
        if convert.family_of(unit, analyte)[0] is not None:
            return
        fams = " or ".join(str(u) for u in analyte.units)
        if unit is DIMENSIONLESS:
            raise UnitError(f"{analyte.name} thresholds need a unit", hint=f"for example {fams}")
        raise UnitError(f"{unit} cannot convert to {analyte.name}'s unit ({fams})",
                        hint="check the unit, or that the threshold belongs to this analyte")

    def duration(self, obj, key):
        if key not in obj:
            return None
        try:
            return parse_duration(obj[key])
        except ValueError:
            self.error(obj.where(key), f"'{obj[key]}' is not a duration",
                       "write it like '28 days', '4 weeks', '3 months' or '3 years'")
            return None

    def window(self, obj):
        within = self.duration(obj, "within")
        after = obj.get("after")
        if after is not None and within is None:
            self.error(obj.where("after"), "'after' needs 'within' (how long after)")
            return None
        if within is None:
            return None
        if after is not None:
            canonical = vocab.treatments().canonical(after) if isinstance(after, str) else None
            if canonical is None:
                self.error(obj.where("after"), f"'after' names a treatment type such as asct, not '{after}'",
                           vocab.treatments().suggest(str(after)))
                return None
            after = canonical
        return Window(within, after)

    # field -------------------------------------------------------------------------------
    def n_field(self, obj, pos):
        name = obj["field"]
        kind = FIELDS.get(name) if isinstance(name, str) else None
        if kind is None:
            close = _close(str(name), set(FIELDS))
            self.error(pos, f"unknown patient field '{name}'",
                       f"did you mean '{close}'?" if close else "fields: " + ", ".join(FIELDS))
            return None
        ops = [k for k in obj if k in COMPARE or k == "in"]
        if len(ops) != 1:
            self.error(pos, "a field rule needs exactly one comparison", "use all: to combine")
            return None
        op = ops[0]
        where = obj.where(op)
        raw = obj[op]
        if op == "in":
            values = self.field_values(raw, kind, where)
            if values is None:
                return None
            return FieldTest(name, "in", frozenset(values), "in " + _range_text(values))
        if op in ("between", "outside"):
            if not isinstance(raw, LList) or len(raw) != 2:
                self.error(where, f"'{op}' needs [low, high]")
                return None
            lo = self.field_value(raw[0], kind, raw.where(0))
            hi = self.field_value(raw[1], kind, raw.where(1))
            if lo is None or hi is None:
                return None
            return FieldTest(name, op, (lo, hi), f"{op} {fmt(lo)} and {fmt(hi)}")
        value = self.field_value(raw, kind, where)
        if value is None:
            return None
        sym = OP_WORDS[op]
        if kind in ("sex", "bool") and sym not in ("==", "!="):
            self.error(where, f"{name} can only be compared with eq or ne")
            return None
        shown = value if not isinstance(value, bool) else ("yes" if value else "no")
        shown = fmt(shown) if isinstance(shown, float) else shown
        unit = {"kg": " kg", "cm": " cm"}.get(kind, "")
        return FieldTest(name, sym, value, f"{SYMBOL[sym]} {shown}{unit}")

    def field_values(self, raw, kind, pos):
        if isinstance(raw, str) and re.match(r"^\s*\d+\s*\.\.\s*\d+\s*$", raw):
            lo, hi = (int(x) for x in raw.split(".."))
            if lo > hi:
                self.error(pos, f"the range {raw} is empty")
                return None
            values = [self.field_value(v, kind, pos) for v in (lo, hi)]
            return None if None in values else list(range(lo, hi + 1))
        if not isinstance(raw, LList) or not raw:
            self.error(pos, "'in' needs a list of values or a range such as 0..3")
            return None
        out = [self.field_value(v, kind, raw.where(i)) for i, v in enumerate(raw)]
        return None if any(v is None for v in out) else out

    def field_value(self, raw, kind, pos):
        if kind == "sex":
            if raw not in ("female", "male"):
                self.error(pos, f"'{raw}' is not a sex", "use female or male")
                return None
            return raw
        if kind == "bool":
            if not isinstance(raw, bool):
                self.error(pos, f"'{raw}' is not true or false")
                return None
            return raw
        if kind == "integer":
            if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 5:
                self.error(pos, f"'{raw}' is not an ECOG grade 0 to 5")
                return None
            return raw
        if kind in ("kg", "cm"):
            try:
                censor, number, unit_text = split_value(str(raw))
                value = number * convert.factor(normalize(unit_text, "body"), normalize(kind, "body"))
                if not math.isfinite(value):
                    raise ValueError(raw)
            except (ValueError, UnitError):
                self.error(pos, f"'{raw}' is not a {'weight' if kind == 'kg' else 'height'} with a unit",
                           f"write it like '50 {kind}'")
                return None
            return value
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            self.error(pos, f"'{raw}' is not a number")
            return None
        return float(raw)

    # cytogenetics ----------------------------------------------------------------------
    def n_cytogenetics(self, obj, pos):
        spec = obj["cytogenetics"]
        if not isinstance(spec, LMap):
            self.error(pos, "cytogenetics needs any_of: [...] or none_of: [...]")
            return None
        self.unknown_keys(spec, {"any_of", "none_of", "min_percent"}, "a cytogenetics rule")
        modes = [k for k in ("any_of", "none_of") if k in spec]
        if len(modes) != 1:
            self.error(pos, "cytogenetics needs exactly one of any_of or none_of")
            return None
        names = spec[modes[0]]
        if not isinstance(names, LList) or not names:
            self.error(spec.where(modes[0]), f"{modes[0]} needs a list of findings")
            return None
        canon = []
        bad = False
        for i, name in enumerate(names):
            c = vocab.findings().canonical(name) if isinstance(name, str) else None
            if c is None:
                self.error(names.where(i), f"unknown cytogenetic finding '{name}'",
                           vocab.findings().suggest(str(name)))
                bad = True
            elif c in canon:
                self.error(names.where(i), f"'{name}' is {c} again", "list each finding once")
                bad = True
            else:
                canon.append(c)
        minp = spec.get("min_percent")
        if minp is not None and (isinstance(minp, bool) or not isinstance(minp, (int, float))
                                 or not 0 < minp <= 100):
            self.error(spec.where("min_percent"), "min_percent must be a number above 0 and at most 100")
            return None
        if bad:
            return None
        return FindingTest(canon, "any" if modes[0] == "any_of" else "none",
                             float(minp) if minp is not None else None)

    # list sections ---------------------------------------------------------------------
    def names(self, raw, pos, vocabulary=None, what="name"):
        items = raw if isinstance(raw, LList) else [raw]
        if not items:
            self.error(pos, f"an empty list names no {what}", "name at least one")
            return None
        out = []
        for i, name in enumerate(items):
            where = raw.where(i) if isinstance(raw, LList) else pos
            if not isinstance(name, str) or not name.strip():
                self.error(where, f"'{name}' is not a {what}")
                return None
            if vocabulary is not None:
                c = vocabulary.canonical(name)
                if c is None:
                    self.error(where, f"unknown {vocabulary.kind} '{name}'", vocabulary.suggest(name))
                    return None
                out.append(c)
            else:
                out.append(vocab.name_key(name))
        return out

    def attrs(self, obj, key="with"):
        raw = obj.get(key)
        if raw is None:
            return {}
        if not isinstance(raw, LMap):
            self.error(obj.where(key), f"'{key}' needs a mapping of attribute to value(s)")
            return None
        out = {}
        for k, v in raw.items():
            values = list(v) if isinstance(v, LList) else [v]
            if not values or not all(isinstance(x, (str, int, float, bool)) for x in values):
                self.error(raw.where(k), f"'{k}' needs a value or a list of values (text, number, true, false)")
                return None
            attr = vocab.name_key(k)
            # an alias names its attribute ('subtype: IgM' is the isotype)
            attr = next((a for a, (_, aliases) in vocab.attributes().items() if attr in aliases), attr)
            closed = vocab.attributes().get(attr)
            if closed is not None:
                known = [closed[0].canonical(x) if isinstance(x, str) else None for x in values]
                for x, c in zip(values, known):
                    if c is None:
                        self.error(raw.where(k), f"'{x}' is not a known {k}", closed[0].suggest(str(x)))
                        return None
                # a value covers the values that are kinds of it (relapsed covers relapsed_refractory)
                values = vocab.with_descendants(closed[0], known)
            out[attr] = frozenset(vocab.name_key(x) if isinstance(x, str) else x for x in values)
        return out

    def n_diagnosis(self, obj, pos):
        names = self.names(obj["diagnosis"], pos, vocab.diagnoses())
        attrs = self.attrs(obj)
        if names is None or attrs is None:
            return None
        return DiagnosisTest(names, attrs, self.window(obj))

    def n_condition(self, obj, pos):
        names = self.names(obj["condition"], pos, vocab.conditions())
        if names is None:
            return None
        grade = None
        if "grade" in obj:
            g = obj["grade"]
            if (not isinstance(g, LMap) or len(g) != 1 or next(iter(g)) not in OP_WORDS
                    or not isinstance(next(iter(g.values())), int) or isinstance(next(iter(g.values())), bool)):
                self.error(obj.where("grade"), "grade needs one comparison such as {ge: 3}")
                return None
            if not 0 <= next(iter(g.values())) <= 5:
                self.error(obj.where("grade"), f"'{next(iter(g.values()))}' is not a CTCAE grade 0 to 5")
                return None
            op, n = next(iter(g.items()))
            grade = (OP_WORDS[op], n)
        active = obj.get("active")
        if active is not None and not isinstance(active, bool):
            self.error(obj.where("active"), "active must be true or false")
            return None
        return ConditionTest(list(dict.fromkeys(names)), grade, active, self.window(obj))

    def n_treatment(self, obj, pos):
        raw = obj["treatment"]
        names = None if raw == "any" else self.names(raw, pos, vocab.treatments())
        if raw != "any" and names is None:
            return None
        maybe, asked = (), names
        if names is not None:  # a type covers the types the vocabulary says are kinds of it
            names = vocab.with_descendants(vocab.treatments(), names)
            maybe = vocab.broader(vocab.treatments(), names)
        drugs = self.names(obj["drug"], obj.where("drug"), vocab.drugs()) if "drug" in obj else None
        attrs = self.attrs(obj)
        if attrs is None or ("drug" in obj and drugs is None):
            return None
        duration = None
        if "duration" in obj:
            d = obj["duration"]
            if not isinstance(d, LMap) or len(d) != 1 or next(iter(d)) not in ("lt", "le", "gt", "ge"):
                self.error(obj.where("duration"), "duration needs one comparison such as {le: 12 months}")
                return None
            op, text = next(iter(d.items()))
            try:
                duration = (OP_WORDS[op], parse_duration(text))
            except ValueError:
                self.error(d.where(op), f"'{text}' is not a duration")
                return None
        count = None
        if "count" in obj:
            c = obj["count"]
            if (not isinstance(c, LMap) or len(c) != 1 or next(iter(c)) not in OP_WORDS
                    or not isinstance(next(iter(c.values())), int) or isinstance(next(iter(c.values())), bool)
                    or next(iter(c.values())) < 0):
                self.error(obj.where("count"), "count needs one comparison with a whole number, such as {ge: 2}")
                return None
            if duration is not None:
                self.error(obj.where("count"), "a treatment rule takes count or duration, not both")
                return None
            op, n = next(iter(c.items()))
            count = (OP_WORDS[op], n)
        return TreatmentTest(names, attrs, self.window(obj), drugs=drugs, duration=duration, count=count,
                               maybe=maybe, asked=asked)

    def n_neoplasm(self, obj, pos):
        spec = obj["neoplasm"]
        if spec is None:
            spec = LMap()
            spec.pos, spec.key_pos, spec.value_pos = pos, {}, {}
        if not isinstance(spec, LMap):
            self.error(pos, "neoplasm needs a mapping (except, unless_tumor_free_for)")
            return None
        self.unknown_keys(spec, {"except", "unless_tumor_free_for"}, "a neoplasm rule")
        exempt = []
        raw = spec.get("except") or []
        if not isinstance(raw, list):
            self.error(spec.where("except"), "except needs a list")
            return None
        for i, item in enumerate(raw):
            if isinstance(item, str):
                exempt.append((frozenset([vocab.name_key(item)]), {}))
            elif isinstance(item, LMap) and "type" in item:
                types = self.names(item["type"], item.where("type"), what="neoplasm type")
                attrs = {vocab.name_key(k): frozenset(vocab.name_key(x) if isinstance(x, str) else x
                                                      for x in (v if isinstance(v, list) else [v]))
                         for k, v in item.items() if k != "type"}
                if types is None:
                    return None
                exempt.append((frozenset(types), attrs))
            else:
                self.error(raw.where(i), "each exception is a type name or {type: ..., attribute: value}")
                return None
        free = self.duration(spec, "unless_tumor_free_for") if "unless_tumor_free_for" in spec else None
        return NeoplasmTest(exempt, free)

    def n_attestation(self, obj, pos):
        name = obj["attestation"]
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
            self.error(pos, f"'{name}' is not an attestation name", "use lower-case snake_case")
            return None
        expected = obj.get("is", True)
        if not isinstance(expected, bool):
            self.error(obj.where("is"), "is must be true or false")
            return None
        question = obj.get("question", "")
        return AttestationTest(name, expected, str(question))

    def n_allergy(self, obj, pos):
        names = self.names(obj["allergy"], pos, vocab.drugs())
        return AllergyTest(names) if names is not None else None


def _close(word: str, options) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


def _range_text(values) -> str:
    vals = sorted(values) if all(isinstance(v, (int, float)) for v in values) else list(values)
    if len(vals) > 2 and all(isinstance(v, int) for v in vals) and vals == list(range(vals[0], vals[-1] + 1)):
        return f"{vals[0]}..{vals[-1]}"
    return "{" + ", ".join(str(v) for v in vals) + "}"


def compile_text(text: str, file: str = "<criteria>", shared: dict | None = None,
                 warnings: list | None = None) -> Trial:
    """Compile criteria text; raise :class:`CriteriaError` with every problem."""
    data, problems = load_yaml(text, file)
    compiler = _Compiler(file, shared)
    compiler.problems.extend(problems)
    trial = compiler.trial(data, text) if data is not None else None
    errors = [p for p in compiler.problems if p.severity == "error"]
    if warnings is not None:
        warnings.extend(p for p in compiler.problems if p.severity == "warning")
    if errors or trial is None:
        raise CriteriaError(sorted(errors, key=lambda p: (p.location.line or 0, p.location.column or 0))
                            or [Problem(Location(file), "the file holds no trial")])
    return trial


def compile_definitions(text: str, file: str, shared: dict | None = None) -> dict:
    """Compile a shared-definitions file (``definitions: {name: rule}``)."""
    data, problems = load_yaml(text, file)
    compiler = _Compiler(file, shared)
    compiler.problems.extend(problems)
    if data is not None:
        if not isinstance(data, LMap) or set(data) - {"definitions"}:
            compiler.error(getattr(data, "pos", (1, 1)), "a definitions file holds only 'definitions:'")
        else:
            compiler.read_definitions(data.get("definitions"), data.where("definitions"))
    errors = [p for p in compiler.problems if p.severity == "error"]
    if errors:
        raise CriteriaError(errors)
    return compiler.definitions


def read_text(path: Path) -> str:
    from trialscreen import textio
    from trialscreen.errors import InputError

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileReadError(f"no such criteria file: {path}", Location(str(path))) from None
    except IsADirectoryError:
        raise FileReadError(f"'{path}' is a folder, not a criteria file", Location(str(path))) from None
    except PermissionError:
        raise FileReadError(f"cannot read {path}: permission denied", Location(str(path))) from None
    try:
        return textio.decode(data, str(path))
    except InputError as exc:
        raise CriteriaError([Problem(exc.location, exc.message, exc.hint)]) from None


def compile_file(path: str | Path, shared: dict | None = None, warnings: list | None = None) -> Trial:
    return compile_text(read_text(Path(path)), str(path), shared, warnings)
