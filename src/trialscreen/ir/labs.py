"""Lab rules: a lab value against a threshold (absolute, or relative to the patient's own
ULN / LLN), and qualitative results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from trialscreen.ir.base import Node
from trialscreen.semantics.timewin import Duration
from trialscreen.units.normalize import Unit

if TYPE_CHECKING:
    from trialscreen.vocab import Analyte

# The patient fields a derived lab is computed from (Cockcroft-Gault creatinine clearance);
# evaluate/context.py DERIVATIONS computes them (a test checks the two agree).
DERIVED_FROM = {"crcl": frozenset({"labs.creatinine", "age", "birth_date", "weight", "sex"})}


@dataclass(frozen=True)
class Absolute:
    value: float
    unit: Unit
    text: str


@dataclass(frozen=True)
class Relative:
    """``k x ULN``, ``k x LLN``, ``ULN + d unit``, ``LLN - d unit``."""

    ref: str                      # "uln" or "lln"
    multiplier: float = 1.0
    offset: float | None = None
    offset_unit: Unit | None = None
    text: str = ""


def _lab_reads(name: str) -> frozenset[str]:
    return frozenset({f"labs.{name}"}) | DERIVED_FROM.get(name, frozenset())


@dataclass(frozen=True)
class LabTest(Node):
    """A lab value against one threshold, or against the first of several
    alternatives whose unit the patient's value converts to (``by_unit``)."""

    kind: ClassVar[str] = "lab"
    analyte: Analyte
    alternatives: tuple              # ((op, Absolute | Relative), ...)
    within: Duration | None = None
    text: str = ""

    def reads(self):
        return _lab_reads(self.analyte.name)


@dataclass(frozen=True)
class LabResult(Node):
    """A qualitative lab result (positive / negative)."""

    kind: ClassVar[str] = "lab"
    analyte: Analyte
    expected: bool
    within: Duration | None = None

    def reads(self):
        return frozenset({f"labs.{self.analyte.name}"})
