"""Condition rules: present, CTCAE grade, active, and windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trialscreen.ir.base import Node, Window


@dataclass(frozen=True)
class ConditionTest(Node):
    """A condition (CTCAE-graded or not) is present, optionally with a grade,
    active, or dated within a window."""

    kind: ClassVar[str] = "condition"
    names: tuple
    grade: tuple | None = None          # (op, int)
    active: bool | None = None
    window: Window | None = None

    def reads(self):
        out = frozenset(f"conditions.{n}" for n in self.names) | {"unrecognised.conditions"}
        if self.window is not None:   # a window after a treatment reads the treatments
            out |= self.window.reads()
        return out
