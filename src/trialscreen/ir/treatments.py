"""Treatment rules: an item of a type (or a kind of it), with drugs, and the aggregates that
read the whole history (the length of a phase, the number of lines)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trialscreen.ir.events import EventTest


@dataclass(frozen=True)
class TreatmentTest(EventTest):
    kind: ClassVar[str] = "treatment"
    section: ClassVar[str] = "treatments"
    noun: ClassVar[str] = "treatment"
    drugs: frozenset | None = None
    duration: tuple | None = None       # (op, Duration): the length of the whole phase
    count: tuple | None = None          # (op, n): how many matching treatments (a 'line' counts once)
