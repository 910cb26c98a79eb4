"""The words of a check: one sentence (and the facts a program reads) per case a leaf
records in the evaluator's trace. Each family of rules registers its sentences here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from trialscreen.explain.words import RESULT_WORD
from trialscreen.registry import registrar

# Check.what -> function (check, as-of date) -> (sentence, details dict or None)
SENTENCES: dict[str, Callable] = {}


# @sentence(key, ...): register the decorated function as the writer of these kinds of check.
sentence = registrar(SENTENCES)


def check_entry(check, as_of: date) -> dict:
    """A check as the plain data results carry: type, result, text, details, missing."""
    text, details = SENTENCES[check.what](check, as_of)
    entry = {"type": check.node.kind, "result": RESULT_WORD[check.result], "text": text,
             "decisive": check.decisive}
    if details:
        entry.update(details)
    if check.missing:
        entry["missing"] = [str(m) for m in check.missing]     # plain words: results dump as they are
    return entry


def texts(trace, as_of: date) -> list[str]:
    """The sentence of each check of a trace that decided (the reason's words)."""
    return [SENTENCES[c.what](c, as_of)[0] for c in trace if c.decisive]
