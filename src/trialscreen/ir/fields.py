"""Rules on patient fields (age, sex, ECOG, flags), attestations and allergies."""

from __future__ import annotations

from trialscreen.ir.base import Node
from trialscreen.ir.legacy import NOTHING, show_value
from trialscreen.patient.fields import FIELDS
from trialscreen.semantics.logic import Interval, fmt, holds, holds_range, k_or

FIELD_LABELS = {name: f.label for name, f in FIELDS.items()}


class FieldTest(Node):
    """A patient field (age, sex, ECOG, weight, a yes/no flag) against values."""

    kind = "field"

    def __init__(self, field: str, op: str, value, text: str):
        self.field = field
        self.op = op          # <, <=, >, >=, ==, !=, in, between, outside
        self.value = value    # number, text, bool, tuple
        self.text = text

    def describe(self):
        return f"{self.field} {self.text}"

    def _on_value(self, value):
        if self.op == "in":
            return value in self.value
        if self.op in ("between", "outside"):
            return holds_range(self.op, Interval.of(float(value)), *self.value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return holds(self.op, Interval.of(float(value)), float(self.value))
        if self.op == "==":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        raise ValueError(self.op)  # pragma: no cover - the compiler refuses this

    def _on_range(self, span: Interval):
        if self.op == "in":
            if not all(isinstance(v, (int, float)) for v in self.value):
                return None
            return k_or(holds("==", span, float(v)) for v in self.value)
        if self.op in ("between", "outside"):
            return holds_range(self.op, span, *self.value)
        return holds(self.op, span, float(self.value))

    def eval(self, ctx):
        value, source, missing = ctx.field(self.field)
        label = FIELD_LABELS.get(self.field, self.field)
        if value is None:
            ctx.check(self, None, f"no {label}", missing)
            return None, missing
        shown_range = None
        if isinstance(value, tuple):   # known to a range only (an age recorded at another date)
            result = self._on_range(Interval(*value))
            if result is None:
                missing = ("birth_date (the age is known only to a range at this date)",)
                ctx.check(self, None, f"{label} {fmt(value[0])} to {fmt(value[1])}: cannot tell "
                          f"whether {self.text} ({source})", missing)
                return None, missing
            shown_range, value = f"{fmt(value[0])} to {fmt(value[1])}", value[0]
        else:
            result = self._on_value(value)
        if not ctx.explain:
            return result, NOTHING
        shown = shown_range or show_value(value)
        if isinstance(value, (bool, str)):
            need = show_value(self.value) if self.op == "==" else self.text
            words = f"{label}: {shown}" if result else f"{label}: {shown} (needs {need})"
        else:
            words = f"{label} {shown} {self.text}" if result else f"{label} {shown}, not {self.text}"
        if source:
            words += f" ({source})"
        ctx.check(self, result, words, NOTHING, {"value": value})
        return result, NOTHING


class AttestationTest(Node):
    """A human judgment recorded in the patient file (consent, investigator opinion)."""

    kind = "attestation"

    def __init__(self, name: str, expected: bool = True, question: str = ""):
        self.name = name
        self.expected = expected
        self.question = question

    def describe(self):
        q = f" ({self.question})" if self.question else ""
        return f"attestation {self.name} is {'yes' if self.expected else 'no'}{q}"

    def eval(self, ctx):
        value = ctx.patient.attestations.get(self.name)
        if value is None:
            miss = (f"attestations.{self.name}",)
            q = f": {self.question}" if self.question else ""
            ctx.check(self, None, f"attestation {self.name} not recorded{q}", miss)
            return None, miss
        result = value == self.expected
        if ctx.explain:
            ctx.check(self, result, f"attestation {self.name}: {'yes' if value else 'no'}", NOTHING,
                      {"value": value})
        return result, NOTHING


class AllergyTest(Node):
    kind = "allergy"

    def __init__(self, substances):
        self.substances = tuple(substances)

    def describe(self):
        return "allergy to " + " or ".join(self.substances)

    def eval(self, ctx):
        have = [s for s in self.substances if s in ctx.patient.allergies]
        if have:
            ctx.check(self, True, f"allergic to {', '.join(have)}")
            return True, NOTHING
        unknown = [a[1:] for a in ctx.patient.allergies if a.startswith("?")]
        if unknown:
            miss = tuple(f"allergies: is '{a}' one of {', '.join(self.substances)}?" for a in unknown)
            ctx.check(self, None, f"allergy to {', '.join(unknown)}: not a substance trialscreen knows", miss)
            return None, miss
        if "allergies" in ctx.patient.complete:
            ctx.check(self, False, f"no allergy to {' or '.join(self.substances)} (allergy list complete)")
            return False, NOTHING
        miss = ("allergies (the complete list, or mark it complete)",)
        ctx.check(self, None, f"allergy to {' or '.join(self.substances)} not known", miss)
        return None, miss
