"""A screening result in a coordinator's words, the same in every human-readable format (the
plain text, the terminal table, Markdown and HTML): each criterion's status in words that fit
inclusion and exclusion, its protocol text (shortened unless asked for in full), every check
with the mark of its part in the status, the data to fetch as a checklist by source, and the
stamp that makes a printed result a record (engine version, trial version, criteria checksum,
as-of date, date generated)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from trialscreen.explain.fetch import SOURCE_TITLE, SOURCES, checklist

# (kind, status) -> the status in words; an exclusion that is met excludes the patient
_STATUS = {("inclusion", "pass"): "met", ("inclusion", "fail"): "not met",
           ("exclusion", "pass"): "not excluded", ("exclusion", "fail"): "excluded"}
_ANY = {"unknown": "unknown", "not_applicable": "does not apply"}
MARK = {"pass": "✔", "fail": "✘", "unknown": "?", "not_applicable": "–"}
SHORT = 110     # characters of protocol text shown unless the full text is asked for


def status_words(kind: str, status: str) -> str:
    """'met', 'not met', 'excluded', 'not excluded', 'unknown', 'does not apply'."""
    return _ANY.get(status) or _STATUS[(kind, status)]


def status_label(criterion) -> str:
    """The status with its mark: '✔ not excluded', '✘ not met', '? unknown'."""
    return f"{MARK[criterion.status]} {status_words(criterion.kind, criterion.status)}"


def short_text(text: str, full: bool = False, limit: int = SHORT) -> str:
    """The protocol text on one line, cut at a word before ``limit`` characters with '…'."""
    one = " ".join(str(text).split())
    if full or len(one) <= limit:
        return one
    cut = one[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + " …"


@dataclass(frozen=True)
class CheckLine:
    mark: str          # ✔ / ✘: decided the status; ? unknown; · checked, did not decide; – for n/a
    text: str
    decisive: bool


def check_lines(criterion) -> list[CheckLine]:
    """Every check of a criterion, passing or failing, marked by its part in the status (a result
    without its checks, as a batch keeps it, shows its reason)."""
    if not criterion.checks and criterion.reason:
        return [CheckLine(MARK[criterion.status], str(criterion.reason), True)]
    out = []
    for check in criterion.checks:
        decisive = check.get("decisive", True) and not check.get("applies_if")
        unknown = check.get("result") == "unknown"
        if criterion.status == "not_applicable":
            mark = "–"
        elif not decisive:
            mark = "·"                 # checked, did not decide (or only says whether it applies)
        elif unknown:
            mark = "?"
        elif criterion.status in ("pass", "fail"):
            mark = MARK[criterion.status]
        else:
            mark = "·"
        text = str(check.get("text", ""))
        out.append(CheckLine(mark, f"it applies if: {text}" if check.get("applies_if") else text, decisive))
    return out


def fetch_groups(result) -> list[tuple[str, list]]:
    """[('From the laboratory', [FetchItem, ...]), ...]: the data to fetch, by source."""
    items = checklist(result)
    return [(SOURCE_TITLE[s], [i for i in items if i.source == s]) for s in SOURCES
            if any(i.source == s for i in items)]


def generated_at() -> datetime:
    """When a report is generated: now, or SOURCE_DATE_EPOCH (reproducible output)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def stamp(result) -> list[tuple[str, str]]:
    """What makes a printed result reproducible, as (label, value) pairs."""
    from trialscreen import __version__

    t = result.trial
    pairs = [("Patient", str(result.patient_id)), ("Trial", f"{t.id} ({t.version})" if t.version else t.id),
             ("As of", result.as_of.isoformat()), ("Engine", f"trialscreen {__version__}"),
             ("Criteria SHA-256", t.sha256 or "not recorded"),
             ("Generated", generated_at().strftime("%Y-%m-%d %H:%M UTC"))]
    if result.lab_window:
        pairs.insert(3, ("Lab window", f"labs dated within {result.lab_window} before the as-of date, unless a "
                                       "criterion says otherwise"))
    return pairs


REVIEWER = ("Reviewed by", "Signature", "Date")
