"""Treatment rules: an item of a type (or a kind of it), with drugs, and the aggregates that
read the whole history (phase duration, line count)."""

from __future__ import annotations

import math

from trialscreen.explain.words import window_words
from trialscreen.ir.events import EventTest
from trialscreen.ir.legacy import contains, future_missing, future_words, show_value
from trialscreen.semantics.logic import SYMBOL, Interval, holds, k_and


def _line_number(value) -> int | None:
    """A treatment's line of therapy as a number (1, 1.0, '1', 'line 2'), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else None
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    words = "".join(ch for ch in str(value).lower() if ch.isalpha())
    return int(digits) if digits and words in ("", "line", "l") else None


class TreatmentTest(EventTest):
    kind = "treatment"
    section = "treatments"
    noun = "treatment"

    def __init__(self, names, attrs=None, window=None, text="", drugs=None, duration=None, count=None,
                 maybe=(), asked=None):
        super().__init__(names, attrs, window, text, maybe, asked)
        self.drugs = frozenset(drugs) if drugs else None
        self.duration = duration        # (op, Duration): the length of the whole phase
        self.count = count              # (op, n): how many matching treatments (a 'line' counts once)

    def item_filters(self, ctx, item, path):
        if self.drugs is None:
            return [], []
        drugs = item.attrs.get("drugs")
        if drugs is None:
            return [None], [f"{path}.drugs"]
        if self.drugs & set(drugs):
            return [True], []
        unknown = [d[1:] for d in drugs if isinstance(d, str) and d.startswith("?")]
        if unknown:  # a drug the vocabulary does not know might be one of these
            return [None], [f"{path}.drugs (is '{d}' one of {', '.join(sorted(self.drugs))}?)" for d in unknown]
        return [False], []

    def eval(self, ctx):
        if self.duration is None and self.count is None:
            return super().eval(ctx)
        # Aggregates read the whole history: the members are every treatment that
        # matches (sure), or might match or is dated after the as-of date (possible).
        sure, possible, missing, notes = [], [], [], []
        for item in self.items(ctx):
            path = f"{self.section}[{item.index}]"
            matched, miss = self.match(ctx, item, path)
            if miss is None or matched is False:
                continue
            first, last = item.span()
            if self.window and not (first is not None and first > ctx.as_of):
                inside, wmiss, _ = contains(self.window, ctx, first, last, path)
                matched = k_and((matched, inside))
                miss = miss + list(wmiss)
                if matched is False:
                    continue
            if first is not None and first > ctx.as_of:
                possible.append((item, path))
                missing.append(future_missing(ctx, path, item.kind, first))
                notes.append(future_words(ctx, item.kind, first))
            elif matched is None:
                possible.append((item, path))
                missing.extend(miss)
                notes.append(f"{item.kind} (might be one)")
            else:
                sure.append((item, path))
        complete = self.section in ctx.patient.complete
        if not complete:
            missing.append(f"{self.section} (the complete list, or mark it complete)")
        if self.count is not None:
            result = self.judge_count(ctx, sure, possible, complete, notes)
        else:
            result = self.judge_phase(ctx, sure, possible, complete, missing, notes)
        return self.finish(ctx, result, missing, notes)

    def judge_count(self, ctx, sure, possible, complete, notes):
        """At least as many as the sure ones (a shared 'line' counts once), at most
        those plus the possible ones, and without bound while the list is incomplete."""
        lines, unlined = set(), 0
        for item, _ in sure:
            line = _line_number(item.attrs.get("line"))
            if line is None:
                unlined += 1      # without a line number it may belong to a line already counted
            else:
                lines.add(line)
        low = max(len(lines), 1 if unlined else 0)
        high = (len(lines) + unlined + len(possible)) if complete else math.inf
        op, n = self.count
        for item, _ in sure:
            notes.append(self.show(item, ctx))
        notes.append(f"{low} counted" + ("" if high == low else
                                          f", up to {'more' if high == math.inf else int(high)}"))
        return holds(op, Interval(float(low), float(high)), float(n))

    def judge_phase(self, ctx, sure, possible, complete, missing, notes):
        """The phase runs from the first start to the last end of its treatments
        (ongoing ones to the as-of date). More treatments can only lengthen it, so a
        phase already too long stays so whatever the possible members are."""
        op, dur = self.duration
        if not sure:
            if not possible and complete:
                notes.append(f"no matching {self.noun} recorded")
                return False
            return None
        starts, ends, undated = [], [], False
        for item, path in sure:
            start = item.start
            end = item.end if item.end is not None and item.end <= ctx.as_of else (
                ctx.as_of if start is not None and (item.end is not None or not item.date) else None)
            notes.append(self.show(item, ctx))
            if start is None or end is None:  # a single date says nothing of how long it lasted
                missing.append(f"{path}.start and end")
                undated = True
                continue
            starts.append(start)
            ends.append(end)
        if not starts:
            return None
        possible = possible or undated   # an undated member can only lengthen the phase
        first, last = min(starts), max(ends)
        limit = dur.after(first)
        longer = {"<": last >= limit, "<=": last > limit, ">": last > limit, ">=": last >= limit}[op]
        days = (last - first).days
        if len(sure) > 1:
            notes.append(f"the phase {first.isoformat()} to {last.isoformat()}: {days} days")
        result = not longer if op in ("<", "<=") else longer
        grows_to_pass = op in (">", ">=") and result is False
        shrinks_to_pass = op in ("<", "<=") and result is True
        if (possible or not complete) and (grows_to_pass or shrinks_to_pass):
            return None
        return result

    def describe(self):
        out = "treatment " + (" or ".join(self.asked) if self.names else "of any kind")
        if self.names and len(self.names) > len(self.asked):
            out += " (any kind)" if len(self.asked) == 1 else " (or any kind of them)"
        if self.drugs:
            out += " with " + " or ".join(sorted(self.drugs))
        if self.attrs:
            out += " where " + ", ".join(f"{k} {'/'.join(sorted(show_value(x) for x in v))}"
                                         for k, v in self.attrs.items())
        if self.duration:
            out += f", lasting {SYMBOL[self.duration[0]]} {self.duration[1]} in all"
        if self.count:
            out += f", {SYMBOL[self.count[0]]} {self.count[1]} of them"
        if self.window:
            out += f", {window_words(self.window)}"
        return out

    def show(self, item, ctx):
        span = ""
        end = item.end
        if end is not None and end > ctx.as_of:
            end = None  # planned to end after the as-of date: ongoing on it
        if item.start or item.end:
            span = f" {item.start.isoformat() if item.start else '?'} to " \
                   f"{end.isoformat() if end else 'ongoing'}"
            if item.end is not None and end is None:
                span += f" (planned end {item.end.isoformat()})"
        elif item.date:
            span = f" {item.date.isoformat()}"
        if self.duration is not None and item.start and (item.end or not item.date):
            days = ((end or ctx.as_of) - item.start).days
            span += f", {days} days (limit {SYMBOL[self.duration[0]]} {self.duration[1]})"
        return f"{item.kind}{span}"
