"""The reason of a criterion's status, written from the checks of its trace."""

from __future__ import annotations

from datetime import date

from trialscreen.explain.checks import texts

_WORD = {True: "met", False: "not met", None: "undecided"}


def not_applicable_reason(applies_trace, as_of: date) -> str:
    return "does not apply: " + "; ".join(texts(applies_trace, as_of))


def criterion_reason(value, passes: bool, applies, has_condition: bool, applies_trace, trace,
                     as_of: date) -> str:
    """'met: ...', 'not met: ... (it applies: ...)', 'undecided: cannot tell whether it
    applies (...); if it applies, ...'."""
    shown = "; ".join(texts(trace, as_of))
    word = _WORD[value]
    reason = f"{word}: {shown}"
    where = "; ".join(texts(applies_trace, as_of))
    if applies is None:
        if passes:
            return f"{reason} (it passes whether or not it applies; cannot tell whether it applies: {where})"
        return f"undecided: cannot tell whether it applies ({where}); if it applies, {word}: {shown}"
    if has_condition:
        return f"{reason} (it applies: {where})"
    return reason
