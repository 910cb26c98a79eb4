"""Screen a patient against a compiled trial: statuses, verdict, missing data.

Semantics (the contract of the product):
- a criterion evaluates to met, not met, unknown or not applicable;
- inclusion: met -> pass, not met -> fail; exclusion: met -> fail, not met -> pass;
  unknown -> unknown either way; a criterion whose ``applies_if`` is false is
  not_applicable and counts for nothing;
- verdict: any fail -> ineligible; otherwise any unknown -> needs_review;
  otherwise eligible. Missing data therefore never yields eligible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import trialscreen.evaluate.conditions  # noqa: F401
import trialscreen.evaluate.events  # noqa: F401
import trialscreen.evaluate.fields  # noqa: F401
import trialscreen.evaluate.findings  # noqa: F401
import trialscreen.evaluate.labs  # noqa: F401  (each family registers its evaluators)
import trialscreen.evaluate.treatments  # noqa: F401
import trialscreen.explain.conditions  # noqa: F401
import trialscreen.explain.events  # noqa: F401
import trialscreen.explain.fields  # noqa: F401
import trialscreen.explain.findings  # noqa: F401
import trialscreen.explain.labs  # noqa: F401  (and its sentences)
from trialscreen import __version__
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.core import evaluate
from trialscreen.explain.checks import check_entry
from trialscreen.explain.reasons import criterion_reason, not_applicable_reason
from trialscreen.ir import Node
from trialscreen.patient.model import Patient
from trialscreen.semantics.status import Status, Verdict
from trialscreen.semantics.timewin import Duration

# Results carry the plain words (results are plain data: printed, dumped to YAML or JSON as is)
PASS, FAIL, UNKNOWN, NOT_APPLICABLE = (s.value for s in Status)
ELIGIBLE, INELIGIBLE, NEEDS_REVIEW = Verdict.ELIGIBLE.value, Verdict.INELIGIBLE.value, Verdict.NEEDS_REVIEW.value


@dataclass
class Criterion:
    id: str
    kind: str                     # "inclusion" or "exclusion"
    text: str
    rule: Node
    applies_if: Node | None = None
    note: str = ""
    line: int | None = None
    unreachable: dict = field(default_factory=dict)   # status -> why no patient can reach it

    def reads(self) -> frozenset[str]:
        """The patient fields its rule and its ``applies_if`` read."""
        return self.rule.reads() | (self.applies_if.reads() if self.applies_if is not None else frozenset())


@dataclass
class Trial:
    id: str
    title: str
    source: str
    version: str
    criteria: list
    path: str | None = None
    sha256: str = ""
    complete: bool = True
    not_encoded: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    screening_window: Duration | None = None   # how old a lab may be, unless a criterion says

    def summary(self) -> dict:
        return {"id": self.id, "title": self.title, "source": self.source, "version": self.version,
                "complete": self.complete, "not_encoded": list(self.not_encoded),
                "file": self.path, "sha256": self.sha256}


@dataclass
class CriterionResult:
    id: str
    kind: str
    text: str
    status: str
    reason: str = ""
    checks: list = field(default_factory=list)
    missing: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "text": self.text, "status": self.status,
                "reason": self.reason, "checks": self.checks, "missing": [str(m) for m in self.missing]}


@dataclass
class ScreenResult:
    trial: Trial
    patient_id: str
    as_of: date
    verdict: str
    criteria: list
    missing: list
    warnings: list = field(default_factory=list)
    lab_window: str = ""        # how old a lab may be where a criterion gives no window ('28 days')

    def counts(self) -> dict:
        out = {PASS: 0, FAIL: 0, UNKNOWN: 0, NOT_APPLICABLE: 0}
        for c in self.criteria:
            out[c.status] += 1
        return out

    def ids(self, status: str) -> list:
        return [c.id for c in self.criteria if c.status == status]

    def as_dict(self) -> dict:
        out = {
            "trial": self.trial.summary(),
            "patient": {"id": self.patient_id},
            "as_of": self.as_of.isoformat(),
            "verdict": self.verdict,
            "criteria": [c.as_dict() for c in self.criteria],
            "missing": [str(m) for m in self.missing],
            "engine_version": __version__,
            "criteria_sha256": self.trial.sha256,
        }
        if self.lab_window:
            out["lab_window"] = self.lab_window
        if not self.trial.complete:
            out["coverage"] = (f"this verdict covers only the encoded criteria of {self.trial.id}; "
                               f"not encoded: {'; '.join(self.trial.not_encoded)}")
        if self.warnings:
            out["warnings"] = [str(w) for w in self.warnings]
        return out


_STATUS = {
    ("inclusion", True): PASS, ("inclusion", False): FAIL,
    ("exclusion", True): FAIL, ("exclusion", False): PASS,
}


def evaluate_criterion(criterion: Criterion, ctx: Context) -> CriterionResult:
    tracing = ctx.trace is not None
    applies: bool | None = True
    applies_missing: tuple = ()
    applies_trace: list = []
    if criterion.applies_if is not None:
        ctx.trace = [] if tracing else None
        applies, applies_missing = evaluate(criterion.applies_if, ctx)
        applies_trace = ctx.trace or []
        if applies is False:
            reason = not_applicable_reason(applies_trace, ctx.as_of) if tracing else ""
            return CriterionResult(criterion.id, criterion.kind, criterion.text, NOT_APPLICABLE,
                                   reason, [check_entry(c, ctx.as_of) for c in applies_trace])
    ctx.trace = [] if tracing else None
    value, missing = evaluate(criterion.rule, ctx)
    status = UNKNOWN if value is None else _STATUS[(criterion.kind, value)]
    if applies is None and status != PASS:
        # Whether it applies decides it: ask for that, and for what the rule itself lacks.
        status = UNKNOWN
        missing = tuple(applies_missing) + (tuple(missing) if value is None else ())
    reason, checks = "", []
    if tracing:
        trace = ctx.trace or []
        reason = criterion_reason(value, status == PASS, applies, criterion.applies_if is not None,
                                  applies_trace, trace, ctx.as_of)
        checks = [dict(check_entry(c, ctx.as_of), applies_if=True) for c in applies_trace]
        checks += [check_entry(c, ctx.as_of) for c in trace]
    return CriterionResult(criterion.id, criterion.kind, criterion.text, status, reason,
                           checks, _unique(missing) if status == UNKNOWN else [])


def verdict_of(statuses) -> str:
    statuses = list(statuses)
    if FAIL in statuses:
        return INELIGIBLE
    if UNKNOWN in statuses:
        return NEEDS_REVIEW
    return ELIGIBLE


# A lab older than this decides nothing when neither the criterion nor the trial gives a
# window: 28 days is the most common screening window of oncology protocols (the five
# bundled trials state their own). Sites change it with --max-lab-age.
DEFAULT_MAX_LAB_AGE = Duration(28, "days")


def lab_window(trial: Trial, max_lab_age: Duration | None, as_of: date) -> tuple:
    """(Duration, whose it is): how old a lab may be where a criterion gives no ``within``.
    The trial's screening window, or the site's maximum (``--max-lab-age``) where that is
    shorter on this as-of date (a site maximum is a ceiling) or the trial gives none, else
    the default."""
    site = (max_lab_age, f"the site's maximum lab age of {max_lab_age}") if max_lab_age else None
    if trial.screening_window is not None:
        own = (trial.screening_window, f"the trial's screening window of {trial.screening_window}")
        if max_lab_age is None or trial.screening_window.before(as_of) >= max_lab_age.before(as_of):
            return own
    return site or (DEFAULT_MAX_LAB_AGE, f"the default maximum lab age of {DEFAULT_MAX_LAB_AGE}")


def screen(trial: Trial, patient: Patient, as_of: date | None = None, explain: bool = True,
           max_lab_age: Duration | None = None, memo=None, today: date | None = None) -> ScreenResult:
    """Screen one patient against one trial at ``as_of`` (the patient's own
    as-of date, or ``today`` when not given: a batch takes its date once, at its start, so
    that a run past midnight screens every row on one day). A batch passes a ``memo``
    (evaluate/reuse.py ``CriterionMemo``): a criterion whose inputs an earlier row had
    is not evaluated again."""
    when = as_of or patient.as_of or today or date.today()
    ctx = Context(patient, when, explain, lab_window(trial, max_lab_age, when))
    if memo is None:
        results = [evaluate_criterion(c, ctx) for c in trial.criteria]
    else:
        memo.begin(ctx)
        results = [memo.result(c, ctx, evaluate_criterion) for c in trial.criteria]
    return combine(trial, patient.id, when, results, list(patient.warnings), str(ctx.lab_window[0]))


def combine(trial: Trial, patient_id: str, as_of: date, results: list, warnings: list,
            window: str = "") -> ScreenResult:
    """A trial's result from its criteria's: the verdict and the data to fetch."""
    verdict = verdict_of(r.status for r in results)
    missing = _unique(m for r in results for m in r.missing)
    return ScreenResult(trial, patient_id, as_of, verdict, results, missing, warnings, window)


def _unique(items) -> list:
    seen: dict = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
