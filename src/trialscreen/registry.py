"""One way to fill a dispatch table with a decorator: the evaluator per node type
(evaluate/core.py), the sentence per kind of check (explain/checks.py) and the rule text per
node type (explain/describe.py)."""

from __future__ import annotations

from collections.abc import Callable


def registrar(table: dict) -> Callable:
    """A decorator factory: ``@registrar(table)(key, ...)`` stores the function under each key."""

    def register_under(*keys) -> Callable:
        def register(func: Callable) -> Callable:
            for key in keys:
                table[key] = func
            return func

        return register

    return register_under
