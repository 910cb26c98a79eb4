"""Cytogenetic findings: any_of / none_of, with an optional clone-size cut-off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trialscreen.ir.base import Node


@dataclass(frozen=True)
class FindingTest(Node):
    """Cytogenetics: any of (or none of) a list of findings is detected."""

    kind: ClassVar[str] = "cytogenetics"
    findings: tuple
    mode: str = "any"                   # "any" or "none"
    min_percent: float | None = None

    def reads(self):
        return frozenset(f"cytogenetics.{f}" for f in self.findings) | {"unrecognised.cytogenetics"}
