"""Cytogenetic findings: any_of / none_of, with an optional clone-size cut-off."""

from __future__ import annotations

from trialscreen.ir.base import Node
from trialscreen.ir.legacy import NOTHING, future_missing, future_words
from trialscreen.semantics.logic import fmt, k_not, k_or


class FindingTest(Node):
    """Cytogenetics: any of (or none of) a list of findings is detected."""

    kind = "cytogenetics"

    def __init__(self, findings, mode: str = "any", min_percent: float | None = None):
        self.findings = tuple(findings)
        self.mode = mode
        self.min_percent = min_percent

    def describe(self):
        cut = f" (in at least {fmt(self.min_percent)}% of cells)" if self.min_percent else ""
        word = "any of" if self.mode == "any" else "none of"
        return f"cytogenetics: {word} {', '.join(self.findings)}{cut}"

    def eval(self, ctx):
        values = []
        missing = []
        parts = []
        explain = ctx.explain
        for other in ctx.patient.unrecognised.get("cytogenetics", ()):
            # detected, but the vocabulary cannot place it: it might be any of these
            values.append(None)
            missing.append(f"cytogenetics: is '{other}' one of {', '.join(self.findings)}?")
            parts.append(f"unrecognised finding '{other}' detected: a person must judge")
        for name in self.findings:
            res = ctx.patient.cytogenetics.get(name)
            if res is not None and res.date is not None and res.date > ctx.as_of:
                values.append(None)
                missing.append(future_missing(ctx, f"cytogenetics.{name}", name, res.date))
                parts.append(future_words(ctx, name, res.date))
                continue
            if res is not None and res.problem:
                values.append(None)
                missing.append(f"cytogenetics.{name} ({res.problem})")
                parts.append(f"{name}: {res.problem}")
                continue
            if not explain:
                values.append(self._value(res))
                if values[-1] is None:
                    missing.append(f"cytogenetics.{name}.percent" if res is not None and res.detected
                                   else f"cytogenetics.{name}")
                continue
            alias = ""
            if res and res.raw_name and res.raw_name != name:
                alias = f" ({res.raw_name})" if res.raw_name.startswith("implied") else f" (as '{res.raw_name}')"
            if res is None:
                values.append(None)
                missing.append(f"cytogenetics.{name}")
                parts.append(f"{name} not reported")
            elif res.detected is None:
                values.append(None)
                missing.append(f"cytogenetics.{name}")
                parts.append(f"{name}{alias} result undecided")
            elif res.detected is False:
                values.append(False)
                parts.append(f"{name}{alias} not detected")
            elif self.min_percent is not None and res.percent is None:
                values.append(None)
                missing.append(f"cytogenetics.{name}.percent")
                parts.append(f"{name}{alias} detected, percentage of cells not given "
                             f"(cut-off {fmt(self.min_percent)}%)")
            elif self.min_percent is not None and res.percent < self.min_percent:
                values.append(False)
                parts.append(f"{name}{alias} detected in {fmt(res.percent)}% of cells, below the "
                             f"{fmt(self.min_percent)}% cut-off")
            else:
                values.append(True)
                pct = f" in {fmt(res.percent)}% of cells" if res.percent is not None else ""
                parts.append(f"{name}{alias} detected{pct}")
        found = k_or(values)
        result = found if self.mode == "any" else k_not(found)
        miss = tuple(missing) if result is None else NOTHING
        if explain:
            ctx.check(self, result, "; ".join(parts), miss)
        return result, miss

    def _value(self, res):
        if res is None or res.detected is None:
            return None
        if res.detected is False:
            return False
        if self.min_percent is None:
            return True
        if res.percent is None:
            return None
        return res.percent >= self.min_percent
