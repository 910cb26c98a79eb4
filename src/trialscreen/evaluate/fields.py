"""Evaluating rules on patient fields, attestations and allergies."""

from __future__ import annotations

from trialscreen.evaluate.core import evaluates
from trialscreen.evaluate.missing import NOTHING, Missing
from trialscreen.ir.fields import AllergyTest, AttestationTest, FieldTest
from trialscreen.semantics.logic import Interval, holds, holds_range, k_or


def on_value(node: FieldTest, value):
    """The rule on a known value."""
    if node.op == "in":
        return value in node.value   # type: ignore[operator]
    if node.op in ("between", "outside"):
        return holds_range(node.op, Interval.of(float(value)), *node.value)   # type: ignore[misc]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return holds(node.op, Interval.of(float(value)), float(node.value))   # type: ignore[arg-type]
    if node.op == "==":
        return value == node.value
    if node.op == "!=":
        return value != node.value
    raise ValueError(node.op)  # pragma: no cover - the compiler refuses this


def on_range(node: FieldTest, span: Interval):
    """The rule on a value known only to a range (an age recorded at another date)."""
    if node.op == "in":
        if not all(isinstance(v, (int, float)) for v in node.value):   # type: ignore[attr-defined]
            return None
        return k_or(holds("==", span, float(v)) for v in node.value)   # type: ignore[attr-defined]
    if node.op in ("between", "outside"):
        return holds_range(node.op, span, *node.value)   # type: ignore[misc]
    return holds(node.op, span, float(node.value))   # type: ignore[arg-type]


@evaluates(FieldTest)
def field_test(node: FieldTest, ctx) -> tuple:
    value, source, missing = ctx.field(node.field)
    if value is None:
        ctx.record(node, None, "field.none", missing)
        return None, missing
    span = None
    if isinstance(value, tuple):   # known to a range only (an age recorded at another date)
        result = on_range(node, Interval(*value))
        if result is None:
            missing = (Missing("birth_date", "the age is known only to a range at this date"),)
            ctx.record(node, None, "field.range undecided", missing, span=value, source=source)
            return None, missing
        span, value = value, value[0]
    else:
        result = on_value(node, value)
    if ctx.trace is not None:
        ctx.record(node, result, "field.read", NOTHING, value=value, span=span, source=source)
    return result, NOTHING


@evaluates(AttestationTest)
def attestation_test(node: AttestationTest, ctx) -> tuple:
    value = ctx.patient.attestations.get(node.name)
    if value is None:
        miss = (Missing(f"attestations.{node.name}"),)
        ctx.record(node, None, "attestation.none", miss)
        return None, miss
    result = value == node.expected
    ctx.record(node, result, "attestation.read", NOTHING, value=value)
    return result, NOTHING


@evaluates(AllergyTest)
def allergy_test(node: AllergyTest, ctx) -> tuple:
    have = [s for s in node.substances if s in ctx.patient.allergies]
    if have:
        ctx.record(node, True, "allergy.present", NOTHING, have=have)
        return True, NOTHING
    unknown = [a[1:] for a in ctx.patient.allergies if a.startswith("?")]
    if unknown:
        miss = tuple(Missing("allergies", ask=f"is '{a}' one of {', '.join(node.substances)}?") for a in unknown)
        ctx.record(node, None, "allergy.unrecognised", miss, unknown=unknown)
        return None, miss
    if "allergies" in ctx.patient.complete:
        ctx.record(node, False, "allergy.none", NOTHING)
        return False, NOTHING
    miss = (Missing("allergies", "the complete list, or mark it complete"),)
    ctx.record(node, None, "allergy.not known", miss)
    return None, miss
