"""Cytogenetics as real lab reports write it (issue 9): spellings, ISCN 'nuc ish' strings,
and what a coordinator sees for NCT05378971 exclusion E1.

E1's rule: cytogenetics any_of [17p-, 1q21 amplification, t(4;14), t(14;16), t(14;20),
t(11;14), p53 mutation]. How E1 treats a 1q21 gain (3 copies) is being changed elsewhere, so
the end-to-end cases here decide E1 through del(17p), amp(1q) and the translocations, and rule
1q out with a normal CKS1B count (1q+ not detected) where they need E1 to pass.

Spellings and their sources: src/trialscreen/vocab/cytogenetics.yaml. Reader: vocab/iscn.py.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from trialscreen import vocab
from trialscreen.criteria.compile import compile_text
from trialscreen.criteria.library import load_trial
from trialscreen.errors import PatientError
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import patient_from_dict
from trialscreen.vocab import iscn

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patients" / "NCT05378971-eligible.json"
AS_OF = date(2025, 6, 2)


# --- 1. spellings -> canonical finding ----------------------------------------------------------

SPELLINGS = [
    # monosomy 17, its own finding (implies del(17p))
    ("-17", "monosomy 17"),
    ("\u221217", "monosomy 17"),          # Unicode minus
    ("\u201317", "monosomy 17"),          # en dash
    ("monosomy 17", "monosomy 17"),
    # derivative notation -> the translocation
    ("der(14)t(4;14)", "t(4;14)"),
    ("der(4)t(4;14)(p16;q32)", "t(4;14)"),
    ("der(14)t(11;14)(q13;q32)", "t(11;14)"),
    ("+der(14)t(11;14)", "t(11;14)"),
    ("der(14)t(14;16)", "t(14;16)"),
    ("der(14)t(14;20)(q32;q12)", "t(14;20)"),
    # fusions, partner first or IGH first, '::', '/', '-', with or without 'fusion'
    ("FGFR3::IGH", "t(4;14)"),
    ("NSD2::IGH", "t(4;14)"),
    ("IGH::NSD2", "t(4;14)"),
    ("MMSET::IGH", "t(4;14)"),
    ("FGFR3/IGH fusion", "t(4;14)"),
    ("FGFR3-IGH", "t(4;14)"),
    ("IGH-FGFR3 fusion", "t(4;14)"),
    ("MAF::IGH", "t(14;16)"),
    ("MAF/IGH fusion", "t(14;16)"),
    ("IGH::MAF", "t(14;16)"),
    ("MAFB::IGH", "t(14;20)"),
    ("MAFB-IGH fusion", "t(14;20)"),
    ("CCND1::IGH", "t(11;14)"),
    ("IGH::CCND1", "t(11;14)"),
    ("IGH-CCND1 fusion", "t(11;14)"),
    ("CCND3::IGH", "t(6;14)"),
    # 1q: word forms and copy numbers
    ("gain 1q21", "gain(1q)"),
    ("1q21.3 gain", "gain(1q)"),
    ("1q21 gain", "gain(1q)"),
    ("gain of 1q21", "gain(1q)"),
    ("CKS1B x3", "gain(1q)"),
    ("CKS1Bx3", "gain(1q)"),
    ("CKS1B \u00d73", "gain(1q)"),        # multiplication sign
    ("CKS1B 3 copies", "gain(1q)"),
    ("3 copies of 1q21", "gain(1q)"),
    ("1q21 x3", "gain(1q)"),
    ("CKS1B x4", "amp(1q)"),
    ("CKS1B x5", "amp(1q)"),
    ("CKS1B 4 copies", "amp(1q)"),
    ("4 copies of 1q21", "amp(1q)"),
    ("\u22654 copies of 1q21", "amp(1q)"),
    (">=4 copies of CKS1B", "amp(1q)"),
    ("1q21.3 amplification", "amp(1q)"),
    ("1q21 amplification", "amp(1q)"),
    ("\u22653 copies of 1q21", "1q+"),     # gain or amplification
    ("1q+", "1q+"),
    # 17p
    ("17p loss", "del(17p)"),
    ("loss of 17p", "del(17p)"),
    ("TP53 del", "del(17p)"),
    ("TP53 deleted", "del(17p)"),
    ("del(TP53)", "del(17p)"),
    ("TP53 deletion", "del(17p)"),
    ("17p-", "del(17p)"),
    ("TP53 mutation", "TP53 mutation"),   # not a deletion
    # IGH, partner unknown
    ("IGH break apart", "IGH rearrangement"),
    ("IGH break-apart", "IGH rearrangement"),
    ("IGH rearranged", "IGH rearrangement"),
    ("IGH split signal", "IGH rearrangement"),
    ("IgH split signal", "IGH rearrangement"),
    # unchanged spellings the new normalisation must keep
    ("FAF1/CDKN2C loss", "del(1p)"),
    ("1q gain/amplification", "1q+"),
    ("17p/TP53 deletion", "del(17p)"),
    ("IGH-r", "IGH rearrangement"),
    ("-13", "monosomy 13"),
    ("t(4;14)(p16.3;q32.3)", "t(4;14)"),
]


@pytest.mark.parametrize("spelling,canonical", SPELLINGS, ids=[s for s, _ in SPELLINGS])
def test_spelling_names_its_finding(spelling, canonical):
    assert vocab.findings().canonical(spelling) == canonical


NOT_FINDINGS = [
    "CKS1B x2",            # two copies: no gain, and not 'not detected' either
    "CKS1B x1",
    "2 copies of 1q21",
    "der(9)t(4;14)",       # a derivative of neither chromosome of the translocation
    "CKS1B x" + "9" * 5000,
]


@pytest.mark.parametrize("spelling", NOT_FINDINGS, ids=[s[:20] for s in NOT_FINDINGS])
def test_spelling_that_is_no_finding_stays_unrecognised(spelling):
    assert vocab.findings().canonical(spelling) is None


def test_minus_17_no_longer_suggests_del_13q():
    p = patient_from_dict({"id": "X", "cytogenetics": {"-17": "detected"}}, "p")
    assert not p.warnings and not p.unrecognised
    assert p.cytogenetics["monosomy 17"].detected is True


def test_monosomy_17_implies_del_17p_and_is_no_synonym_of_it():
    findings = vocab.findings()
    assert findings.parents["monosomy 17"] == ("del(17p)",)
    assert findings.canonical("monosomy 17") != findings.canonical("del(17p)")
    detected = patient_from_dict({"id": "X", "cytogenetics": {"\u221217": "detected"}}, "p").cytogenetics
    assert detected["del(17p)"].detected is True
    # -17 not detected does not rule out a 17p deletion
    absent = patient_from_dict({"id": "X", "cytogenetics": {"-17": "not detected"}}, "p").cytogenetics
    assert "del(17p)" not in absent
    # no 17p deletion rules out monosomy 17
    ruled_out = patient_from_dict({"id": "X", "cytogenetics": {"17p loss": "not detected"}}, "p").cytogenetics
    assert ruled_out["monosomy 17"].detected is False


def test_monosomy_17_with_17p_not_detected_is_a_contradiction():
    with pytest.raises(PatientError, match="monosomy 17 is detected but del\\(17p\\)"):
        patient_from_dict({"id": "X", "cytogenetics": {"-17": "detected", "del(17p)": "not detected"}}, "p")


def test_copy_number_finding_names_decide_gain_or_amplification():
    gain = patient_from_dict({"id": "X", "cytogenetics": {"CKS1B x3": "detected"}}, "p").cytogenetics
    assert gain["gain(1q)"].detected is True and gain["1q+"].detected is True and "amp(1q)" not in gain
    amp = patient_from_dict({"id": "X", "cytogenetics": {"4 copies of 1q21": {"result": "detected",
                                                                              "percent": 40}}}, "p").cytogenetics
    assert amp["amp(1q)"].detected is True and amp["amp(1q)"].percent == 40 and "gain(1q)" not in amp


IGH_CHILDREN = ["t(4;14)", "t(11;14)", "t(14;16)", "t(14;20)", "t(6;14)"]


def test_igh_break_apart_detected_leaves_each_translocation_unknown():
    p = patient_from_dict({"id": "X", "cytogenetics": {"IGH break apart": "detected"}}, "p")
    assert p.cytogenetics["IGH rearrangement"].detected is True
    for child in IGH_CHILDREN:
        assert child not in p.cytogenetics, child     # neither detected nor not detected


@pytest.mark.parametrize("word", ["normal", "not detected", "negative"])
def test_igh_break_apart_normal_rules_out_every_translocation(word):
    p = patient_from_dict({"id": "X", "cytogenetics": {"IGH break apart": word}}, "p")
    for child in IGH_CHILDREN:
        assert p.cytogenetics[child].detected is False, child


def test_a_detected_parent_never_decides_a_child():
    p = patient_from_dict({"id": "X", "cytogenetics": {"1q+": "detected", "del(17p)": "detected",
                                                       "del(1p)": "detected"}}, "p")
    for child in ("gain(1q)", "amp(1q)", "monosomy 17", "biallelic del(1p32)"):
        assert child not in p.cytogenetics, child


# --- 2. ISCN nuc ish strings -> findings ------------------------------------------------------

T, F = True, False
ISCN = [
    # string, findings {name: detected}, percent of the nuclei [n/total], unusable, unrecognised
    ("nuc ish(TP53x1,D17Z1x2)[45/200]", {"del(17p)": T, "monosomy 17": F}, 22.5, [], []),
    ("nuc ish(TP53x1)[120/200]", {"del(17p)": T}, 60.0, [], []),
    ("nuc ish(TP53x0,D17Z1x2)[50/100]", {"del(17p)": T, "monosomy 17": F}, 50.0, [], []),
    ("nuc ish(TP53x1,D17Z1x1)[90/200]", {"del(17p)": T, "monosomy 17": T}, 45.0, [], []),
    ("nuc ish 17p13.1(TP53x1),17cen(D17Z1x2)[45/200]", {"del(17p)": T, "monosomy 17": F}, 22.5, [], []),
    ("nuc ish(TP53 x1, CEP17 x2) [45/200]", {"del(17p)": T, "monosomy 17": F}, 22.5, [], []),
    ("nuc ish(TP53x2,D17Z1x2)[200]", {"del(17p)": F, "monosomy 17": F}, None, [], []),
    ("nuc ish(TP53,D17Z1)x2[200]", {"del(17p)": F, "monosomy 17": F}, None, [], []),
    ("nuc ish(TP53x2)[200]", {"del(17p)": F}, None, [], []),
    ("nuc ish(TP53x2,D17Z1x3)[50/200]", {}, 25.0, ["del(17p)"], ["nuc ish D17Z1 (chromosome 17 centromere) count"]),
    ("nuc ish(CKS1Bx4,CDKN2Cx2)[80/200]", {"amp(1q)": T, "1q+": T, "del(1p)": F}, 40.0, [], []),
    ("nuc ish(CKS1Bx3,CDKN2Cx2)[60/200]", {"gain(1q)": T, "1q+": T, "del(1p)": F}, 30.0, [], []),
    ("nuc ish(CKS1Bx6)[40/200]", {"amp(1q)": T, "1q+": T}, 20.0, [], []),
    ("nuc ish(CKS1Bx2,CDKN2Cx1)[70/200]", {"1q+": F, "del(1p)": T, "biallelic del(1p32)": F}, 35.0, [], []),
    ("nuc ish(CKS1Bx2,CDKN2Cx0)[40/200]", {"1q+": F, "del(1p)": T, "biallelic del(1p32)": T}, 20.0, [], []),
    ("nuc ish(CDKN2C,CKS1B)x2[200]", {"1q+": F, "del(1p)": F}, None, [], []),
    ("nuc ish(IGHx3)(5'IGH sep 3'IGHx1)[30/200]", {"IGH rearrangement": T}, 15.0, [], []),
    ("nuc ish(IGHx2)(5'IGH sep 3'IGHx1)[30/200]", {"IGH rearrangement": T}, 15.0, [], []),
    ("nuc ish(5'IGH,3'IGH)x2(5'IGH con 3'IGHx2)[200]", {"IGH rearrangement": F}, None, [], []),
    ("nuc ish(FGFR3,IGH)x3(FGFR3 con IGHx2)[60/200]", {"t(4;14)": T, "IGH rearrangement": T}, 30.0, [], []),
    ("nuc ish(NSD2,IGH)x3(NSD2 con IGHx2)[25/100]", {"t(4;14)": T, "IGH rearrangement": T}, 25.0, [], []),
    ("nuc ish(CCND1,IGH)x3(CCND1 con IGHx2)", {"t(11;14)": T, "IGH rearrangement": T}, None, [], []),
    ("nuc ish(MAF,IGH)x3(MAF con IGHx2)[50/200]", {"t(14;16)": T, "IGH rearrangement": T}, 25.0, [], []),
    ("nuc ish(MAFB,IGH)x3(MAFB con IGHx2)[50/200]", {"t(14;20)": T, "IGH rearrangement": T}, 25.0, [], []),
    ("nuc ish(CCND3,IGH)x3(CCND3 con IGHx2)[50/200]", {"t(6;14)": T, "IGH rearrangement": T}, 25.0, [], []),
    ("nuc ish(CCND1,IGH)x2[200]", {"t(11;14)": F}, None, [], []),
    ("nuc ish(FGFR3x2,IGHx3)[40/200]", {}, 20.0, ["t(4;14)"], []),
    ("nuc ish(IGHx2)[200]", {}, None, ["IGH rearrangement"], []),
    ("nuc ish(FGFR3x2)[200]", {}, None, ["t(4;14)"], []),
    ("nuc ish(D13S319x1,LAMP1x2)[90/200]", {"del(13q)": T}, 45.0, [], []),
    ("nuc ish(D13S319,LAMP1)x2[200]", {"del(13q)": F}, None, [], []),
    # probes the reader does not know: abnormal -> unrecognised; normal -> ignored
    ("nuc ish(D5S630x3,D9Z1x3,D15Z4x3)[100/200]", {}, 50.0, [],
     ["nuc ish probe D5S630", "nuc ish probe D9Z1", "nuc ish probe D15Z4"]),
    ("nuc ish(TP53x1,D17Z1x2,XYZ1x3)[45/200]", {"del(17p)": T, "monosomy 17": F}, 22.5, [], ["nuc ish probe XYZ1"]),
    ("nuc ish(ABL1,BCR)x3(ABL1 con BCRx2)[200]", {}, None, [], ["nuc ish probe ABL1", "nuc ish probe BCR"]),
]


@pytest.mark.parametrize("text,findings,percent,unusable,unrecognised", ISCN, ids=[row[0] for row in ISCN])
def test_nuc_ish_reading(text, findings, percent, unusable, unrecognised):
    [reading] = iscn.read(text)
    assert reading.findings == findings
    assert reading.percent == percent
    assert sorted(reading.unusable) == sorted(unusable)
    assert reading.unrecognised == unrecognised


def test_unknown_probe_with_two_signals_is_ignored_and_said():
    [reading] = iscn.read("nuc ish(TP53x1,D21S259x2)[45/200]")
    assert reading.findings == {"del(17p)": True} and reading.ignored == ["D21S259"]
    p = patient_from_dict({"id": "X", "cytogenetics": {"fish": "nuc ish(TP53x1,D21S259x2)[45/200]"}}, "p")
    assert any("D21S259" in w.message and "ignored" in w.message for w in p.warnings)
    assert not p.unrecognised


UNREADABLE = [
    "nuc ish(TP53x1~2)[45/200]",            # a range of counts
    "nuc ish(TP53x1,D17Z1x2)[45/20]",       # more abnormal nuclei than scored
    "nuc ish(TP53x1,D17Z1x2)[0/200]",
    "nuc ish(TP53x1",                       # unbalanced
    "nuc ish(TP53)[45/200]",                # no count
    "nuc ish(TP53x1,TP53x2)[45/200]",       # one probe, two counts
    "nuc ish(TP53x1) see comment",          # trailing text
    "nuc ish",
    "nuc ish(TP53x1)[45/200]; karyotype 46,XY[20]",
]


@pytest.mark.parametrize("text", UNREADABLE)
def test_unreadable_nuc_ish_raises(text):
    with pytest.raises(iscn.IscnError):
        iscn.read(text)


def test_several_results_in_one_text():
    readings = iscn.read("nuc ish(MAF,IGH)x3(MAF con IGHx2)[30/200]; nuc ish(CKS1Bx2)[200]")
    assert [r.findings for r in readings] == [{"t(14;16)": True, "IGH rearrangement": True}, {"1q+": False}]
    assert [r.percent for r in readings] == [15.0, None]


# --- 3. nuc ish in a patient record ------------------------------------------------------------

def load(cyto: dict):
    return patient_from_dict({"id": "X", "cytogenetics": cyto}, "p.json")


@pytest.mark.parametrize("cyto", [
    {"fish": "nuc ish(TP53x1,D17Z1x2)[45/200]"},
    {"iscn": {"result": "nuc ish(TP53x1,D17Z1x2)[45/200]", "date": "2025-05-01", "method": "FISH"}},
    {"nuc ish(TP53x1,D17Z1x2)[45/200]": "detected"},
    {"nuc ish(TP53x1,D17Z1x2)[45/200]": {"date": "2025-05-01"}},
    {"del(17p)": "nuc ish(TP53x1,D17Z1x2)[45/200]"},
], ids=["value", "object", "key", "key-object", "under-a-finding-name"])
def test_a_record_accepts_nuc_ish_as_key_or_value(cyto):
    p = load(cyto)
    res = p.cytogenetics["del(17p)"]
    assert (res.detected, res.percent) == (True, 22.5)
    assert res.raw_name == "nuc ish(TP53x1,D17Z1x2)[45/200]"
    assert p.cytogenetics["monosomy 17"].detected is False
    assert not p.warnings and not p.unrecognised


def test_ish_findings_not_tested_stay_absent():
    p = load({"fish": "nuc ish(TP53x1,D17Z1x2)[45/200]"})
    for name in ("amp(1q)", "gain(1q)", "1q+", "t(4;14)", "IGH rearrangement", "TP53 mutation", "del(1p)"):
        assert name not in p.cytogenetics, name


def test_ish_normal_break_apart_rules_out_every_translocation():
    p = load({"fish": "nuc ish(5'IGH,3'IGH)x2(5'IGH con 3'IGHx2)[200]"})
    for child in IGH_CHILDREN:
        assert p.cytogenetics[child].detected is False, child


def test_ish_split_leaves_the_partner_unknown_unless_a_fusion_probe_names_it():
    split = load({"fish": "nuc ish(IGHx3)(5'IGH sep 3'IGHx1)[30/200]"})
    assert split.cytogenetics["IGH rearrangement"].percent == 15.0
    assert not any(child in split.cytogenetics for child in IGH_CHILDREN)
    named = load({"fish": "nuc ish(IGHx3)(5'IGH sep 3'IGHx1)[30/200]",
                  "t(4;14) probe": "nuc ish(FGFR3,IGH)x3(FGFR3 con IGHx2)[28/200]",
                  "t(11;14) probe": "nuc ish(CCND1,IGH)x2[200]"})
    assert named.cytogenetics["t(4;14)"].detected is True and named.cytogenetics["t(4;14)"].percent == 14.0
    assert named.cytogenetics["t(11;14)"].detected is False
    assert "t(14;16)" not in named.cytogenetics
    # the break-apart and the fusion probe count their own nuclei: detected, percentage unknown
    igh = named.cytogenetics["IGH rearrangement"]
    assert (igh.detected, igh.percent) == (True, None)
    assert any("percentage of cells with IGH rearrangement differs" in w.message for w in named.warnings)


def test_ish_unknown_probe_is_unrecognised_and_named_in_a_warning():
    p = load({"fish": "nuc ish(D5S630x3,D9Z1x3)[100/200]"})
    assert p.unrecognised["cytogenetics"] == ("nuc ish probe D5S630", "nuc ish probe D9Z1")
    assert any("nuc ish probe D5S630" in w.message for w in p.warnings)


def test_ish_unreadable_is_unrecognised_not_dropped():
    p = load({"fish": "nuc ish(TP53x1~2)[45/200]"})
    assert p.cytogenetics == {}
    assert p.unrecognised["cytogenetics"] == ("fish (nuc ish)",)
    assert any("fish (nuc ish)" in w.message and "cannot be read" in w.message for w in p.warnings)


def test_ish_pattern_without_a_rule_is_unusable_with_its_reason():
    p = load({"fish": "nuc ish(TP53x2,D17Z1x3)[50/200]"})
    res = p.cytogenetics["del(17p)"]
    assert res.detected is None and "relative loss" in res.problem
    assert any("the criteria that need it are unknown" in w.message for w in p.warnings)


def test_ish_value_not_detected_beside_a_key_string_is_not_read_as_a_result():
    p = load({"nuc ish(TP53x1,D17Z1x2)[45/200]": "not detected"})
    assert p.cytogenetics["del(17p)"].detected is None and p.cytogenetics["del(17p)"].problem


def test_ish_and_a_named_result_agree_or_the_record_is_refused():
    agree = load({"del(17p)": "detected", "fish": "nuc ish(TP53x1,D17Z1x2)[45/200]"})
    assert (agree.cytogenetics["del(17p)"].detected, agree.cytogenetics["del(17p)"].percent) == (True, 22.5)
    with pytest.raises(PatientError, match="different results"):
        load({"del(17p)": "not detected", "fish": "nuc ish(TP53x1,D17Z1x2)[45/200]"})
    with pytest.raises(PatientError, match="different results"):
        load({"1q+": "not detected", "fish": "nuc ish(CKS1Bx3)[60/200]"})
    with pytest.raises(PatientError, match="percent"):
        load({"fish": {"result": "nuc ish(TP53x1,D17Z1x2)[45/200]", "percent": 30}})


def test_ish_percent_from_the_object_when_the_string_gives_none():
    p = load({"fish": {"result": "nuc ish(CCND1,IGH)x3(CCND1 con IGHx2)", "percent": 35}})
    assert p.cytogenetics["t(11;14)"].percent == 35


def test_min_percent_reads_the_nuclei_of_the_ish_string():
    t = compile_text("id: T-ISH\ntitle: t\nsource: tests\nversion: '1'\ninclusion:\n  - id: I1\n"
                     "    text: 17p deleted in at least 20% of plasma cells\n"
                     "    rule: {cytogenetics: {any_of: [del(17p)], min_percent: 20}}\n", "t.yaml")

    def status(text):
        rec = {"id": "P", "as_of": AS_OF.isoformat(), "cytogenetics": {"fish": text}}
        return screen(t, patient_from_dict(rec, "p.json"), AS_OF).criteria[0]

    assert status("nuc ish(TP53x1,D17Z1x2)[45/200]").status == "pass"        # 22.5 %
    below = status("nuc ish(TP53x1,D17Z1x2)[30/200]")                         # 15 %
    assert below.status == "fail" and "below the 20% cut-off" in below.reason
    unknown = status("nuc ish(CCND1,IGH)x3(CCND1 con IGHx2)")                 # del(17p) not tested
    assert unknown.status == "unknown"


# --- 4. end to end: NCT05378971 exclusion E1 ---------------------------------------------------

NORMAL_1Q = "nuc ish(CKS1B,CDKN2C)x2[200]"      # 1q+ not detected: neither gain nor amplification


@pytest.fixture(scope="module")
def trial():
    return load_trial("NCT05378971")


@pytest.fixture
def record():
    return copy.deepcopy(json.loads(EXAMPLE.read_text(encoding="utf-8")))


def e1(trial, record, cyto: dict):
    record["cytogenetics"] = cyto
    result = screen(trial, patient_from_dict(record, "test-record"), AS_OF)
    return next(c for c in result.criteria if c.id == "E1"), result


NEGATIVE_REST = {"TP53 mutation": "not detected"}


@pytest.mark.parametrize("cyto,words", [
    ({"fish": "nuc ish(TP53x1,D17Z1x2)[45/200]"}, "del(17p) (as 'nuc ish(TP53x1,D17Z1x2)[45/200]') detected in 22.5% of cells"),
    ({"-17": "detected"}, "del(17p) (implied by -17) detected"),
    ({"\u221217": "positive"}, "del(17p) (implied by \u221217) detected"),
    ({"TP53 deleted": "detected"}, "del(17p) (as 'TP53 deleted') detected"),
    ({"fish": "nuc ish(CKS1Bx4,CDKN2Cx2)[80/200]"}, "amp(1q) (as 'nuc ish(CKS1Bx4,CDKN2Cx2)[80/200]') detected in 40% of cells"),
    ({"CKS1B x4": "detected"}, "amp(1q) (as 'CKS1B x4') detected"),
    ({"FGFR3::IGH": "detected"}, "t(4;14) (as 'FGFR3::IGH') detected"),
    ({"der(14)t(4;14)": "detected"}, "t(4;14) (as 'der(14)t(4;14)') detected"),
    ({"MAF::IGH": "detected"}, "t(14;16) (as 'MAF::IGH') detected"),
    ({"MAFB-IGH fusion": "detected"}, "t(14;20) (as 'MAFB-IGH fusion') detected"),
    ({"IGH::CCND1": "detected"}, "t(11;14) (as 'IGH::CCND1') detected"),
    ({"fish": "nuc ish(FGFR3,IGH)x3(FGFR3 con IGHx2)[60/200]"}, "t(4;14) (as 'nuc ish(FGFR3,IGH)x3(FGFR3 con IGHx2)[60/200]') detected in 30% of cells"),
    ({"fish": "nuc ish(CCND1,IGH)x3(CCND1 con IGHx2)"}, "t(11;14) (as 'nuc ish(CCND1,IGH)x3(CCND1 con IGHx2)') detected"),
], ids=lambda v: str(v)[:40])
def test_e1_excludes_on_each_reported_spelling(trial, record, cyto, words):
    c, result = e1(trial, record, cyto)
    assert c.status == "fail", c.reason
    assert words in c.reason
    assert result.verdict == "ineligible"


def test_e1_passes_on_a_normal_panel_written_in_iscn(trial, record):
    c, _ = e1(trial, record, {
        "fish 17p": "nuc ish(TP53,D17Z1)x2[200]",
        "fish 1q/1p": NORMAL_1Q,
        "fish IGH": "nuc ish(5'IGH,3'IGH)x2(5'IGH con 3'IGHx2)[200]",
        **NEGATIVE_REST})
    assert c.status == "pass", c.reason
    assert "t(4;14) (implied by nuc ish(5'IGH,3'IGH)x2(5'IGH con 3'IGHx2)[200] not detected) not detected" in c.reason


def test_e1_igh_break_apart_normal_rules_out_the_translocations(trial, record):
    c, _ = e1(trial, record, {"IGH break apart": "normal", "del(17p)": "not detected",
                              "1q+": "not detected", **NEGATIVE_REST})
    assert c.status == "pass", c.reason


def test_e1_igh_split_leaves_the_translocations_to_a_person(trial, record):
    c, result = e1(trial, record, {"fish IGH": "nuc ish(IGHx3)(5'IGH sep 3'IGHx1)[30/200]",
                                   "del(17p)": "not detected", "1q+": "not detected", **NEGATIVE_REST})
    assert c.status == "unknown", c.reason
    assert {"cytogenetics.t(4;14)", "cytogenetics.t(14;16)", "cytogenetics.t(14;20)",
            "cytogenetics.t(11;14)"} <= set(c.missing)
    assert result.verdict == "needs_review"


def test_e1_minus_17_not_detected_does_not_rule_out_17p(trial, record):
    cyto = {k: v for k, v in record["cytogenetics"].items() if k != "del(17p)"}
    c, _ = e1(trial, record, {**cyto, "-17": "not detected", "1q+": "not detected"})
    assert c.status == "unknown"
    assert "cytogenetics.del(17p)" in c.missing


def test_e1_unknown_probe_needs_a_person(trial, record):
    c, result = e1(trial, record, {**record["cytogenetics"], "1q+": "not detected",
                                   "fish": "nuc ish(D5S630x3,D9Z1x3)[100/200]"})
    assert c.status == "unknown"
    assert any("nuc ish probe D5S630" in m for m in c.missing)
    assert "unrecognised finding 'nuc ish probe D5S630' detected: a person must judge" in c.reason
    assert result.verdict == "needs_review"


def test_e1_unreadable_iscn_needs_a_person(trial, record):
    c, result = e1(trial, record, {**record["cytogenetics"], "1q+": "not detected",
                                   "fish": "nuc ish(TP53x1~2)[45/200]"})
    assert c.status == "unknown"
    assert "unrecognised finding 'fish (nuc ish)' detected" in c.reason
    assert result.verdict == "needs_review"


def test_e1_unknown_probe_does_not_hide_a_detected_finding(trial, record):
    c, _ = e1(trial, record, {"fish": "nuc ish(TP53x1,D17Z1x2,D5S630x3)[45/200]"})
    assert c.status == "fail"


def test_a_named_result_decides_what_the_ish_string_cannot():
    p = load({"del(17p)": "detected", "fish": "nuc ish(TP53x2,D17Z1x3)[50/200]"})
    assert p.cytogenetics["del(17p)"].detected is True and not p.cytogenetics["del(17p)"].problem
    assert not any("del(17p) cannot be read" in w.message for w in p.warnings)
