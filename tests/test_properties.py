"""Property-based tests (hypothesis) of the screening semantics.

(a) Kleene laws over random rule trees compiled from criteria YAML, whose leaves are
    attestations (and one lab) made yes / no / missing by the patient record: the
    engine agrees with a reference three-valued evaluator, in both evaluation modes
    (with explanations, and the fast path batch uses), and De Morgan, double negation,
    commutativity, ``false and x == false`` and ``true or x == true`` hold.
(b) Monotonicity: for NCT05378971, making one I5 lab worse (higher creatinine,
    bilirubin, ALT, AST; lower ANC, platelets) never improves I5 or the verdict.
(c) Unit round trips: one creatinine, bilirubin, platelet or ANC value written in any
    accepted spelling or unit gives the same status for every criterion of every
    bundled trial.
(d) Removing data never makes a criterion pass or fail that was not already so: each
    status stays or becomes unknown, so the verdict never becomes eligible unless it
    was eligible and the removed data were unused.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from functools import lru_cache

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from conftest import ELIGIBLE, EXAMPLES, ROOT
from trialscreen.criteria.compile import compile_text
from trialscreen.criteria.library import bundled_trials, load_trial
from trialscreen.evaluate.screen import screen
from trialscreen.ir import Absolute, LabResult, LabTest
from trialscreen.patient.load import patient_from_dict
from trialscreen.units import convert

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AS_OF = date(2025, 6, 2)
HEAD = 'id: NCT00000001\ntitle: Kleene laws\nsource: tests/test_properties.py\nversion: "1"\n'
STATUS_OF = {True: "pass", False: "fail", None: "unknown"}   # inclusion criteria
VERDICT_RANK = {"ineligible": 0, "needs_review": 1, "eligible": 2}
STATUS_RANK = {"fail": 0, "unknown": 1, "pass": 2}


def base_record() -> dict:
    return json.loads(ELIGIBLE.read_text(encoding="utf-8"))


def statuses(trial, record, as_of=AS_OF, explain=True) -> dict:
    result = screen(trial, patient_from_dict(copy.deepcopy(record), "property.json"), as_of, explain=explain)
    return {c.id: c.status for c in result.criteria}


def verdict(trial, record, as_of=AS_OF) -> str:
    return screen(trial, patient_from_dict(copy.deepcopy(record), "property.json"), as_of).verdict


@lru_cache(maxsize=None)
def trials() -> tuple:
    return tuple(load_trial(str(p)) for p in bundled_trials())


# --- (a) Kleene laws -----------------------------------------------------------------------------

ATTESTATIONS = ("a0", "a1", "a2", "a3")
LAB_LEAF = {"lab": "creatinine", "lt": "177 umol/L"}
# yes / no / missing for each attestation, and the creatinine that makes the lab leaf so.
TRI = st.sampled_from([True, False, None])
CREATININE = {True: "88 umol/L", False: "250 umol/L", None: None}

leaves = st.one_of(
    st.builds(lambda name, expected: {"attestation": name, "is": expected},
              st.sampled_from(ATTESTATIONS), st.booleans()),
    st.just(LAB_LEAF),
)
trees = st.recursive(
    leaves,
    lambda sub: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(sub, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(sub, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, sub),
    ),
    max_leaves=8,
)
assignments = st.fixed_dictionaries({**{name: TRI for name in ATTESTATIONS}, "creatinine": TRI})


def reference(tree: dict, world: dict):
    """A three-valued evaluator written from the README, independent of the engine."""
    if "attestation" in tree:
        value = world[tree["attestation"]]
        return None if value is None else value == tree["is"]
    if "lab" in tree:
        return world["creatinine"]
    if "not" in tree:
        value = reference(tree["not"], world)
        return None if value is None else not value
    values = [reference(x, world) for x in tree.get("all", tree.get("any", []))]
    if "all" in tree:
        return False if False in values else (None if None in values else True)
    return True if True in values else (None if None in values else False)


def record_for(world: dict) -> dict:
    record = {"id": "KLEENE", "as_of": AS_OF.isoformat(), "lab_date": AS_OF.isoformat(),
              "attestations": {n: world[n] for n in ATTESTATIONS if world[n] is not None}}
    if CREATININE[world["creatinine"]] is not None:
        record["labs"] = {"creatinine": CREATININE[world["creatinine"]]}
    return record


def compile_rules(*rules: dict):
    """One inclusion criterion per rule (I1, I2, ...); YAML flow style is JSON."""
    items = "".join(f"  - id: I{i}\n    text: Rule {i}.\n    rule: {json.dumps(rule)}\n"
                    for i, rule in enumerate(rules, start=1))
    return compile_text(HEAD + "inclusion:\n" + items, "<kleene>")


def evaluate(rules, world) -> list:
    """Statuses of the rules, checked to agree between the explaining and the fast path."""
    trial = compile_rules(*rules)
    record = record_for(world)
    slow = statuses(trial, record, explain=True)
    fast = statuses(trial, record, explain=False)
    assert slow == fast, "explain=True and explain=False disagree"
    return [slow[f"I{i}"] for i in range(1, len(rules) + 1)]


@SETTINGS
@given(trees, assignments)
def test_engine_matches_the_reference_kleene_evaluator(tree, world):
    [status] = evaluate([tree], world)
    assert status == STATUS_OF[reference(tree, world)]


@SETTINGS
@given(trees, trees, assignments)
def test_de_morgan(x, y, world):
    a, b, c, d = evaluate([{"not": {"all": [x, y]}}, {"any": [{"not": x}, {"not": y}]},
                           {"not": {"any": [x, y]}}, {"all": [{"not": x}, {"not": y}]}], world)
    assert a == b
    assert c == d


@SETTINGS
@given(trees, assignments)
def test_double_negation(x, world):
    a, b = evaluate([{"not": {"not": x}}, x], world)
    assert a == b


@SETTINGS
@given(trees, trees, trees, assignments)
def test_commutativity_and_associativity(x, y, z, world):
    a, b, c, d, e, f = evaluate([{"all": [x, y]}, {"all": [y, x]}, {"any": [x, y]}, {"any": [y, x]},
                                 {"all": [x, {"all": [y, z]}]}, {"all": [{"all": [x, y]}, z]}], world)
    assert a == b
    assert c == d
    assert e == f


@SETTINGS
@given(trees, assignments, st.sampled_from(ATTESTATIONS))
def test_false_and_x_is_false_true_or_x_is_true(x, world, pinned):
    """Pin one attestation to 'no' (then {attestation: it} is false, {..., is: false} is true)."""
    world = dict(world, **{pinned: False})
    false = {"attestation": pinned, "is": True}
    true = {"attestation": pinned, "is": False}
    a, b, c, d = evaluate([{"all": [false, x]}, {"all": [x, false]}, {"any": [true, x]}, {"any": [x, true]}],
                          world)
    assert (a, b) == ("fail", "fail")
    assert (c, d) == ("pass", "pass")


@SETTINGS
@given(trees, assignments)
def test_unknown_never_decides(x, world):
    """Kleene: if a formula is decided with some datum missing, filling that datum in
    any way cannot change the decision (the engine is monotone in information)."""
    [partial] = evaluate([x], world)
    assume(partial != "unknown")
    for name, value in world.items():
        if value is None:
            for filled in (True, False):
                [full] = evaluate([x], dict(world, **{name: filled}))
                assert full == partial, f"{name}={filled} changed a decided result"


# --- (b) monotonicity: a worse I5 lab never helps ------------------------------------------------

# lab -> (higher is worse?, unit used, a range of plausible values)
I5_LABS = {
    "creatinine": (True, "umol/L", (20.0, 400.0)),
    "bilirubin": (True, "umol/L", (2.0, 80.0)),
    "alt": (True, "U/L", (5.0, 300.0)),
    "ast": (True, "U/L", (5.0, 300.0)),
    "anc": (False, "x10^9/L", (0.1, 8.0)),
    "platelets": (False, "x10^9/L", (5.0, 450.0)),
}


def lab_value(lab: str, value: float | None, censor: str = "") -> dict | None:
    if value is None:
        return None
    entry = {"value": f"{censor}{value!r}" if censor else value, "unit": I5_LABS[lab][1], "date": "2025-05-28"}
    if lab in ("alt", "ast"):
        entry["uln"] = 40
    return entry


def i5_record(values: dict) -> dict:
    record = base_record()
    for lab, value in values.items():
        entry = lab_value(lab, value)
        if entry is None:
            record["labs"].pop(lab, None)
        else:
            record["labs"][lab] = entry
    return record


start_values = st.fixed_dictionaries({
    lab: st.one_of(st.none(), st.floats(lo, hi, allow_nan=False)) if lab != "creatinine"
    else st.floats(lo, hi, allow_nan=False)   # keep one lab always present
    for lab, (_, _, (lo, hi)) in I5_LABS.items()
})


@SETTINGS
@given(start_values, st.sampled_from(sorted(I5_LABS)), st.floats(1.0, 10.0), st.booleans())
@example({"creatinine": 176.0, "bilirubin": 12.0, "alt": 32.0, "ast": 28.0, "anc": 2.1, "platelets": 180.0},
         "creatinine", 177.0 / 176.0, False)   # crosses the threshold onto it: 177 is not < 177
@example({"creatinine": 88.0, "bilirubin": 12.0, "alt": 32.0, "ast": 28.0, "anc": 2.1, "platelets": 75.1},
         "platelets", 75.1 / 75.0, False)      # 75 is not > 75
def test_a_worse_i5_lab_never_helps(nct05378971, start, lab, factor, as_bound):
    higher_is_worse = I5_LABS[lab][0]
    before_value = start[lab]
    if before_value is None:
        before_value = sum(I5_LABS[lab][2]) / 2
        start = dict(start, **{lab: before_value})
    worse = before_value * factor if higher_is_worse else before_value / factor
    before = i5_record(start)
    after = i5_record(start)
    if as_bound:  # a censored result on the worse side of the old value: ">= v" or "<= v"
        after["labs"][lab] = lab_value(lab, worse, ">=" if higher_is_worse else "<=")
    else:
        after["labs"][lab] = lab_value(lab, worse)
    note(f"{lab}: {before['labs'][lab]} -> {after['labs'][lab]}")
    s_before = statuses(nct05378971, before)
    s_after = statuses(nct05378971, after)
    assert STATUS_RANK[s_after["I5"]] <= STATUS_RANK[s_before["I5"]], "a worse lab improved I5"
    assert {k: v for k, v in s_after.items() if k != "I5"} == {k: v for k, v in s_before.items() if k != "I5"}
    v_before, v_after = verdict(nct05378971, before), verdict(nct05378971, after)
    assert VERDICT_RANK[v_after] <= VERDICT_RANK[v_before], f"{v_before} -> {v_after}"
    if v_before in ("ineligible", "needs_review"):
        assert v_after != "eligible"


# --- (c) unit round trips -------------------------------------------------------------------------

MOLAR_MASS = {"creatinine": 113.12, "bilirubin": 584.66}   # g/mol, as in vocab/analytes.yaml


def chemistry_spellings(analyte: str):
    """(unit, multiplier from umol/L) for creatinine and bilirubin."""
    mm = MOLAR_MASS[analyte]
    return [("umol/L", 1.0), ("µmol/L", 1.0), ("μmol/L", 1.0), ("umol/l", 1.0), ("mmol/L", 1e-3),
            ("nmol/mL", 1.0), ("mg/dL", mm / 1e4), ("mg/L", mm / 1e3), ("ug/mL", mm / 1e3),
            ("mcg/dL", mm / 10)]


COUNT_SPELLINGS = [  # (unit, multiplier from 10^9/L)
    ("x10^9/L", 1.0), ("10^9/L", 1.0), ("10*9/L", 1.0), ("10E9/L", 1.0), ("10**9/L", 1.0),
    ("×10⁹/L", 1.0), ("x 10^9 /L", 1.0), ("G/L", 1.0), ("K/uL", 1.0), ("K/µL", 1.0),
    ("10E3/uL", 1.0), ("10^3/uL", 1.0), ("x10^3/mm3", 1.0), ("/mm3", 1e3), ("cells/uL", 1e3),
    ("cells/mm3", 1e3), ("/uL", 1e3), ("10^6/L", 1e3),
]


def spellings(analyte: str):
    return COUNT_SPELLINGS if analyte in ("platelets", "anc") else chemistry_spellings(analyte)


@lru_cache(maxsize=None)
def thresholds(analyte: str) -> tuple:
    """Every absolute threshold of the bundled trials on this analyte, in its first unit."""
    out = []
    for trial in trials():
        for c in trial.criteria:
            for rule in (c.rule, c.applies_if):
                stack = [rule] if rule is not None else []
                while stack:
                    node = stack.pop()
                    stack.extend(node.children())
                    if isinstance(node, LabTest) and node.analyte.name == analyte:
                        for _, thr in node.alternatives:
                            if isinstance(thr, Absolute):
                                unit = node.analyte.units[0]
                                out.append(thr.value * convert.factor(thr.unit, unit, node.analyte))
    return tuple(out)


@lru_cache(maxsize=None)
def trials_using(analyte: str) -> tuple:
    """The bundled trials with a rule on this analyte (the others cannot depend on it)."""
    out = []
    for trial in trials():
        nodes = [r for c in trial.criteria for r in (c.rule, c.applies_if) if r is not None]
        while nodes:
            node = nodes.pop()
            nodes.extend(node.children())
            if isinstance(node, (LabTest, LabResult)) and node.analyte.name == analyte:
                out.append(trial)
                break
    return tuple(out)


def far_from_thresholds(analyte: str, value: float) -> bool:
    return all(abs(value - t) > 1e-6 * max(abs(value), abs(t)) for t in thresholds(analyte))


@pytest.mark.parametrize("analyte", ["creatinine", "bilirubin", "platelets", "anc"])
def test_every_listed_spelling_is_accepted(analyte):
    from trialscreen import vocab
    from trialscreen.patient.labs import lab_unit
    from trialscreen.patient.reader import Reader

    a = vocab.analytes().get(analyte)
    for unit, _ in spellings(analyte):
        lab_unit(Reader("<spelling>", None), a, unit, ("labs", analyte))  # raises if refused


@SETTINGS
@given(st.sampled_from(["creatinine", "bilirubin", "platelets", "anc"]), st.data())
def test_the_same_value_in_any_unit_screens_identically(analyte, data):
    anywhere = (st.floats(0.05, 2000.0, allow_nan=False) if analyte in ("creatinine", "bilirubin")
                else st.floats(0.01, 900.0, allow_nan=False))
    # Half of the values sit just beside a threshold (1e-5 to 2 % away), where a wrong
    # conversion factor changes a status.
    near = st.builds(lambda t, sign, exponent: t * (1 + sign * 10 ** exponent), st.sampled_from(thresholds(analyte)),
                     st.sampled_from([-1, 1]), st.floats(-5, -1.7))
    value = data.draw(st.one_of(anywhere, near), label="value in the first unit")
    assume(far_from_thresholds(analyte, value))
    forms = spellings(analyte)  # every spelling, each time: a wrong factor for one shows at once
    as_text = data.draw(st.booleans(), label="as 'value unit' text")
    results = []
    for unit, multiplier in forms:
        number = value * multiplier
        record = base_record()
        entry = f"{number!r} {unit}" if as_text else {"value": number, "unit": unit}
        if isinstance(entry, dict):
            entry["date"] = "2025-05-28"
        record["labs"][analyte] = entry
        results.append((unit, {t.id: statuses(t, record) for t in trials_using(analyte)}))
    first_unit, first = results[0]
    for unit, other in results[1:]:
        assert other == first, f"{value} in {first_unit} and in {unit} screen differently"


# --- (d) removing data ---------------------------------------------------------------------------

def golden_cases():
    """(name, trial id, as-of date, record) for each golden case and example patient."""
    out = []
    for path in sorted((ROOT / "criteria" / "cases").glob("*/*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        record = json.loads(json.dumps(case["patient"], default=str))
        as_of = case.get("as_of") or record.get("as_of")
        out.append((f"{path.parent.name}/{path.stem}", path.parent.name,
                    date.fromisoformat(str(as_of)) if as_of else AS_OF, record))
    for path in sorted(EXAMPLES.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.stem, "NCT05378971", date.fromisoformat(record["as_of"]), record))
    # Two records built to probe the rules most likely to mistake a gap for an answer.
    surgery = base_record()
    surgery["treatments"].append({"type": "surgery", "date": "2025-05-20", "major": True})
    out.append(("recent-major-surgery", "NCT05378971", AS_OF, surgery))
    neuro = base_record()
    neuro["conditions"]["peripheral_neuropathy"] = {"present": True, "grade": 1}
    neuro["conditions"]["sensory_neuropathy"] = {"present": True, "grade": 3}
    out.append(("two-spellings-of-neuropathy", "NCT05378971", AS_OF, neuro))
    return out


LIST_SECTIONS = ("diagnoses", "treatments", "neoplasms", "allergies")
KEEP_IN_EVENTS = {"name", "type", "end"}   # a name is the item; no 'end' means ongoing
KEEP_IN_LABS = {"value", "unit", "result"}


def removable(record: dict) -> list[tuple]:
    """Paths of the data a record holds, each removable on its own."""
    paths = []
    for key, value in record.items():
        if key in ("id", "$schema", "notes"):
            continue
        paths.append((key,))
        if isinstance(value, dict):
            for sub, inner in value.items():
                if not (key == "conditions" and _shared_condition(value, sub)):
                    paths.append((key, sub))
                if isinstance(inner, dict):
                    keep = KEEP_IN_LABS if key == "labs" else {"result", "end"}
                    paths.extend((key, sub, k) for k in inner if k not in keep)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                paths.append((key, i))
                if isinstance(item, dict):
                    paths.extend((key, i, k) for k in item if k not in KEEP_IN_EVENTS)
    return paths


def _shared_condition(conditions: dict, name: str) -> bool:
    """Two spellings of one condition (peripheral and sensory neuropathy): the README reads
    them as one condition at the worse grade, so the spelling that remains speaks for the
    condition as a whole; dropping a whole spelling is not merely removing data. (Dropping
    a grade is, and stays in.)"""
    from trialscreen import vocab

    canonical = vocab.conditions().canonical(name)
    return sum(1 for other in conditions if vocab.conditions().canonical(other) == canonical) > 1


def without(record: dict, paths) -> dict:
    out = copy.deepcopy(record)
    dropped_sections = set()
    for path in paths:  # list items are marked, then dropped, so that indexes stay valid
        node = out
        for part in path[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if node is None:
            continue
        last = path[-1]
        if isinstance(node, dict):
            node.pop(last, None)
        elif isinstance(node, list) and isinstance(last, int) and last < len(node):
            node[last] = _REMOVED
        if path[0] in LIST_SECTIONS and (len(path) == 1 or (len(path) == 2 and isinstance(path[1], int))):
            dropped_sections.add(path[0])
    for key, value in list(out.items()):
        if isinstance(value, list):
            out[key] = [x for x in value if x is not _REMOVED]
    # A list section that lost an item is no longer complete: "complete" would assert the gap.
    if dropped_sections and isinstance(out.get("complete"), list):
        out["complete"] = [s for s in out["complete"] if s not in dropped_sections]
    return out


_REMOVED = object()
CASES = [c for c in golden_cases() if removable(c[3])]


@lru_cache(maxsize=None)
def before_statuses(index: int, trial_id: str) -> dict:
    name, _, as_of, record = CASES[index]
    return statuses(load_trial(trial_id), record, as_of)


def test_removal_harness_sees_every_kind_of_datum():
    paths = removable(CASES[[c[0] for c in CASES].index("NCT05378971-eligible")][3])
    assert ("labs", "creatinine") in paths and ("labs", "alt", "uln") in paths
    assert ("treatments", 1) in paths and ("treatments", 0, "start") in paths
    assert ("conditions", "peripheral_neuropathy", "grade") in paths and ("complete", 0) in paths
    assert ("attestations", "informed_consent_signed") in paths


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_removing_data_never_decides_anything_new(data):
    index = data.draw(st.integers(0, len(CASES) - 1), label="case")
    name, own_trial, as_of, record = CASES[index]
    paths = removable(record)
    chosen = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=6, unique=True), label="removed")
    trial_id = data.draw(st.sampled_from([own_trial] + [t.id for t in trials() if t.id != own_trial]),
                         label="trial")
    note(f"case {name}, trial {trial_id}, removed {chosen}")
    before = before_statuses(index, trial_id)
    after = statuses(load_trial(trial_id), without(record, chosen), as_of)
    changed = {cid: (before[cid], after[cid]) for cid in before if after[cid] not in (before[cid], "unknown")}
    assert not changed, f"removing {chosen} from {name} decided {changed} against {trial_id}"
    v_before = screen(load_trial(trial_id), patient_from_dict(copy.deepcopy(record), "x"), as_of).verdict
    v_after = screen(load_trial(trial_id), patient_from_dict(without(record, chosen), "x"), as_of).verdict
    if v_after == "eligible":
        assert v_before == "eligible" and after == before


def test_removing_any_single_datum_never_decides_anything_new():
    """The exhaustive version of the property above for one datum at a time, every case, every trial."""
    problems = []
    for index, (name, _, as_of, record) in enumerate(CASES):
        for path in removable(record):
            reduced = without(record, [path])
            for trial in trials():
                before = before_statuses(index, trial.id)
                after = statuses(trial, reduced, as_of)
                changed = {cid: f"{before[cid]} -> {after[cid]}" for cid in before
                           if after[cid] not in (before[cid], "unknown")}
                if changed:
                    problems.append(f"{name} without {'.'.join(map(str, path))}, {trial.id}: {changed}")
    assert not problems, f"{len(problems)} removals decided something:\n" + "\n".join(problems[:40])


def test_an_unknown_neuropathy_grade_is_not_grade_0():
    """Regression (found by the removal property): two spellings of one condition, one with
    grade 1, the other present with its grade not recorded. E5 excludes grade >= 3; the
    unrecorded grade may be 3, so E5 is unknown, not pass."""
    record = base_record()
    record["conditions"]["peripheral_neuropathy"] = {"present": True, "grade": 1}
    record["conditions"]["sensory_neuropathy"] = {"present": True}
    assert statuses(load_trial("NCT05378971"), record)["E5"] == "unknown"


def test_a_second_spelling_with_grade_3_is_not_hidden_by_removal():
    """Regression: removing the grade-1 spelling's sibling must leave E5 unknown or fail.
    With sensory grade 3 and motor grade 1 the patient is excluded; the record that only
    says 'motor neuropathy grade 1' says nothing of sensory neuropathy."""
    record = base_record()
    record["conditions"].pop("peripheral_neuropathy")
    record["conditions"]["motor_neuropathy"] = {"present": True, "grade": 1}
    record["conditions"]["sensory_neuropathy"] = {"present": True, "grade": 3, "active": True}
    trial = load_trial("NCT05378971")
    assert statuses(trial, record)["E5"] == "fail"
    record["conditions"]["sensory_neuropathy"].pop("grade")
    assert statuses(trial, record)["E5"] in ("unknown", "fail")
