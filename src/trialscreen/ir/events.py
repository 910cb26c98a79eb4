"""List-section rules: an item of the patient's diagnoses, other neoplasms or treatments
matches the rule's names, attributes and window (treatments also: drugs, and the
aggregates over the whole history, in ir/treatments.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trialscreen.ir.base import Node, Window
from trialscreen.semantics.timewin import Duration


@dataclass(frozen=True)
class EventTest(Node):
    """What the list-section rules share. ``names`` are the kinds an item must be (None: any),
    ``asked`` the names the rule wrote before the kinds below them were added (for the
    sentences), ``maybe`` the broader kinds an item recorded as one might be one of
    ``names``, ``attrs`` the allowed values of the item's attributes, in the rule's order."""

    section: ClassVar[str] = ""
    noun: ClassVar[str] = ""
    names: frozenset | None = None
    attrs: tuple = ()                   # ((attribute, frozenset of allowed values), ...)
    window: Window | None = None
    maybe: frozenset = frozenset()
    asked: tuple = ()

    def reads(self):
        out = frozenset({self.section, f"complete.{self.section}"})
        if self.window is not None:
            out |= self.window.reads()
        return out


@dataclass(frozen=True)
class DiagnosisTest(EventTest):
    kind: ClassVar[str] = "diagnosis"
    section: ClassVar[str] = "diagnoses"
    noun: ClassVar[str] = "diagnosis"


@dataclass(frozen=True)
class NeoplasmTest(EventTest):
    """Another neoplasm that is neither exempt nor tumour-free long enough."""

    kind: ClassVar[str] = "neoplasm"
    section: ClassVar[str] = "neoplasms"
    noun: ClassVar[str] = "other neoplasm"
    exempt: tuple = ()                  # ((types, attrs as in EventTest), ...)
    free_for: Duration | None = None
