"""The engine features the re-audit of the bundled trials needed (issue 9), each as a user sees
it: the treatment hierarchy, attribute values with synonyms, ages in whole years.

The trial-level fixes themselves are golden cases in criteria/cases/<trial>/audit-*.yaml, run by
``trialscreen test criteria/`` (tests/test_authoring.py runs it too).
"""

from __future__ import annotations

import copy
from datetime import date

import pytest

from trialscreen.criteria.compile import compile_text
from trialscreen.errors import CriteriaError
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import patient_from_dict

AS_OF = date(2025, 6, 2)


def trial(rule: str) -> object:
    return compile_text("id: T-AUDIT\ntitle: audit\nsource: tests\nversion: '1'\n"
                        f"inclusion:\n  - id: I1\n    text: the rule\n    rule: {rule}\n", "t.yaml")


def one(rule: str, record: dict):
    rec = {"id": "P", "as_of": AS_OF.isoformat(), **copy.deepcopy(record)}
    return screen(trial(rule), patient_from_dict(rec, "p.json"), AS_OF).criteria[0]


def tx(*items, complete=True) -> dict:
    return {"treatments": list(items), **({"complete": ["treatments"]} if complete else {})}


# --- treatment types form a hierarchy ------------------------------------------------------

HIERARCHY = [
    # rule, the recorded treatment, status, words in the reason (the type's short name, or its name
    # in words: vocab/treatments.yaml) or the data to fetch
    ("{treatment: radiotherapy}", {"type": "SBRT", "date": "2025-01-01"}, "pass", "SBRT"),
    ("{treatment: radiotherapy}", {"type": "proton beam therapy", "date": "2025-01-01"}, "pass", "proton therapy"),
    ("{treatment: radiotherapy}", {"type": "TBI", "date": "2025-01-01"}, "pass", "total body irradiation"),
    ("{treatment: antineoplastic_therapy}", {"type": "SBRT", "date": "2025-01-01"}, "pass", "SBRT"),
    ("{treatment: antineoplastic_therapy}", {"type": "hormone therapy", "date": "2025-01-01"}, "pass",
     "hormone therapy"),
    ("{treatment: antineoplastic_therapy}", {"type": "allo-HSCT", "date": "2025-01-01"}, "pass", "allogeneic SCT"),
    ("{treatment: antineoplastic_therapy}", {"type": "CAR-T", "date": "2025-01-01"}, "pass", "CAR-T"),
    ("{treatment: immunotherapy}", {"type": "CAR-T", "date": "2025-01-01"}, "pass", "CAR-T"),
    # a parent does not establish a child: a bare broader type might be the one asked for
    ("{treatment: radiotherapy}", {"type": "antineoplastic therapy", "date": "2025-01-01"}, "unknown",
     "treatments[0].type (which kind: is 'antineoplastic_therapy' one of radiotherapy or a kind of it?)"),
    ("{treatment: asct}", {"type": "stem cell transplant", "date": "2025-01-01"}, "unknown",
     "treatments[0].type (which kind: is 'stem_cell_transplant' one of asct?)"),
    # and siblings rule each other out
    ("{treatment: radiotherapy}", {"type": "chemotherapy", "date": "2025-01-01"}, "fail", ""),
    ("{treatment: asct}", {"type": "allo_sct", "date": "2025-01-01"}, "fail", ""),
    ("{treatment: antineoplastic_therapy}", {"type": "surgery", "date": "2025-01-01"}, "fail", ""),
    ("{treatment: antineoplastic_therapy}", {"type": "supportive care", "date": "2025-01-01"}, "fail", ""),
]


@pytest.mark.parametrize("rule,item,status,words", HIERARCHY)
def test_a_treatment_type_matches_its_kinds(rule, item, status, words):
    got = one(rule, tx(item))
    assert got.status == status, got.reason
    if status == "unknown":
        assert words in got.missing, got.missing
    else:
        assert words in got.reason, got.reason


def test_the_explanation_names_the_type_the_rule_wrote():
    got = one("{treatment: antineoplastic_therapy, within: 4 weeks}",
              tx({"type": "SBRT", "start": "2025-05-10", "end": "2025-05-20"}))
    assert got.status == "pass"
    assert "antineoplastic therapy (any kind) within the last 4 weeks: yes (SBRT (2025-05-10 to 2025-05-20))" \
        in got.reason, got.reason


# --- attribute values with synonyms; an unknown spelling is unknown ------------------------

def dx(**attrs) -> dict:
    return {"diagnoses": [{"name": "multiple_myeloma", "date": "2024-01-01", **attrs}], "complete": ["diagnoses"]}


ATTRIBUTES = [
    # rule, the diagnosis's attributes, status, words in the reason or the data to fetch
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {"isotype": "IgG kappa"}, "pass", ""),
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {"isotype": "IgG-λ"}, "pass", ""),
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {"subtype": "IgGk"}, "pass", ""),
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {"isotype": "IgA lambda"}, "fail", ""),
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {"isotype": "kappa light chain"}, "fail", ""),
    ("{diagnosis: multiple_myeloma, with: {isotype: nonsecretory}}", {"isotype": "NSMM"}, "pass", ""),
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {"isotype": "paraprotein typing pending"},
     "unknown", "diagnoses[0].isotype ('paraprotein typing pending' is not a known isotype: is it IgG?)"),
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {}, "unknown", "diagnoses[0].isotype"),
    # the attribute itself wins over an alias
    ("{diagnosis: multiple_myeloma, with: {isotype: IgG}}", {"isotype": "IgA", "subtype": "IgG kappa"}, "fail", ""),
    ("{diagnosis: multiple_myeloma, with: {status: newly_diagnosed}}", {"status": "NDMM"}, "pass", ""),
    ("{diagnosis: multiple_myeloma, with: {status: newly_diagnosed}}", {"status": "RRMM"}, "fail", ""),
    ("{diagnosis: multiple_myeloma, with: {status: newly_diagnosed}}", {"status": "second opinion"},
     "unknown", "diagnoses[0].status ('second opinion' is not a known status"),
    ("{diagnosis: multiple_myeloma, with: {symptomatic: true}}", {"symptomatic": "yes"}, "pass", ""),
]


@pytest.mark.parametrize("rule,attrs,status,words", ATTRIBUTES)
def test_attribute_values_match_their_spellings(rule, attrs, status, words):
    got = one(rule, dx(**attrs))
    assert got.status == status, got.reason
    if status == "unknown":
        assert any(m.startswith(words) for m in got.missing), got.missing


@pytest.mark.parametrize("value", ["RIC", "NMA", "reduced-intensity conditioning", "non-myeloablative"])
def test_reduced_intensity_conditioning_spellings(value):
    record = tx({"type": "allo_sct", "date": "2024-01-01", "conditioning_intensity": value})
    assert one("{treatment: allo_sct, with: {conditioning_intensity: reduced_intensity}}", record).status == "pass"


def test_a_rule_may_name_only_a_known_attribute_value():
    with pytest.raises(CriteriaError) as err:
        trial("{diagnosis: multiple_myeloma, with: {isotype: IgX}}")
    assert "'IgX' is not a known isotype" in str(err.value)


# --- ages in whole years, from a birth date or a recorded age ---------------------------------

AGES = [
    # the rule, a recorded age, a birth date giving the same whole years, status
    ("{field: age, le: 80}", 80.4, "1945-01-10", "pass"),
    ("{field: age, le: 80}", 80.99, "1944-06-03", "pass"),
    ("{field: age, ge: 18}", 17.9, "2007-07-01", "fail"),
    ("{field: age, lt: 65}", 64.5, "1960-12-01", "pass"),
]


@pytest.mark.parametrize("rule,age,birth,status", AGES)
def test_a_recorded_fractional_age_and_a_birth_date_agree(rule, age, birth, status):
    by_age, by_birth = one(rule, {"age": age}), one(rule, {"birth_date": birth})
    assert (by_age.status, by_birth.status) == (status, status), (by_age.reason, by_birth.reason)
    assert f"{age:g} ({int(age)} whole years) as recorded" in by_age.reason


# --- review findings: each was a wrong "eligible" ------------------------------------------

@pytest.mark.parametrize("attrs", [{"paraprotein": "no"}, {"isotype": "n"}, {"isotype": False}, {"isotype": 7}])
def test_a_yes_no_or_number_for_a_closed_attribute_is_unknown(attrs):
    got = one("{diagnosis: multiple_myeloma, with: {isotype: [IgG, IgA]}}", dx(**attrs))
    assert got.status == "unknown", got.reason
    assert any("is not a known isotype" in m for m in got.missing), got.missing


def test_a_rule_naming_an_alias_reads_the_attribute():
    rule = "{diagnosis: multiple_myeloma, with: {subtype: IgM}}"
    assert one(rule, dx(subtype="IgM kappa")).status == "pass"
    assert one(rule, dx(isotype="IgM lambda")).status == "pass"


@pytest.mark.parametrize("value,status", [("RRMM", "pass"), ("relapsed", "pass"), ("NDMM", "fail"),
                                          ("de novo", "unknown")])
def test_a_value_covers_its_kinds(value, status):
    got = one("{diagnosis: multiple_myeloma, with: {status: relapsed}}", dx(status=value))
    assert got.status == status, got.reason


def test_non_myeloablative_is_reduced_intensity_but_not_the_reverse():
    nma = tx({"type": "allo_sct", "date": "2024-01-01", "conditioning_intensity": "NMA"})
    ric = tx({"type": "allo_sct", "date": "2024-01-01", "conditioning_intensity": "RIC"})
    assert one("{treatment: allo_sct, with: {conditioning_intensity: reduced_intensity}}", nma).status == "pass"
    assert one("{treatment: allo_sct, with: {conditioning_intensity: nonmyeloablative}}", ric).status == "fail"


def test_pregnant_and_not_of_childbearing_potential_is_a_contradiction_not_a_pass():
    record = {"sex": "female", "pregnant": True, "childbearing_potential": False}
    rule = "{all: [{field: sex, eq: female}, {field: childbearing_potential, eq: true}, {field: pregnant, eq: true}]}"
    got = one(rule, record)
    assert got.status == "unknown", got.reason
    assert "childbearing_potential" in got.missing


@pytest.mark.parametrize("fish,status", [
    ("nuc ish(TP53x2,D17Z1x2)[20/200]", "unknown"),   # normal in 20 nuclei: the other 180 are not said
    ("nuc ish(TP53x2,D17Z1x2)[200]", "fail"),         # normal in all 200 scored: ruled out
    ("nuc ish(TP53x2,D17Z1x2)[200/200]", "fail"),
    ("nuc ish(TP53x1,D17Z1x2)[45/200]", "pass"),      # abnormal in 45: the rest are normal
])
def test_a_normal_fish_pattern_in_part_of_the_nuclei_rules_nothing_out(fish, status):
    got = one("{cytogenetics: {any_of: [del(17p)]}}", {"cytogenetics": {"fish": fish}})
    assert got.status == status, got.reason


def test_a_later_item_that_might_be_the_anchor_puts_the_window_in_doubt():
    """'No progression within 3 months after ASCT': a later 'stem cell transplant' (a second
    ASCT?) may move the window; the progression it would contain is then not ruled out."""
    rule = "{not: {condition: progression, within: 3 months, after: asct}}"
    record = {"treatments": [{"type": "asct", "date": "2024-12-20"},
                             {"type": "stem cell transplant", "date": "2025-02-20"}],
              "complete": ["treatments"],
              "conditions": {"progression": {"present": True, "date": "2025-04-01", "end": "2025-04-20"}}}
    got = one(rule, record)
    assert got.status == "unknown", got.reason
    assert "treatments[1].type (is it a later asct?)" in got.missing
    record["treatments"][1]["type"] = "chemotherapy"        # not a transplant: the ASCT anchors
    assert one(rule, record).status == "pass"


@pytest.mark.parametrize("result,status", [("not detected", "unknown"), ("detected", "pass")])
def test_monosomy_13_implies_del_13q_but_its_absence_says_nothing_of_an_interstitial_deletion(result, status):
    got = one("{cytogenetics: {any_of: [del(13q)]}}", {"cytogenetics": {"-13": result}})
    assert got.status == status, got.reason
