"""The compiled form of a criterion: a tree of frozen, hashable nodes (plain data).

Criteria files are compiled once into these nodes (trialscreen.criteria). Each node says
which patient fields it reads (``reads()``). The nodes neither evaluate nor explain
themselves: trialscreen.evaluate judges them (one function per node type, recording plain
facts in a trace when asked) and trialscreen.explain writes the rule text and the check
sentences from those facts.

One module per family of rules: base (the node class, all / any / not, references,
windows), labs, fields, findings, events (diagnoses, neoplasms), treatments, conditions.
"""

from trialscreen.ir.base import All, Any, Node, Not, Reference, Window, walk  # noqa: F401
from trialscreen.ir.conditions import ConditionTest  # noqa: F401
from trialscreen.ir.events import DiagnosisTest, EventTest, NeoplasmTest  # noqa: F401
from trialscreen.ir.fields import AllergyTest, AttestationTest, FieldTest  # noqa: F401
from trialscreen.ir.findings import FindingTest  # noqa: F401
from trialscreen.ir.labs import Absolute, LabResult, LabTest, Relative  # noqa: F401
from trialscreen.ir.treatments import TreatmentTest  # noqa: F401

__all__ = [
    "Node", "walk", "All", "Any", "Not", "Window", "Reference", "Absolute", "Relative", "LabTest", "LabResult",
    "FieldTest", "AttestationTest", "AllergyTest", "FindingTest", "EventTest", "DiagnosisTest",
    "NeoplasmTest", "TreatmentTest", "ConditionTest",
]
