"""Evaluating list-section rules (diagnoses, other neoplasms, treatments item by item): each
item of the section is matched against the rule's names, attributes, extra filters and window;
an item dated after the as-of date cannot satisfy it; an empty or failed match decides only
when the section is marked complete.

Each item seen is kept for the explanation as a small tuple, its case then its facts:
('future', kind, date), ('window', kind, span), ('item', item), ('might be', kind),
('counted', low, high), ('phase', first, last), ('none',). explain/events.py writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from trialscreen.evaluate.core import evaluates, future_missing, window_contains
from trialscreen.evaluate.missing import NOTHING, Missing
from trialscreen.ir.events import DiagnosisTest, EventTest, NeoplasmTest
from trialscreen.registry import registrar
from trialscreen.semantics.logic import k_and, k_not, k_or
from trialscreen.vocab import attributes, name_key

# node type -> function (node, ctx, item, path) -> (Kleene results, missing) of the filters
# a family adds to the names and attributes (a treatment's drugs, a neoplasm's exemptions)
FILTERS: dict[type, Callable] = {}
filters = registrar(FILTERS)


def complete_missing(node: EventTest) -> Missing:
    return Missing(node.section, "the complete list, or mark it complete")


def match(node: EventTest, ctx, item, path: str) -> tuple:
    """(Kleene result, missing) of whether ``item`` is one this rule is about, leaving its
    dates aside; (None, None) for a known item of another kind."""
    checks: list[bool | None] = []
    missing: list = []
    if node.names is not None and item.kind not in node.names:
        if item.known and item.kind not in node.maybe:
            return None, None
        # a type the vocabulary does not know, or one recorded only as a broader kind
        # (a bare 'antineoplastic therapy'), might be one of the wanted ones
        checks.append(None)
        field = "name" if node.section == "diagnoses" else "type"
        ask = "a known name" if not item.known else "which kind"
        missing.append(Missing(f"{path}.{field}", f"{ask}: is '{item.kind}' {wanted(node)}?"))
    checks.extend(attrs_match(item, node.attrs, path, missing))
    extra = FILTERS.get(type(node))
    if extra is not None:
        values, extra_missing = extra(node, ctx, item, path)
        checks.extend(values)
        missing.extend(extra_missing)
    return k_and(checks), missing


def wanted(node: EventTest) -> str:
    """'one of induction, asct', 'antineoplastic_therapy or a kind of it': for questions."""
    kinds = len(node.names or ()) > len(node.asked)
    tail = (" or a kind of it" if len(node.asked) == 1 else " or a kind of them") if kinds else ""
    return "one of " + ", ".join(node.asked) + tail


@evaluates(DiagnosisTest, NeoplasmTest)
def event_test(node: EventTest, ctx) -> tuple:
    """Any item of the section that matches (and falls in the window) meets the rule."""
    results: list = []
    missing: list = []
    seen: list = []
    for item in getattr(ctx.patient, node.section):
        path = f"{node.section}[{item.index}]"
        matched, miss = match(node, ctx, item, path)
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
            seen.append(("future", item.kind, first))
            continue
        checks = [matched]
        missing.extend(miss)
        if node.window:
            inside, wmiss, span = window_contains(node.window, ctx, first, last, path, item.kind,
                                                  item.end_unknown)
            checks.append(inside)
            missing.extend(wmiss)
            seen.append(("window", item.kind, span))
        else:
            seen.append(("item", item))
        results.append(k_and(checks))
    result = k_or(results)
    if result is False or not results:
        if node.section in ctx.patient.complete:
            result = False
        else:
            result = None
            missing.append(complete_missing(node))
    return finish(node, ctx, result, missing, seen)


def finish(node: EventTest, ctx, result, missing: list, seen: list) -> tuple:
    miss = tuple(missing) if result is None else NOTHING
    if ctx.trace is not None:
        ctx.record(node, result, "event.read", miss, seen=tuple(seen))
    return result, miss


def attrs_match(item, attrs: tuple, path: str, missing: list) -> list:
    """Kleene results of an item's attributes against the allowed values (an absent
    attribute is unknown and goes into ``missing``)."""
    out: list[bool | None] = []
    for attr, allowed in attrs:
        values, aliases = attributes().get(attr, (None, ()))
        have, where = item.attrs.get(attr), attr
        for alias in aliases:
            if have is not None:
                break
            have, where = item.attrs.get(alias), alias
        if have is None:
            out.append(None)
            missing.append(Missing(f"{path}.{attr}", of=item.kind))
        elif values is not None:
            # a closed set of values: one no spelling matches is for a person to read (a
            # yes/no answer too: 'paraprotein: no' might mean nonsecretory)
            canonical = None if isinstance(have, bool) else values.canonical(have)
            if canonical is None:
                shown = ("yes" if have else "no") if isinstance(have, bool) else have
                out.append(None)
                choices = " or ".join(sorted(values.canonical(x) or str(x) for x in allowed))
                missing.append(Missing(f"{path}.{where}", f"'{shown}' is not a known {attr}: is it {choices}?"))
            else:
                out.append(_norm(canonical) in allowed)
        else:
            out.append(_norm(have) in allowed)
    return out


def _norm(value):
    if isinstance(value, str):
        return name_key(value)
    return value


@filters(NeoplasmTest)
def neoplasm_filters(node: NeoplasmTest, ctx, item, path: str) -> tuple:
    """Not exempt, and not tumour-free for long enough (an active one never is)."""
    missing: list = []
    exempt_values: list[bool | None] = []
    for types, attrs in node.exempt:
        if item.kind not in types:
            exempt_values.append(False)
            continue
        exempt_values.append(k_and(attrs_match(item, attrs, path, missing)))
    exempt = k_or(exempt_values)
    if node.free_for is None:
        recent: bool | None = True
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
            recent = None if since_date is None else node.free_for.after(since_date) > ctx.as_of
            if since_date is None:
                missing.append(Missing(f"{path}.tumor_free_since", of=item.kind))
        else:
            recent = None
            missing.append(Missing(f"{path}.tumor_free_since", of=item.kind))
    return [k_not(exempt), recent], missing
