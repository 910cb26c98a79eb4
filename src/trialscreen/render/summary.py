"""What every human-readable format says the same way: the words of statuses and verdicts,
the counts line, the order of several trials' results and the reason a trial was ranked,
the lab-window sentence and a trial's criteria counts."""

from __future__ import annotations

STATUS_WORD = {"pass": "✔ pass", "fail": "✘ fail", "unknown": "? unknown", "not_applicable": "– n/a"}
VERDICT_WORD = {"eligible": "ELIGIBLE", "ineligible": "INELIGIBLE", "needs_review": "NEEDS REVIEW"}
_ORDER = {"eligible": 0, "needs_review": 1, "ineligible": 2}


def counts_words(result) -> str:
    """'15 pass, 1 fail, 0 unknown, 2 not applicable' (the last only when there are any)."""
    c = result.counts()
    parts = [f"{c['pass']} pass", f"{c['fail']} fail", f"{c['unknown']} unknown"]
    if c["not_applicable"]:
        parts.append(f"{c['not_applicable']} not applicable")
    return ", ".join(parts)


def ranked(results) -> list:
    """Eligible first, then needs review (fewest undecided first), then ineligible."""
    return sorted(results, key=lambda r: (_ORDER[r.verdict], len(r.ids("unknown")), r.trial.id))


def why(result) -> str:
    if result.verdict == "ineligible":
        text = "fails " + ", ".join(result.ids("fail"))
    elif result.verdict == "needs_review":
        text = f"{len(result.ids('unknown'))} undecided: " + ", ".join(result.ids("unknown"))
    else:
        text = "every criterion met"
    if not result.trial.complete:
        text += " (trial only partly encoded)"
    return text


def lab_window_words(trial) -> str:
    """The sentence ``explain`` prints on how old a lab may be for this trial."""
    window = (f"the trial's screening window of {trial.screening_window}" if trial.screening_window
              else "the site's --max-lab-age (default 28 days): the trial states no screening_window")
    return f"A lab counts only if dated within {window}, unless a criterion says otherwise."


def criteria_counts(trial) -> str:
    """'7 incl, 11 excl'."""
    n_in = sum(1 for c in trial.criteria if c.kind == "inclusion")
    return f"{n_in} incl, {len(trial.criteria) - n_in} excl"
