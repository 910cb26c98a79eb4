"""The compiled form of a criterion: a small tree of node objects.

Criteria files are compiled once into these nodes (see trialscreen.criteria);
each node evaluates a patient to True, False or None (unknown) and returns
the data items that would decide it when the answer is unknown. When the
context asks for explanations, each leaf also records a *check*: plain data
with the value, the threshold, the conversion and a sentence for people.

One module per family of rules: base (the node class, all / any / not, references,
windows), labs, fields, findings, events (diagnoses, neoplasms), treatments, conditions.
"""

from trialscreen.ir.base import All, Any, Node, Not, Reference, Window  # noqa: F401
from trialscreen.ir.conditions import ConditionTest  # noqa: F401
from trialscreen.ir.events import DiagnosisTest, EventTest, NeoplasmTest  # noqa: F401
from trialscreen.ir.fields import AllergyTest, AttestationTest, FieldTest  # noqa: F401
from trialscreen.ir.findings import FindingTest  # noqa: F401
from trialscreen.ir.labs import Absolute, LabResult, LabTest, Relative  # noqa: F401
from trialscreen.ir.treatments import TreatmentTest  # noqa: F401

__all__ = [
    "Node", "All", "Any", "Not", "Window", "Reference", "Absolute", "Relative", "LabTest", "LabResult",
    "FieldTest", "AttestationTest", "AllergyTest", "FindingTest", "EventTest", "DiagnosisTest",
    "NeoplasmTest", "TreatmentTest", "ConditionTest",
]
