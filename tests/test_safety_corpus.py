"""Clinical-safety corpus: eligible patients with ONE change that must not stay eligible.

Every file of ``tests/safety/<TRIAL>/`` is a synthetic patient record (never real patient
data), in the shape the EHR exports of ``examples/patients/`` have. Each is screened through
the real command line, in-process like ``tests/test_corpus.py``::

    trialscreen screen FILE --trial <TRIAL> --as-of <as_of> --format json [args]

The folder holds two kinds of record, each with a sibling ``<name>.expected.json``:

``base-<name>.json``
    An eligible patient, copied from ``examples/patients/NCT05378971-eligible.json`` or from
    the ``patient`` of a golden case ``criteria/cases/<TRIAL>/eligible-*.yaml`` (with the
    case's ``as_of`` written into the record). Its expectation::

        {"trial": "NCT05378971", "as_of": "2025-06-02", "verdict": "eligible",
         "source": "criteria/cases/.../eligible-....yaml",  # or a .json example
         "differs_from_source": ["as_of"],                   # paths, as for "change" below
         "why": "..."}

    The test checks that the base still IS eligible (exit 0, every criterion pass or
    not_applicable, no warning) and still equals its source outside ``differs_from_source``,
    so the corpus cannot rot when the trials, the engine or the golden cases change.

``<case>.json``
    A base with ONE change, which alone must make the verdict non-eligible::

        {"trial": "NCT05378971",
         "as_of": "2025-06-02",                  # passed as --as-of
         "base": "base-asct-path.json",          # the eligible record it is made from
         "class": "open-world",                  # see CLASSES
         "change": ["cytogenetics.-17"],         # where the case differs from its base
         "args": ["--max-lab-age", "90 days"],   # optional: more command-line options
         "verdict": "needs_review",              # the exact verdict; never "eligible"
         "criteria": {"E1": "unknown"},          # every criterion whose status changes
         "reason_contains": {"E1": "unrecognised finding '-17' detected"},
         "missing_contains": ["cytogenetics: is '-17' one of"],        # optional
         "warnings_contain": ["unrecognised cytogenetic finding '-17'"],  # optional
         "known_gap": "...",                     # optional: see below
         "why": "the clinical reason, in a sentence or two"}

    The test checks: exit 0, nothing on stderr but the result's warnings, the verdict; each criterion of ``criteria``
    has that status and every other criterion the status it has for the base (so the change
    touches exactly the criteria named); each ``reason_contains`` fragment is in that
    criterion's ``reason``; each ``missing_contains`` fragment is in one entry of the result's
    ``missing``; each ``warnings_contain`` fragment is in one of its ``warnings``, and with
    none listed there is no warning. The record must differ from its base exactly at the
    ``change`` paths: a path is dotted (``labs.alt.date``, ``treatments.2``: a list item by its
    index) and may use ``*`` (``labs.*.date``); a path covers everything under it; every
    difference must be covered by a pattern and every pattern must cover a difference.

    A ``control-*`` case is the exception to "never eligible": it pins the other side of a
    rule (``hbv_dna: "not detected"`` is a bound that decides E6, not a refusal), and is the
    only kind of case whose verdict may be ``eligible``.

    ``known_gap`` marks a case that is eligible today and should not be: the case stays as
    it should be, the test is an expected failure (strict, so it reports XPASS, a failure,
    once the gap is closed and the marker should go).

CLASSES are the kinds of "wrong eligible" the corpus covers; ``test_the_corpus_covers_every_class``
checks that every class has a case for NCT05378971, and that every other trial has the
classes that apply to it (``REQUIRED``).
"""

from __future__ import annotations

import fnmatch
import json
from functools import cache
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, cli

SAFETY = Path(__file__).parent / "safety"

CLASSES = {
    "one-clock": "anything dated after the as-of date has not happened",
    "stale-lab": "a lab older than its window, or undated, decides nothing",
    "phase": "a treatment phase is measured over all its lines",
    "open-world": "a name the vocabulary does not know is not 'none of them'",
    "lab-text": "text for a quantitative lab is a bound or unknown, never a refusal",
    "reference-limit": "a limit or value outside what labs and humans have is not used",
}
ALL = set(CLASSES)
REQUIRED = {
    "NCT05378971": ALL,
    "NCT00480363": {"one-clock", "stale-lab", "open-world"},
    "NCT01169337": {"one-clock", "stale-lab", "open-world"},
    # no lab criterion: nothing for a stale lab to decide
    "NCT01421927": {"one-clock", "open-world"},
    "NCT06863584": {"one-clock", "stale-lab", "open-world"},
}
DECIDED = {"pass", "not_applicable"}
BASE_KEYS = {"trial", "as_of", "verdict", "source", "differs_from_source", "why"}
CASE_KEYS = {"trial", "as_of", "base", "class", "change", "args", "verdict", "criteria", "reason_contains",
             "missing_contains", "warnings_contain", "known_gap", "why"}


def records(prefix: str = "") -> list[Path]:
    return sorted(p for p in SAFETY.glob("*/*.json")
                  if not p.name.endswith(".expected.json") and p.name.startswith(prefix))


def bases() -> list[Path]:
    return records("base-")


def cases() -> list[Path]:
    return [p for p in records() if not p.name.startswith("base-")]


def expected(path: Path) -> dict:
    return json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def screened(path: Path, trial: str, as_of: str, args: tuple = ()) -> tuple[int, str, dict | None]:
    """(exit code, stderr, the one result) of screening ``path``; cached, a base serves many cases."""
    ran = cli("screen", str(path), "--trial", trial, "--as-of", as_of, "--format", "json", *args)
    result = None
    if ran.code == 0:
        results = json.loads(ran.out)
        assert len(results) == 1, f"{path.name}: {len(results)} results for one trial"
        result = results[0]
    return ran.code, ran.err, result


def statuses(result: dict) -> dict:
    return {c["id"]: c["status"] for c in result["criteria"]}


def differences(a, b, path: str = "") -> list[str]:
    """Dotted paths where two decoded JSON documents differ (list items by index)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in list(a) + [k for k in b if k not in a]:
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                out.append(where)
            else:
                out.extend(differences(a[key], b[key], where))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            where = f"{path}.{i}" if path else str(i)
            if i >= len(a) or i >= len(b):
                out.append(where)
            else:
                out.extend(differences(a[i], b[i], where))
        return out
    if type(a) is not type(b) or a != b:
        return [path]
    return []


def covers(pattern: str, path: str) -> bool:
    """A declared change covers its path and everything under it."""
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + ".*")


def assert_differs_only_at(record: dict, reference: dict, patterns: list[str], what: str) -> None:
    found = differences(reference, record)
    stray = [d for d in found if not any(covers(p, d) for p in patterns)]
    assert not stray, f"{what}: differs at {stray}, which its expectation does not declare ({patterns})"
    unused = [p for p in patterns if not any(covers(p, d) for d in found)]
    assert not unused, f"{what}: declares a change at {unused}, but does not differ there"


def source_record(source: str, as_of: str) -> dict:
    path = ROOT / source
    if path.suffix == ".json":
        return load(path)
    golden = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert golden["as_of"] == as_of, f"{source}: as_of {golden['as_of']}, the base says {as_of}"
    assert golden["expected"]["verdict"] == "eligible", f"{source} is not an eligible golden case"
    # as a JSON record would hold it (YAML may decode unquoted dates as dates)
    return json.loads(json.dumps(golden["patient"], default=str))


# --- the bases: eligible, and still what their source is ---------------------------------------

@pytest.mark.parametrize("path", bases(), ids=case_id)
def test_base_is_eligible(path):
    exp = expected(path)
    assert set(exp) == BASE_KEYS, f"{path.name}.expected: keys {sorted(set(exp) ^ BASE_KEYS)}"
    assert exp["trial"] == path.parent.name and exp["verdict"] == "eligible"
    record = load(path)
    assert record.get("as_of") == exp["as_of"], f"{path.name}: the record's as_of is not {exp['as_of']}"
    assert_differs_only_at(record, source_record(exp["source"], exp["as_of"]), exp["differs_from_source"],
                           f"{path.name} against {exp['source']}")
    code, err, result = screened(path, exp["trial"], exp["as_of"])
    assert code == 0, f"{path.name}: exit {code}: {err}"
    assert err == ""
    assert result["verdict"] == "eligible", (
        f"{path.name}: the base is {result['verdict']}: "
        + "; ".join(f"{c['id']} {c['status']}: {c['reason']}" for c in result["criteria"]
                    if c["status"] not in DECIDED))
    assert set(statuses(result).values()) <= DECIDED
    assert not result.get("warnings"), f"{path.name}: {result.get('warnings')}"


# --- the cases: one change, not eligible, for the stated reason ----------------------------------

def _case_params():
    out = []
    for path in cases():
        gap = expected(path).get("known_gap")
        marks = [pytest.mark.xfail(reason=gap, strict=True)] if gap else []
        out.append(pytest.param(path, id=case_id(path), marks=marks))
    return out


@pytest.mark.parametrize("path", _case_params())
def test_safety_case(path):
    exp = expected(path)
    what = case_id(path)
    assert set(exp) <= CASE_KEYS, f"{what}.expected: unknown keys {sorted(set(exp) - CASE_KEYS)}"
    assert exp["trial"] == path.parent.name, f"{what}: filed under the wrong trial"
    assert exp["class"] in CLASSES, f"{what}: class {exp['class']!r}"
    assert exp["why"].strip() and exp["change"] and exp["reason_contains"]
    assert set(exp["reason_contains"]) <= set(exp["criteria"]), f"{what}: a reason for an unlisted criterion"
    if not path.name.startswith("control-"):
        assert exp["verdict"] in ("ineligible", "needs_review"), f"{what}: a safety case expects {exp['verdict']}"
    args = tuple(exp.get("args", ()))

    # the unchanged base is eligible (with the same options), and the case is that base with one change
    base_path = path.with_name(exp["base"])
    assert base_path.name.startswith("base-") and base_path.exists(), f"{what}: no base {exp['base']}"
    assert expected(base_path)["as_of"] == exp["as_of"], f"{what}: as_of differs from its base's"
    code, err, base = screened(base_path, exp["trial"], exp["as_of"], args)
    assert code == 0 and base["verdict"] == "eligible", f"{what}: its base {exp['base']} is not eligible: {err}"
    assert_differs_only_at(load(path), load(base_path), exp["change"], what)

    code, err, result = screened(path, exp["trial"], exp["as_of"], args)
    assert code == 0, f"{what}: exit {code} (the record must be screened, not refused): {err}"
    warnings = result.get("warnings", [])
    assert err == "".join(f"warning: {w}\n" for w in warnings), f"{what}: stderr is not its warnings: {err}"
    got = statuses(result)
    assert set(exp["criteria"]) <= set(got), f"{what}: no criterion {sorted(set(exp['criteria']) - set(got))}"
    report = "\n".join(f"  {c['id']} {c['status']}: {c['reason']}" for c in result["criteria"]
                       if c["status"] not in DECIDED or c["id"] in exp["criteria"])
    assert result["verdict"] == exp["verdict"], f"{what}: verdict {result['verdict']}, expected {exp['verdict']}\n{report}"
    want = {cid: exp["criteria"].get(cid, status) for cid, status in statuses(base).items()}
    changed = {cid: (want[cid], got[cid]) for cid in want if want[cid] != got[cid]}
    assert not changed, f"{what}: criteria (expected, got): {changed}\n{report}"

    reasons = {c["id"]: c["reason"] for c in result["criteria"]}
    for cid, fragments in exp["reason_contains"].items():
        for fragment in [fragments] if isinstance(fragments, str) else fragments:
            assert fragment in reasons[cid], f"{what}: {cid} reason lacks {fragment!r}: {reasons[cid]}"
    for fragment in exp.get("missing_contains", ()):
        assert any(fragment in m for m in result["missing"]), f"{what}: missing lacks {fragment!r}: {result['missing']}"
    for fragment in exp.get("warnings_contain", ()):
        assert any(fragment in w for w in warnings), f"{what}: warnings lack {fragment!r}: {warnings}"
    if not exp.get("warnings_contain"):
        assert not warnings, f"{what}: unexpected warnings {warnings}"


# --- the corpus itself ---------------------------------------------------------------------------

def test_the_corpus_is_complete():
    """Every record has its expectation and every expectation its record; no stray files."""
    for folder in sorted(p for p in SAFETY.iterdir()):
        assert folder.is_dir() and folder.name in REQUIRED, f"tests/safety/{folder.name}: not a bundled trial"
        for p in folder.iterdir():
            assert p.suffix == ".json", f"{p}: only .json files belong here"
            if p.name.endswith(".expected.json"):
                assert p.with_name(p.name[: -len(".expected.json")] + ".json").exists(), f"{p.name} has no record"
            else:
                assert p.with_name(p.stem + ".expected.json").exists(), f"{p.name} has no expectation"


def test_the_corpus_covers_every_class():
    have: dict = {}
    for path in cases():
        if not path.name.startswith("control-"):
            have.setdefault(path.parent.name, set()).add(expected(path)["class"])
    for trial, need in REQUIRED.items():
        assert need <= have.get(trial, set()), f"{trial}: no case of {sorted(need - have.get(trial, set()))}"
        assert any(p.parent.name == trial for p in bases()), f"{trial}: no base"
