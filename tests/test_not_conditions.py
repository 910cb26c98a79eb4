"""Codes a problem list holds that are no condition any rule reads (vocab/not_conditions.yaml):
employment, education and housing findings, 'medication review due'. Such a code is placed as
nothing trialscreen reads, by the FHIR reader, the OMOP reader and the long-extract reader alike:
it is not read and not warned about, and the sections stay as they would be without it. Any
other code nobody places still makes the criteria about conditions unknown, with a warning.
Each is run from the command line, as a user would."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from test_extract import EXTRACT, FILES
from test_fhir_review import AS_OF, BASE, _add
from test_omop import CDM, TRIAL, run_omop, statuses
from trialscreen import vocab
from trialscreen.vocab import codes

SNOMED = "http://snomed.info/sct"
ROOT = Path(__file__).resolve().parent.parent
BULK = ROOT / "tests" / "data" / "fhir-bulk-10-patients"
EMPLOYED, STRESS = ("160903007", "Full-time employment (finding)"), ("73595000", "Stress (finding)")


def _condition(code: str, display: str) -> dict:
    return {"resourceType": "Condition", "id": f"c-{code}", "onsetDateTime": "2024-03-01",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display}}


def _screened(run, tmp_path, *conditions) -> tuple:
    """(verdict, {criterion: status}, the warnings) of the eligible example with ``conditions``."""
    bundle = copy.deepcopy(BASE)
    for code, display in conditions:
        _add(bundle, _condition(code, display))
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = run("screen", path, "--trial", "NCT05378971", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code == 0 and "Traceback" not in result.stderr, result.stderr
    (out,) = json.loads(result.stdout)
    return out["verdict"], {c["id"]: c["status"] for c in out["criteria"]}, out.get("warnings") or []


def test_an_employment_finding_leaves_the_eligible_example_eligible(run, tmp_path):
    verdict, _, warnings = _screened(run, tmp_path, EMPLOYED, ("314529007", "Medication review due (situation)"))
    assert verdict == "eligible", warnings
    assert not [w for w in warnings if "160903007" in w or "314529007" in w or "employment" in w], warnings


def test_a_stress_finding_still_makes_conditions_unknown(run, tmp_path):
    verdict, statuses_, warnings = _screened(run, tmp_path, EMPLOYED, STRESS)
    assert verdict == "needs_review"
    assert "unknown" in statuses_.values()
    said = [w for w in warnings if "73595000" in w]
    assert len(said) == 1 and "is not in trialscreen's vocabularies: criteria about conditions are unknown" in said[0]
    assert not [w for w in warnings if "160903007" in w], warnings


def _listed() -> list[dict]:
    return vocab.load_file("not_conditions.yaml")["codes"]


def test_every_listed_code_says_what_it_is_and_why_nothing_reads_it():
    for entry in _listed():
        assert set(entry) == {"system", "code", "display", "why"}, entry
        assert all(isinstance(entry[k], str) and entry[k].strip() for k in entry), entry
        assert codes.lookup(entry["system"], entry["code"]).kind == "none", entry


# codes of the Synthea sample that could bear on a criterion: they must stay unplaced
CLINICAL = ["73595000", "706893006", "423315002", "422650009", "424393004", "266948004", "160968000",
            "10939881000119105", "361055000", "162864005", "408512008", "15777000", "72892002", "19169002",
            "713458007", "266934004", "698306007", "57676002", "84229001"]


def test_no_code_that_could_matter_clinically_is_listed():
    assert not {e["code"] for e in _listed()} & set(CLINICAL)
    assert all(codes.lookup("SNOMED", code) is None for code in CLINICAL)


def test_the_bulk_sample_warns_about_no_listed_code_and_nobody_is_eligible(run, tmp_path):
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = run("batch", BULK, "--as-of", "2025-06-01", "--out", out, "--summary", summary)
    assert result.exit_code == 0 and "Traceback" not in result.stderr, result.stderr
    warnings = json.loads(summary.read_text(encoding="utf-8"))["warnings"]
    for entry in _listed():
        assert not [w for w in warnings if f"SNOMED {entry['code']} " in w], entry
    assert any("SNOMED 73595000 'Stress (finding)' is not in trialscreen's vocabularies" in w for w in warnings)
    assert "eligible" not in {line.split(",")[2] for line in out.read_text(encoding="utf-8").splitlines()[1:]}


@pytest.fixture
def trial(tmp_path) -> Path:
    path = tmp_path / "trial.yaml"
    path.write_text(TRIAL, encoding="utf-8")
    return path


def test_omop_ignores_the_same_code_but_not_stress_nor_a_code_under_it(tmp_path, trial):
    cdm = CDM(tmp_path / "cdm")
    cdm.concept(4052957, "SNOMED", "160903007", "Clinical Finding")
    cdm.concept(4306111, "SNOMED", "73595000", "Clinical Finding")
    cdm.concept(9000001, "SNOMED", "999000001", "Clinical Finding")       # unlisted, under full-time employment
    cdm.concept(2000000010, "trialscreen", "complete:conditions", "Site")
    for ancestor, level in ((9000001, 0), (4052957, 1)):
        cdm.rows["concept_ancestor"].append({"ancestor_concept_id": ancestor, "descendant_concept_id": 9000001,
                                             "min_levels_of_separation": level, "max_levels_of_separation": level})
    for pid, concept in ((1, 4052957), (2, 4306111), (3, 9000001), (4, None)):
        cdm.person(pid).observation(pid, 2000000010, "2025-05-01")
        if concept:
            cdm.condition(pid, concept, "2024-02-02")
    _, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert [statuses(rows[p])["E1"] for p in "1234"] == ["pass", "unknown", "unknown", "pass"]
    assert not [w for w in data["warnings"] if "160903007" in w], data["warnings"]
    assert any("SNOMED 73595000" in w for w in data["warnings"])
    assert any("SNOMED 999000001" in w for w in data["warnings"])     # never placed through an ancestor


def test_the_extract_reader_ignores_the_same_code(run, tmp_path):
    diagnoses = "SUBJECT_ID,ICD10_CODE,CHARTDATE\n10,160903007,2024-07-10\n9,73595000,2024-07-10\n"
    for name, text in {**FILES, "DIAGNOSES_ICD.csv": diagnoses}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "extract.yaml"
    path.write_text(EXTRACT.format(as_of="2025-06-02").replace("system: icd10cm", "system: snomed"),
                    encoding="utf-8")
    result = run("batch", "--extract", path, "--trial", "NCT05378971", "--out", tmp_path / "o.csv")
    err = " ".join(result.stderr.split())
    assert result.exit_code == 0, err
    assert "1 rows of 1 diagnosis code(s) nobody can place were not read as such: SNOMED 73595000 (1)" in err
    assert "160903007" not in err
