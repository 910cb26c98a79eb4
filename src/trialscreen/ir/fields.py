"""Rules on patient fields (age, sex, ECOG, flags), attestations and allergies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trialscreen.ir.base import Node

# A field's value also depends on these others (an age is computed from the birth date).
_ALSO_READS = {"age": frozenset({"birth_date"})}


@dataclass(frozen=True)
class FieldTest(Node):
    """A patient field (age, sex, ECOG, weight, a yes/no flag) against values."""

    kind: ClassVar[str] = "field"
    field: str
    op: str          # <, <=, >, >=, ==, !=, in, between, outside
    value: object    # number, text, bool, (low, high), frozenset
    text: str

    def reads(self):
        return frozenset({self.field}) | _ALSO_READS.get(self.field, frozenset())


@dataclass(frozen=True)
class AttestationTest(Node):
    """A human judgment recorded in the patient file (consent, investigator opinion)."""

    kind: ClassVar[str] = "attestation"
    name: str
    expected: bool = True
    question: str = ""

    def reads(self):
        return frozenset({f"attestations.{self.name}"})


@dataclass(frozen=True)
class AllergyTest(Node):
    kind: ClassVar[str] = "allergy"
    substances: tuple

    def reads(self):
        return frozenset({"allergies", "complete.allergies"})
