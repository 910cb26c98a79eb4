"""Golden patient cases shipped beside each trial, and `trialscreen test`.

A trial ``criteria/NCT05378971.yaml`` has its cases in
``criteria/cases/NCT05378971/*.yaml`` (or ``.json``)::

    description: what the case shows
    as_of: 2025-06-02            # optional
    patient: { ... }             # a patient record, as in a JSON patient file
    expected:
      verdict: eligible
      criteria: {I1: pass, I2: not_applicable, ...}   # every criterion of the trial

Running them reports every mismatch, and which criteria no case drives to each
of pass, fail and unknown (unless the trial states, with ``unreachable:``, why
that status cannot happen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from trialscreen.criteria.yamlsrc import load_yaml
from trialscreen.errors import CriteriaError, InputError, Location, TrialscreenError
from trialscreen.evaluate.screen import ScreenResult
from trialscreen.semantics.status import DECIDED, SCREENED, Status

STATUSES = tuple(s.value for s in DECIDED)
VERDICTS = tuple(v.value for v in SCREENED)
ALL_STATUSES = tuple(s.value for s in Status)


@dataclass
class CaseOutcome:
    path: Path
    trial_id: str
    mismatches: list = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.error is None


@dataclass
class TrialReport:
    trial_id: str
    path: Path
    cases: list = field(default_factory=list)
    reached: dict = field(default_factory=dict)        # criterion -> set of statuses
    gaps: list = field(default_factory=list)           # (criterion, status)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.cases)


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    return value


def load_case(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"invalid JSON: {exc}", Location(str(path))) from None
    else:
        data, problems = load_yaml(text, str(path))
        if problems:
            raise CriteriaError(problems)
        data = _plain(data)
    if not isinstance(data, dict) or "patient" not in data or "expected" not in data:
        raise InputError("a case needs 'patient' and 'expected'", Location(str(path), 1, 1))
    extra = set(data) - {"description", "as_of", "patient", "expected"}
    if extra:
        raise InputError(f"unknown key '{sorted(extra)[0]}' in a case", Location(str(path)),
                         "a case has description, as_of, patient and expected")
    return data


def cases_for(trial_path: Path, trial_id: str) -> list[Path]:
    folder = trial_path.parent / "cases" / trial_id
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def run_case(trial, path: Path) -> tuple[CaseOutcome, ScreenResult | None]:
    from trialscreen.evaluate.screen import screen
    from trialscreen.patient.load import patient_from_dict

    outcome = CaseOutcome(path, trial.id)
    try:
        data = load_case(path)
        expected = data["expected"]
        as_of = date.fromisoformat(data["as_of"]) if data.get("as_of") else None
        patient = patient_from_dict(data["patient"], str(path))
    except (TrialscreenError, ValueError) as exc:
        outcome.error = str(exc)
        return outcome, None
    result = screen(trial, patient, as_of)
    want_verdict = expected.get("verdict")
    if want_verdict not in VERDICTS:
        outcome.mismatches.append(f"expected verdict {want_verdict!r} is not one of {', '.join(VERDICTS)}")
    elif result.verdict != want_verdict:
        outcome.mismatches.append(f"verdict: expected {want_verdict}, got {result.verdict}")
    want = expected.get("criteria") or {}
    ids = [c.id for c in result.criteria]
    for cid in want:
        if cid not in ids:
            outcome.mismatches.append(f"{cid}: not a criterion of {trial.id}")
    for c in result.criteria:
        status = want.get(c.id)
        if status is None:
            outcome.mismatches.append(f"{c.id}: the case does not state its expected status (got {c.status})")
        elif status not in ALL_STATUSES:
            outcome.mismatches.append(f"{c.id}: expected status {status!r} is not one of {', '.join(ALL_STATUSES)}")
        elif status != c.status:
            outcome.mismatches.append(f"{c.id}: expected {status}, got {c.status} ({c.reason})")
    return outcome, result


def check_trial(path: Path) -> TrialReport:
    from trialscreen.criteria.library import load_trial

    report = TrialReport(path.stem, path)
    try:
        trial = load_trial(str(path))
    except TrialscreenError as exc:
        report.error = str(exc)
        return report
    report.trial_id = trial.id
    report.reached = {c.id: set() for c in trial.criteria}
    for case_path in cases_for(path, trial.id):
        outcome, result = run_case(trial, case_path)
        report.cases.append(outcome)
        if result is not None and outcome.ok:
            for c in result.criteria:
                report.reached[c.id].add(c.status)
    for c in trial.criteria:
        for status in STATUSES:
            if status not in report.reached[c.id] and status not in c.unreachable:
                report.gaps.append((c.id, status))
    return report


def trial_files(paths: list[str]) -> list[Path]:
    """Trial files named by the arguments: files, or folders of trials."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.glob("*.yaml") if not f.name.startswith("_")))
        elif p.suffix in (".yaml", ".yml") and p.parent.name != "cases" and p.parent.parent.name != "cases":
            out.append(p)
        elif p.exists():
            trial = p.parent.parent.parent / f"{p.parent.name}.yaml"
            if trial not in out:
                out.append(trial)
        else:
            from trialscreen.criteria.library import resolve

            out.append(resolve(str(p)))
    return out
