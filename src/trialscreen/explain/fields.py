"""The sentences and rule texts of field, attestation and allergy rules."""

from __future__ import annotations

from trialscreen.explain.checks import sentence
from trialscreen.explain.describe import describes
from trialscreen.explain.names import words
from trialscreen.explain.words import show_value
from trialscreen.ir.fields import AllergyTest, AttestationTest, FieldTest
from trialscreen.patient.fields import FIELDS
from trialscreen.semantics.logic import fmt

FIELD_LABELS = {name: f.label for name, f in FIELDS.items()}


def _label(node) -> str:
    return FIELD_LABELS.get(node.field, node.field)


@describes(FieldTest)
def describe_field(node: FieldTest) -> str:
    return f"{node.field} {node.text}"


@describes(AttestationTest)
def describe_attestation(node: AttestationTest) -> str:
    q = f" ({node.question})" if node.question else ""
    return f"attestation {node.name} is {'yes' if node.expected else 'no'}{q}"


@describes(AllergyTest)
def describe_allergy(node: AllergyTest) -> str:
    return "allergy to " + " or ".join(node.substances)


@sentence("field.none")
def _none(check, as_of):
    return f"{_label(check.node)}: not recorded", None


@sentence("field.range undecided")
def _range_undecided(check, as_of):
    low, high = check.facts["span"]
    return (f"{_label(check.node)} {fmt(low)} to {fmt(high)}: cannot tell whether {check.node.text} "
            f"({check.facts['source']})"), None


@sentence("field.read")
def _read(check, as_of):
    node, value, span, source = check.node, check.facts["value"], check.facts["span"], check.facts["source"]
    label = _label(node)
    shown = f"{fmt(span[0])} to {fmt(span[1])}" if span else show_value(value)
    if isinstance(value, (bool, str)):
        need = show_value(node.value) if node.op == "==" else node.text
        words = f"{label}: {shown}" if check.result else f"{label}: {shown} (needs {need})"
    else:
        words = f"{label} {shown} {node.text}" if check.result else f"{label} {shown}, not {node.text}"
    if source:
        words += f" ({source})"
    return words, {"value": value}


@sentence("attestation.none")
def _attestation_none(check, as_of):
    return f"not answered: {_question(check.node)}", None


@sentence("attestation.read")
def _attestation_read(check, as_of):
    value = check.facts["value"]
    return f"{_question(check.node)} {'yes' if value else 'no'}", {"value": value}


def _question(node) -> str:
    """The trial's question to the investigator, else its name in words ('consent signed?')."""
    return node.question or f"investigator: {words(node.name)}?"


@sentence("allergy.present")
def _allergy_present(check, as_of):
    return f"allergic to {', '.join(check.facts['have'])}", None


@sentence("allergy.unrecognised")
def _allergy_unrecognised(check, as_of):
    return f"allergy to {', '.join(check.facts['unknown'])}: not a substance trialscreen knows", None


@sentence("allergy.none")
def _allergy_none(check, as_of):
    return f"no allergy to {' or '.join(check.node.substances)} (allergy list complete)", None


@sentence("allergy.not known")
def _allergy_not_known(check, as_of):
    return f"allergy to {' or '.join(check.node.substances)} not known", None
