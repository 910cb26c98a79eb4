"""Codes of the standard terminologies to vocabulary entries (trialscreen.vocab.codes)."""

import pytest

from trialscreen import vocab
from trialscreen.vocab import codes
from trialscreen.vocab.codes import Code


@pytest.mark.parametrize("system, code, expected", [
    ("LOINC", "2160-0", Code("analyte", "creatinine")),
    ("loinc", "89247-1", Code("field", "ecog")),
    ("http://loinc.org", "29463-7", Code("field", "weight")),
    ("LOINC", "8302-2", Code("field", "height")),
    ("LOINC", "82810-3", Code("field", "pregnant")),
    ("SNOMED", "109989006", Code("diagnosis", "multiple_myeloma")),
    ("SNOMED", 271737000, Code("condition", "anemia")),
    ("http://snomed.info/sct", "84114007", Code("condition", "heart_failure")),
    # ICD-10-CM: the longest listed prefix, with or without the dot
    ("ICD10CM", "C90.10", Code("diagnosis", "plasma_cell_leukemia")),
    ("ICD10CM", "c9010", Code("diagnosis", "plasma_cell_leukemia")),
    ("ICD10CM", "E85.81", Code("diagnosis", "al_amyloidosis")),
    ("ICD10CM", "I50.22", Code("condition", "heart_failure")),
    ("ICD10CM", "N18.4", Code("condition", "renal_insufficiency")),
    ("ICD10CM", "Z92.21", Code("treatment", "chemotherapy")),
    ("RxNorm", "342369", Code("drug", "lenalidomide")),
    ("RxNorm", "723", Code("drug", "penicillin")),           # amoxicillin, a synonym of penicillin
    ("ATC", "L01XG01", Code("drug", "bortezomib")),
    ("ATC", "L01AA06", Code("treatment", "chemotherapy")),   # ifosfamide: an alkylating agent
    ("ATC", "L01EX01", Code("treatment", "targeted_therapy")),
    ("ATC", "L01XX99", Code("treatment", "antineoplastic_therapy")),
    ("SNOMED", "367336001", Code("treatment", "chemotherapy")),
    ("trialscreen", "lab:Kreatinin", Code("analyte", "creatinine")),
    ("trialscreen", "finding:del(17p)", Code("finding", "del(17p)")),
    ("trialscreen", "drug:Revlimid", Code("drug", "lenalidomide")),
    ("trialscreen", "treatment:auto transplant", Code("treatment", "asct")),
    ("trialscreen", "field:ECOG", Code("field", "ecog")),
])
def test_a_code_names_its_entry(system, code, expected):
    assert codes.lookup(system, code) == expected


@pytest.mark.parametrize("system, code", [
    ("SNOMED", "109989"),           # a prefix of a SNOMED code is another code: exact match only
    ("LOINC", "2160"),
    ("ICD10CM", "C9"),              # shorter than every listed prefix
    ("ICD10CM", "C91.00"),          # lymphoid leukaemia, not myeloma
    ("ICD10CM", "C90.2"),           # extramedullary plasmacytoma: solitary, or myeloma's own disease
    ("ICD10CM", "E85.82"),          # wild-type ATTR amyloidosis is not the AL amyloidosis of the trials
    ("ICD10CM", "N18.2"),           # CKD stage 2 is not renal insufficiency
    ("ATC", "L04AX"),               # the class of the immunomodulatory drugs is not a treatment type
    ("RxNorm", "99999999"),
    ("Read", "XaIZ4"),              # a system the vocabularies do not use
    ("trialscreen", "lab:unobtainium"),
    ("trialscreen", "nonsense"),
    ("SNOMED", None),
])
def test_a_code_nobody_listed_names_nothing(system, code):
    assert codes.lookup(system, code) is None


@pytest.mark.parametrize("system, code, expected", [
    ("LOINC", "LA9622-7", 0), ("LOINC", "LA9626-8", 4), ("LOINC", "LA15173-0", True),
    ("LOINC", "LA26683-5", False), ("LOINC", "LA4489-6", "unknown"), ("SNOMED", "260415000", "not detected"),
    ("SNOMED", "10828004", "positive"), ("SNOMED", "2667000", False), ("LOINC", "LA0000-0", None),
])
def test_coded_answers(system, code, expected):
    assert codes.answer(system, code) == expected


def test_every_drug_treatment_type_is_a_treatment_type_or_ask():
    for name in vocab.drugs().entries:
        kind = codes.drug_treatment(name)
        assert kind is None or kind == "ask" or vocab.treatments().canonical(kind) == kind, name
    assert codes.drug_treatment("melphalan") == "chemotherapy"
    assert codes.drug_treatment("aspirin") is None


def test_codes_of_an_entry_round_trip_through_lookup():
    for kind, loader in (("condition", vocab.conditions), ("diagnosis", vocab.diagnoses),
                         ("treatment", vocab.treatments), ("drug", vocab.drugs)):
        for name in loader().entries:
            for system, code in codes.codes_of(kind, name):
                assert codes.lookup(system, code) == Code(kind, name), (system, code)
    assert ("ICD10CM", "C90.1") in codes.codes_of("diagnosis", "plasma_cell_leukemia")
    assert codes.codes_of("condition", "cns_involvement") == []


@pytest.mark.parametrize("system, code", [("ICD10CM", "C90.00"), ("ICD10CM", "C9001"), ("ICD10CM", "D47.2"),
                                          ("ICD9CM", "203.00")])
def test_a_code_that_does_not_tell_two_diagnoses_apart_names_neither(system, code):
    found = codes.lookup(system, code)
    assert found is not None and found.kind == "diagnosis"
    assert vocab.diagnoses().canonical(found.name) is None      # no diagnosis: rules about diagnoses are unknown
    assert "does not tell them apart" in found.name


def test_atc_classes_to_judge():
    assert codes.atc_to_judge("H02AB04") and codes.atc_to_judge("L04AX04") and codes.atc_to_judge("L03AB04")
    assert not codes.atc_to_judge("J01CA04") and not codes.atc_to_judge("L01XX99")
