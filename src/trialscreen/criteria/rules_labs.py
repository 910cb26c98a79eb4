"""Lab rules: `lab:` with a threshold, a range, alternatives by unit, or a qualitative result.

A mixin of the criteria compiler (criteria/compile.py): its methods use the compiler's
error reporting and shared readers through ``self``."""

from __future__ import annotations

import math

from trialscreen import vocab
from trialscreen.criteria.keys import COMPARE, RELATIVE
from trialscreen.criteria.yamlsrc import LList, LMap
from trialscreen.errors import UnitError
from trialscreen.ir import (
    Absolute,
    All,
    Any,
    LabResult,
    LabTest,
    Relative,
)
from trialscreen.semantics.logic import OP_WORDS, fmt
from trialscreen.units import convert
from trialscreen.units.normalize import DIMENSIONLESS, normalize, split_value


class LabRules:
    # lab ---------------------------------------------------------------------------------
    def n_lab(self, obj, pos):
        """Compile a `lab:` rule: its analyte, its one comparison and its optional `within`."""
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
            return self.lab_qualitative(obj, analyte, where, within)
        if analyte.qualitative:
            self.error(where, f"{analyte.name} is a qualitative test", "use 'is: positive' or 'is: negative'")
            return None
        if op == "by_unit":
            return self.lab_by_unit(obj, analyte, where, within)
        if op in ("between", "outside"):
            return self.lab_range(obj, op, analyte, where, within)
        thr = self.threshold(obj[op], analyte, where)
        if thr is None:
            return None
        return LabTest(analyte, ((OP_WORDS[op], thr),), within)

    def lab_qualitative(self, obj, analyte, where, within):
        """Compile the `is: positive|negative` of a qualitative lab rule."""
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

    def lab_by_unit(self, obj, analyte, where, within):
        """Compile the `by_unit:` alternatives of a lab rule: one absolute comparison per unconvertible unit."""
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
        return LabTest(analyte, tuple(out), within)

    def lab_range(self, obj, op, analyte, where, within):
        """Compile the `between:` or `outside:` [low, high] of a lab rule."""
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
            return All((LabTest(analyte, ((">=", lo),), within),
                          LabTest(analyte, (("<=", hi),), within)))
        return Any((LabTest(analyte, (("<", lo),), within), LabTest(analyte, ((">", hi),), within)))

    def threshold(self, raw, analyte, pos):
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            self.error(pos, f"'{raw}' is not a threshold", "write it like '177 umol/L' or '3 x ULN'")
            return None
        text = str(raw).strip()
        unreadable = ("write it like '177 umol/L', '75 x10^9/L', '3 x ULN' or 'LLN - 20 g/L'")
        m = RELATIVE.match(text)
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
