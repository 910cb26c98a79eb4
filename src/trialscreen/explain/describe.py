"""A compiled rule tree, written out as indented lines a coordinator can read."""

from __future__ import annotations

from collections.abc import Callable

from trialscreen.ir import All, Any, Not, Reference
from trialscreen.registry import registrar

# node type -> function (node) -> the rule in a few words ('anc >= 1.0 10^9/L')
DESCRIBERS: dict[type, Callable] = {}


# @describes(key, ...): register the decorated function as the writer of these node types' rule text.
describes = registrar(DESCRIBERS)


def describe(node) -> str:
    return DESCRIBERS[type(node)](node)


def rule_lines(node, indent: int = 0) -> list[str]:
    pad = "  " * indent
    if isinstance(node, (All, Any)):
        word = "ALL of:" if isinstance(node, All) else "ANY of:"
        out = [pad + word]
        for child in node.children():
            out.extend(rule_lines(child, indent + 1))
        return out
    if isinstance(node, Not):
        inner = rule_lines(node.item, indent + 1)
        if len(inner) == 1:
            return [pad + "NOT " + inner[0].strip()]
        return [pad + "NOT:"] + inner
    if isinstance(node, Reference):
        return [pad + f"{node.name} (definition):"] + rule_lines(node.item, indent + 1)
    return [pad + describe(node)]


def criterion_lines(criterion) -> list[str]:
    out = []
    if criterion.applies_if is not None:
        out.append("applies only if:")
        out.extend(rule_lines(criterion.applies_if, 1))
        out.append("then:" if criterion.kind == "inclusion" else "then excluded if:")
        out.extend(rule_lines(criterion.rule, 1))
    else:
        if criterion.kind == "exclusion":
            out.append("excluded if:")
            out.extend(rule_lines(criterion.rule, 1))
        else:
            out.extend(rule_lines(criterion.rule))
    if criterion.note:
        out.append(f"note: {criterion.note}")
    return out
