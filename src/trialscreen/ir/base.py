"""The shared part of the rule tree: the node base class, all / any / not, named references,
and the time window of a rule.

Nodes are plain frozen data (comparable, hashable): the compiler builds them, the
evaluator (trialscreen.evaluate) and the explanations (trialscreen.explain) read them.
Each node says which patient fields it reads (``reads()``: paths into the patient model,
such as ``labs.creatinine``, ``age``, ``diagnoses``), so that a runner can tell which
inputs can change its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trialscreen.semantics.timewin import Duration


@dataclass(frozen=True)
class Node:
    """Base class of every node of the rule tree."""

    kind: ClassVar[str] = "node"

    def children(self) -> tuple:
        return ()

    def reads(self) -> frozenset[str]:
        """The patient fields this node's value depends on (besides the as-of date)."""
        out: frozenset[str] = frozenset()
        for child in self.children():
            out |= child.reads()
        return out


def walk(node: Node):
    """The node and every node below it, depth first."""
    yield node
    for child in node.children():
        yield from walk(child)


@dataclass(frozen=True)
class All(Node):
    """Kleene AND: one false item decides; otherwise any unknown item makes it unknown."""

    kind: ClassVar[str] = "all"
    items: tuple

    def children(self):
        return self.items


@dataclass(frozen=True)
class Any(Node):
    """Kleene OR: one true item decides; otherwise any unknown item makes it unknown."""

    kind: ClassVar[str] = "any"
    items: tuple

    def children(self):
        return self.items


@dataclass(frozen=True)
class Not(Node):
    kind: ClassVar[str] = "not"
    item: Node

    def children(self):
        return (self.item,)


@dataclass(frozen=True)
class Reference(Node):
    """A named definition used by a criterion (kept for the explanation)."""

    kind: ClassVar[str] = "use"
    name: str
    item: Node

    def children(self):
        return (self.item,)


@dataclass(frozen=True)
class Window:
    """A date must fall within ``within`` before the as-of date, or, with
    ``after``, within ``within`` after the latest treatment of that type."""

    within: Duration
    after: str | None = None

    def reads(self) -> frozenset[str]:
        return frozenset({"treatments"}) if self.after else frozenset()
