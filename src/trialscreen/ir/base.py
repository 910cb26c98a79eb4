"""The shared part of the rule tree: the node base class, all / any / not, named references,
and the time window of a rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trialscreen.semantics.logic import fmt, k_not
from trialscreen.semantics.timewin import Duration

NOTHING: tuple = ()


RESULT_WORD = {True: "met", False: "not met", None: "unknown"}


class Node:
    """Base class. ``eval`` returns (value, missing)."""

    kind = "node"

    def eval(self, ctx) -> tuple[bool | None, tuple]:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> tuple:
        return ()


class _Junction(Node):
    """Kleene AND (decisive value False) or OR (decisive value True): one
    decisive child decides; otherwise any unknown child makes it unknown."""

    decisive: bool

    def __init__(self, items):
        self.items = tuple(items)

    def children(self):
        return self.items

    def eval(self, ctx):
        decisive = self.decisive
        missing: list = []
        result: bool | None = not decisive
        if not ctx.explain:
            for item in self.items:
                value, miss = item.eval(ctx)
                if value is decisive:
                    return decisive, NOTHING
                if value is None:
                    result = None
                    missing.extend(miss)
            return result, tuple(missing) if result is None else NOTHING
        # Explaining: every child is evaluated (every failure is shown), then only
        # the checks of the children that decided are kept.
        spans = []
        for item in self.items:
            start = len(ctx.checks)
            value, miss = item.eval(ctx)
            spans.append((start, len(ctx.checks), value))
            if value is decisive:
                result = decisive
            elif value is None and result is not decisive:
                result = None
                missing.extend(miss)
        if result is decisive:
            keep = [c for start, end, value in spans if value is decisive for c in ctx.checks[start:end]]
            del ctx.checks[spans[0][0]:]
            ctx.checks.extend(keep)
        return result, tuple(missing) if result is None else NOTHING


class All(_Junction):
    kind = "all"
    decisive = False

    def describe(self):
        return "all of"


class Any(_Junction):
    kind = "any"
    decisive = True

    def describe(self):
        return "any of"


class Not(Node):
    kind = "not"

    def __init__(self, item):
        self.item = item

    def eval(self, ctx):
        value, missing = self.item.eval(ctx)
        return k_not(value), missing

    def children(self):
        return (self.item,)

    def describe(self):
        return "not"


@dataclass(frozen=True)
class Window:
    """A date must fall within ``within`` before the as-of date, or, with
    ``after``, within ``within`` after the latest treatment of that type."""

    within: Duration
    after: str | None = None

    def describe(self) -> str:
        if self.after:
            return f"within {self.within} after {self.after}"
        return f"within the last {self.within}"

    def bounds(self, ctx):
        """(first, last) day of the window, or None when its anchor has no date."""
        if self.after:
            anchor, doubt = ctx.latest_treatment_date(self.after)
            if anchor is None or doubt:
                return None
            return anchor, self.within.after(anchor)
        return self.within.before(ctx.as_of), ctx.as_of

    def still_open(self, ctx) -> bool:
        """A window after an event that has not ended by the as-of date."""
        b = self.bounds(ctx) if self.after else None
        return b is not None and b[1] > ctx.as_of

    def contains(self, ctx, first: date | None, last: date | None, item: str = "") -> tuple:
        """Does the span [first, last] of an item (last None: ongoing) overlap the
        window? (True/False/None, missing, words). Whatever happens after the
        as-of date is not known at screening and does not count."""
        b = self.bounds(ctx)
        if b is None:
            _, doubt = ctx.latest_treatment_date(self.after)
            if doubt:
                return None, tuple(f"{d}.type (is it a later {self.after}?)" for d in doubt), \
                    f"{', '.join(doubt)} might be a later {self.after}"
            return None, (f"treatments: date of {self.after}",), f"no date of {self.after}"
        start, end = b[0], min(b[1], ctx.as_of)
        if first is None and last is None:
            return None, (f"{item}.date",), "no date"
        first = first or last   # callers have set aside items dated after the as-of date
        assert first is not None
        if last and last > ctx.as_of:   # planned to end after the as-of date: ongoing on it
            shown = f"{first.isoformat()}, ongoing (planned end {last.isoformat()})"
        else:
            shown = f"{first.isoformat()} to {last.isoformat()}" if last and last != first else (
                first.isoformat() if last else f"{first.isoformat()}, ongoing")
        last = min(last or ctx.as_of, ctx.as_of)
        return first <= end and last >= start, NOTHING, shown


def dated(ctx, when: date) -> str:
    """'dated 2025-05-28, 5 days old' (its age on the as-of date)."""
    days = (ctx.as_of - when).days
    age = "the as-of date" if days == 0 else f"{days} day{'s' if days != 1 else ''} old"
    return f"dated {when.isoformat()}, {age}"


def show_value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt(value)
    return str(value)


def future_words(ctx, what: str, when: date) -> str:
    return f"{what} {when.isoformat()} is after the as-of date {ctx.as_of.isoformat()}"


def future_missing(ctx, path: str, what: str, when: date) -> str:
    return (f"{path} ({what} dated {when.isoformat()}, after the as-of date {ctx.as_of.isoformat()}: "
            "not happened by then; a person must judge)")


class Reference(Node):
    """A named definition used by a criterion (kept for the explanation)."""

    kind = "use"

    def __init__(self, name: str, item: Node):
        self.name = name
        self.item = item

    def describe(self):
        return f"definition '{self.name}'"

    def children(self):
        return (self.item,)

    def eval(self, ctx):
        return self.item.eval(ctx)
