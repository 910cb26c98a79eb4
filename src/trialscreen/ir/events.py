"""List sections (diagnoses, neoplasms) and what their rules share with treatments: an item
matches a rule's names, attributes and window."""

from __future__ import annotations

from datetime import date

from trialscreen.explain.words import window_words
from trialscreen.ir.base import Node, Window
from trialscreen.ir.legacy import NOTHING, contains, future_missing, future_words, show_value
from trialscreen.semantics.logic import k_and, k_not, k_or
from trialscreen.semantics.timewin import Duration
from trialscreen.vocab import attributes, name_key


class EventTest(Node):
    """Shared logic of list sections: an item matches the node's filters."""

    section = ""
    noun = ""

    def __init__(self, names, attrs=None, window: Window | None = None, text: str = "", maybe=(),
                 asked=None):
        self.names = frozenset(names) if names else None
        # the names the rule wrote, before the kinds below them were added (for sentences)
        self.asked = tuple(sorted(asked if asked is not None else (names or ())))
        self.attrs = dict(attrs or {})       # attribute -> tuple of allowed values
        self.window = window
        self.text = text
        self.maybe = frozenset(maybe)        # broader kinds: an item of one might be one of names

    def items(self, ctx):
        return getattr(ctx.patient, self.section)

    def item_filters(self, ctx, item, path) -> tuple:
        """Kleene results and missing of the extra filters of a subclass."""
        return [], []

    def match(self, ctx, item, path) -> tuple:
        """(Kleene result, missing) of whether ``item`` is one this rule is about,
        leaving its dates aside; None for a known item of another kind."""
        checks: list[bool | None] = []
        missing: list[str] = []
        if self.names is not None and item.kind not in self.names:
            if item.known and item.kind not in self.maybe:
                return None, None
            # a type the vocabulary does not know, or one recorded only as a broader kind
            # (a bare 'antineoplastic therapy'), might be one of the wanted ones
            checks.append(None)
            field = 'name' if self.section == 'diagnoses' else 'type'
            ask = "a known name" if not item.known else "which kind"
            missing.append(f"{path}.{field} ({ask}: is '{item.kind}' {self.wanted()}?)")
        checks.extend(_attrs_match(item, self.attrs, path, missing))
        extra, extra_missing = self.item_filters(ctx, item, path)
        checks.extend(extra)
        missing.extend(extra_missing)
        return k_and(checks), missing

    def eval(self, ctx):
        results = []
        missing: list = []
        notes = []
        for item in self.items(ctx):
            path = f"{self.section}[{item.index}]"
            matched, miss = self.match(ctx, item, path)
            if miss is None:
                continue
            first, last = item.span()
            if first is not None and first > ctx.as_of:
                # not happened by the as-of date: it cannot satisfy the rule, and where it
                # would have mattered a person must judge (a planned ASCT, a date typed wrong)
                if matched is False:
                    continue
                results.append(None)
                missing.append(future_missing(ctx, path, item.kind, first))
                notes.append(future_words(ctx, item.kind, first))
                continue
            checks = [matched]
            missing.extend(miss)
            if self.window:
                inside, miss, when = contains(self.window, ctx, first, last, path)
                checks.append(inside)
                missing.extend(miss)
                if ctx.explain:
                    notes.append(f"{item.kind} ({when})")
            elif ctx.explain:
                notes.append(self.show(item, ctx))
            results.append(k_and(checks))
        result = k_or(results)
        if result is False or not results:
            if self.section in ctx.patient.complete:
                result = False
            else:
                result = None
                missing.append(f"{self.section} (the complete list, or mark it complete)")
        return self.finish(ctx, result, missing, notes)

    def finish(self, ctx, result, missing, notes):
        miss = tuple(missing) if result is None else NOTHING
        if not ctx.explain:
            return result, miss
        what = self.text or self.short()
        seen = ", ".join(notes) if notes else f"no matching {self.noun} recorded"
        if result is True:
            words = f"{what}: yes ({seen})"
        elif result is False:
            words = f"{what}: no ({seen})"
        else:
            words = f"{what}: cannot tell ({seen})"
        ctx.check(self, result, words, miss)
        return result, miss

    def wanted(self) -> str:
        """'one of induction, asct', 'antineoplastic_therapy or a kind of it': for questions."""
        kinds = len(self.names or ()) > len(self.asked)
        tail = (" or a kind of it" if len(self.asked) == 1 else " or a kind of them") if kinds else ""
        return "one of " + ", ".join(self.asked) + tail

    def short(self) -> str:
        """A brief name of what is looked for, for check sentences."""
        names = list(self.asked)
        what = " or ".join(names) if 0 < len(names) <= 3 else (
            f"{self.noun} of {len(names)} listed types" if names else self.noun)
        if self.names and len(self.names) > len(names):
            what += " (any kind)" if len(names) == 1 else " (or any kind of them)"
        if self.attrs:
            what += " (" + ", ".join(f"{k} {'/'.join(sorted(show_value(x) for x in v))}"
                                     for k, v in self.attrs.items()) + ")"
        if self.window:
            what += f" {window_words(self.window)}"
        return what

    def show(self, item, ctx):
        first, last = item.span()
        d = last or first
        return f"{item.kind}" + (f" {d.isoformat()}" if d else "")


def _attrs_match(item, attrs: dict, path: str, missing: list) -> list:
    """Kleene results of an item's attributes against the allowed values (an absent
    attribute is unknown and goes into ``missing``)."""
    out: list[bool | None] = []
    for attr, allowed in attrs.items():
        values, aliases = attributes().get(attr, (None, ()))
        have, where = item.attrs.get(attr), attr
        for alias in aliases:
            if have is not None:
                break
            have, where = item.attrs.get(alias), alias
        if have is None:
            out.append(None)
            missing.append(f"{path}.{attr}")
        elif values is not None:
            # a closed set of values: one no spelling matches is for a person to read (a
            # yes/no answer too: 'paraprotein: no' might mean nonsecretory)
            canonical = None if isinstance(have, bool) else values.canonical(have)
            if canonical is None:
                shown = ("yes" if have else "no") if isinstance(have, bool) else have
                out.append(None)
                missing.append(f"{path}.{where} ('{shown}' is not a known {attr}: "
                               f"is it {' or '.join(sorted(values.canonical(x) or str(x) for x in allowed))}?)")
            else:
                out.append(_norm(canonical) in allowed)
        else:
            out.append(_norm(have) in allowed)
    return out


def _norm(value):
    if isinstance(value, str):
        return name_key(value)
    return value


class DiagnosisTest(EventTest):
    kind = "diagnosis"
    section = "diagnoses"
    noun = "diagnosis"

    def describe(self):
        out = "diagnosis " + " or ".join(sorted(self.names))
        if self.attrs:
            out += " with " + ", ".join(f"{k} {'/'.join(sorted(show_value(x) for x in v))}"
                                        for k, v in self.attrs.items())
        if self.window:
            out += f", {window_words(self.window)}"
        return out


class NeoplasmTest(EventTest):
    """Another neoplasm that is neither exempt nor tumour-free long enough."""

    kind = "neoplasm"
    section = "neoplasms"
    noun = "other neoplasm"

    def __init__(self, exempt, free_for: Duration | None, text=""):
        super().__init__(None, None, None, text)
        self.exempt = tuple(exempt)        # ((types, {attr: allowed}), ...)
        self.free_for = free_for

    def describe(self):
        out = "another neoplasm"
        if self.exempt:
            out += ", except " + "; ".join(_matcher_text(m) for m in self.exempt)
        if self.free_for:
            out += f", unless tumour-free for at least {self.free_for}"
        return out

    def item_filters(self, ctx, item, path):
        missing = []
        exempt_values = []
        for types, attrs in self.exempt:
            if item.kind not in types:
                exempt_values.append(False)
                continue
            exempt_values.append(k_and(_attrs_match(item, attrs, path, missing)))
        exempt = k_or(exempt_values)
        if self.free_for is None:
            recent = True
        else:
            active = item.attrs.get("active")
            since = item.attrs.get("tumor_free_since")
            if active is True:
                recent = True
            elif isinstance(since, str):
                try:
                    since_date = date.fromisoformat(since)
                except ValueError:
                    since_date = None
                recent = None if since_date is None else self.free_for.after(since_date) > ctx.as_of
                if since_date is None:
                    missing.append(f"{path}.tumor_free_since")
            else:
                recent = None
                missing.append(f"{path}.tumor_free_since")
        return [k_not(exempt), recent], missing

    def short(self):
        out = "another neoplasm, not exempt"
        if self.free_for:
            out += f" and not tumour-free for {self.free_for}"
        return out

    def show(self, item, ctx):
        since = item.attrs.get("tumor_free_since")
        return item.kind + (f", tumour-free since {since}" if since else "")


def _matcher_text(matcher) -> str:
    types, attrs = matcher
    out = " or ".join(sorted(types))
    if attrs:
        out += " (" + ", ".join(f"{k} {'/'.join(sorted(show_value(x) for x in v))}"
                                for k, v in attrs.items()) + ")"
    return out
