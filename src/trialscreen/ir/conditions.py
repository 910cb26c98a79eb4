"""Condition rules: present, CTCAE grade, active, and windows."""

from __future__ import annotations

from trialscreen.explain.words import window_words
from trialscreen.ir.base import Node, Window
from trialscreen.ir.legacy import NOTHING, bounds, contains, future_missing, future_words, still_open
from trialscreen.semantics.logic import SYMBOL, Interval, holds, k_and, k_or


class ConditionTest(Node):
    """A condition (CTCAE-graded or not) is present, optionally with a grade,
    active, or dated within a window."""

    kind = "condition"

    def __init__(self, names, grade=None, active: bool | None = None, window: Window | None = None):
        self.names = tuple(names)
        self.grade = grade              # (op, int)
        self.active = active
        self.window = window

    def describe(self):
        out = " or ".join(self.names)
        if self.grade:
            out += f" of grade {SYMBOL[self.grade[0]]} {self.grade[1]}"
        if self.active is not None:
            out += ", active" if self.active else ", not active"
        if self.window:
            out += f", {window_words(self.window)}"
        return out

    def _window_end(self, ctx):
        """The last day, up to the as-of date, that a windowed rule needs a condition's
        absence for; None without a window or without its anchor."""
        if self.window is None:
            return None
        b = bounds(self.window, ctx)
        return None if b is None else min(b[1], ctx.as_of)

    def eval(self, ctx):
        states = [st for n in self.names for st in ctx.patient.conditions.get(n, ())]
        if not states:
            miss = tuple(f"conditions.{n}" for n in self.names[:1])
            ctx.check(self, None, f"{self.names[0]} not recorded (present or absent)", miss)
            return None, miss
        values, missing, parts = [], [], []
        for other in ctx.patient.unrecognised.get("conditions", ()):
            # a condition the vocabulary cannot place might be one of these
            values.append(None)
            missing.append(f"conditions: is '{other}' one of {', '.join(self.names)}?")
            parts.append(f"unrecognised condition '{other}' present: a person must judge")
        for st in states:
            path = f"conditions.{st.condition}"
            if st.date is not None and st.date > ctx.as_of:
                # an onset or an assessment not made by the as-of date says nothing of it
                values.append(None)
                missing.append(future_missing(ctx, path, st.condition, st.date))
                parts.append(future_words(ctx, st.condition, st.date))
                continue
            if st.present is False:
                until = self._window_end(ctx)
                if st.date is not None and until is not None and st.date < until:
                    # absent when assessed, but the window ran on after that assessment
                    values.append(None)
                    missing.append(f"{path} (assessed on {st.date.isoformat()}; the window runs "
                                   f"until {until.isoformat()})")
                    parts.append(f"{st.condition}: absent on {st.date.isoformat()}, "
                                 f"not assessed until {until.isoformat()}")
                    continue
                values.append(False)
                parts.append(f"{st.condition}: absent")
                continue
            if st.present is None:
                values.append(None)
                missing.append(f"{path} ({st.problem})" if st.problem else path)
                parts.append(f"{st.condition}: {st.problem or 'not known'}")
                continue
            checks = []
            words = f"{st.condition}: present"
            if self.grade:
                op, n = self.grade
                if st.grade is None:
                    checks.append(None)
                    missing.append(f"{path}.grade")
                else:
                    checks.append(holds(op, Interval.of(st.grade), n))
                    words += f", grade {st.grade}"
            if self.active is not None:
                active = st.active
                if active is None and st.end is not None:
                    active = st.end > ctx.as_of
                if active is None:
                    checks.append(None)
                    missing.append(f"{path}.active")
                else:
                    checks.append(active == self.active)
                    words += ", active" if active else ", not active"
            if self.window:
                inside, miss, when = contains(self.window, ctx, st.date, st.date, path)
                checks.append(inside)
                missing.extend(miss)
                words += f", dated {when}"
            values.append(k_and(checks))
            parts.append(words)
        result = k_or(values)
        if result is False and self.window is not None and still_open(self.window, ctx):
            # "no progression within 3 months of ASCT" cannot be known 6 weeks after it
            end = bounds(self.window, ctx)[1]
            result = None
            missing.append(f"conditions.{self.names[0]} (its window runs until {end.isoformat()})")
            parts.append(f"the window runs until {end.isoformat()}, after the as-of date")
        miss = tuple(missing) if result is None else NOTHING
        if not ctx.explain:
            return result, miss
        prefix = self.describe()
        verdict = {True: "yes", False: "no", None: "cannot tell"}[result]
        ctx.check(self, result, f"{prefix}: {verdict} ({'; '.join(parts)})", miss)
        return result, miss
