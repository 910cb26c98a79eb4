"""Rules on patient fields (`field:`), attestations and allergies.

A mixin of the criteria compiler (criteria/compile.py): its methods use the compiler's
error reporting and shared readers through ``self``."""

from __future__ import annotations

import math
import re

from trialscreen import vocab
from trialscreen.criteria.keys import COMPARE, FIELDS, close_word, range_text
from trialscreen.criteria.yamlsrc import LList
from trialscreen.errors import UnitError
from trialscreen.ir import (
    AllergyTest,
    AttestationTest,
    FieldTest,
)
from trialscreen.semantics.logic import OP_WORDS, SYMBOL, fmt
from trialscreen.units import convert
from trialscreen.units.normalize import normalize, split_value


class FieldRules:
    # field -------------------------------------------------------------------------------
    def n_field(self, obj, pos):
        name = obj["field"]
        kind = FIELDS.get(name) if isinstance(name, str) else None
        if kind is None:
            close = close_word(str(name), set(FIELDS))
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
            return FieldTest(name, "in", frozenset(values), "in " + range_text(values))
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
        return AllergyTest(tuple(names)) if names is not None else None
