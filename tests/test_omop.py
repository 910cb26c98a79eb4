"""`trialscreen omop`: what a data manager sees when screening an OMOP CDM database.

Each test builds a small CDM folder (CSV files with the DDL's columns) or a DuckDB file, runs the
command, and asserts on the output rows (verdicts, statuses, the explanation in JSON Lines), the
summary's warnings and the exit code. The traps come from real CDM databases: the 'K/uL' unit
concept OMOP names "Kelvin per microliter", a measurement with no unit, a concept with no LOINC
code, a person with no measurements, rows outside the observation period or after the as-of date.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscreen.omop.tables import TABLES
from trialscreen_cli.main import app

TRIAL = """\
id: TEST-OMOP
title: OMOP reader checks
source: tests/test_omop.py
version: "1"
complete: true
screening_window: 28 days
inclusion:
  - id: I1
    text: Platelets at least 100 x10^9/L.
    rule: {lab: platelets, ge: 100 x10^9/L}
  - id: I2
    text: Creatinine below 177 umol/L.
    rule: {lab: creatinine, lt: 177 umol/L}
  - id: I3
    text: ECOG 0 to 2.
    rule: {field: ecog, in: 0..2}
exclusion:
  - id: E1
    text: Heart failure.
    rule: {condition: heart_failure}
  - id: E2
    text: Any prior chemotherapy.
    rule: {treatment: chemotherapy}
  - id: E3
    text: Any prior immunotherapy.
    rule: {treatment: immunotherapy}
"""
AS_OF = "2025-06-01"

# site concepts and standard codes, by code: the reader never reads a concept id's number
CONCEPTS = [
    # concept_id, name, domain, vocabulary, class, code
    (3024929, "Platelets [#/volume] in Blood by Automated count", "Measurement", "LOINC", "Lab Test", "777-3"),
    (3016723, "Creatinine [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "2160-0"),
    (8792, "Kelvin per microliter", "Unit", "UCUM", "Unit", "K/uL"),
    (8848, "thousand per microliter", "Unit", "UCUM", "Unit", "10*3/uL"),
    (8840, "milligram per deciliter", "Unit", "UCUM", "Unit", "mg/dL"),
    (4171756, "<", "Meas Value Operator", "SNOMED", "Qualifier Value", "276139006"),
    (9999001, "Local platelet code", "Measurement", "Local", "Lab Test", "PLT-7"),
    (2000000001, "ECOG", "Observation", "trialscreen", "Site", "field:ecog"),
    (2000000002, "treatments complete", "Observation", "trialscreen", "Site", "complete:treatments"),
]


def _write(folder: Path, table: str, rows: list[dict]) -> None:
    with open(folder / f"{table.upper()}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(TABLES[table]))
        w.writeheader()
        for row in rows:
            w.writerow(row)


class CDM:
    """A small CDM folder: persons, their rows, and the CONCEPT rows above."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.rows: dict = {t: [] for t in TABLES}
        self.rows["concept"] = [dict(zip(("concept_id", "concept_name", "domain_id", "vocabulary_id",
                                          "concept_class_id", "concept_code"), c),
                                     valid_start_date="1970-01-01", valid_end_date="2099-12-31") for c in CONCEPTS]

    def person(self, pid: int, *, sex="F", born="1960-02-03", observed=("2000-01-01", "2025-12-31")):
        self.rows["person"].append({"person_id": pid, "gender_concept_id": 0, "year_of_birth": born[:4],
                                    "month_of_birth": int(born[5:7]), "day_of_birth": int(born[8:]),
                                    "birth_datetime": born + " 00:00:00", "race_concept_id": 0,
                                    "ethnicity_concept_id": 0, "gender_source_value": sex})
        if observed:
            self.rows["observation_period"].append({
                "observation_period_id": pid, "person_id": pid, "observation_period_start_date": observed[0],
                "observation_period_end_date": observed[1], "period_type_concept_id": 0})
        return self

    def lab(self, pid: int, concept: int, value, unit: int | None, day: str, **extra):
        n = len(self.rows["measurement"]) + 1
        self.rows["measurement"].append({"measurement_id": n, "person_id": pid, "measurement_concept_id": concept,
                                         "measurement_date": day, "measurement_type_concept_id": 0,
                                         "value_as_number": value, "unit_concept_id": unit, **extra})
        return self

    def observation(self, pid: int, concept: int, day: str, **values):
        n = len(self.rows["observation"]) + 1
        self.rows["observation"].append({"observation_id": n, "person_id": pid, "observation_concept_id": concept,
                                         "observation_date": day, "observation_type_concept_id": 0, **values})
        return self

    def row(self, table: str, **values):
        """A row of any table; its id column numbered in order."""
        rows = self.rows[table]
        rows.append({next(iter(TABLES[table])): len(rows) + 1, **values})
        return self

    def drug(self, pid: int, concept: int, start: str, **extra):
        return self.row("drug_exposure", person_id=pid, drug_concept_id=concept, drug_exposure_start_date=start,
                        drug_exposure_end_date=start, drug_type_concept_id=0, **extra)

    def condition(self, pid: int, concept: int, start: str, **extra):
        return self.row("condition_occurrence", person_id=pid, condition_concept_id=concept,
                        condition_start_date=start, condition_type_concept_id=0, **extra)

    def concept(self, concept_id: int, vocabulary: str, code: str, klass: str = "Ingredient"):
        self.rows["concept"].append({"concept_id": concept_id, "concept_name": f"{vocabulary} {code}",
                                     "domain_id": "Drug", "vocabulary_id": vocabulary, "concept_class_id": klass,
                                     "concept_code": code, "valid_start_date": "1970-01-01",
                                     "valid_end_date": "2099-12-31"})
        return self

    def write(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        for table, rows in self.rows.items():
            _write(self.folder, table, rows)
        return self.folder


@pytest.fixture
def trial(tmp_path) -> Path:
    path = tmp_path / "trial.yaml"
    path.write_text(TRIAL, encoding="utf-8")
    return path


@pytest.fixture
def cdm(tmp_path) -> CDM:
    return CDM(tmp_path / "cdm")


def run_omop(source: Path, trial: Path, tmp_path: Path, *args: str):
    """(exit code, output rows as dicts by person id, the summary, stderr)."""
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["omop", str(source), "--trial", str(trial), "--as-of", AS_OF,
                                      "--out", str(out), "--summary", str(summary), *args])
    rows = {}
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[row["patient"]["id"]] = row
    data = json.loads(summary.read_text(encoding="utf-8")) if summary.exists() and summary.stat().st_size else {}
    return result.exit_code, rows, data, result.stderr if hasattr(result, "stderr") else result.output


def statuses(row: dict) -> dict:
    return {c["id"]: c["status"] for c in row["criteria"]}


def checks_text(row: dict, cid: str) -> str:
    return json.dumps(next(c for c in row["criteria"] if c["id"] == cid))


def test_k_per_microlitre_is_thousands_never_kelvin(cdm, trial, tmp_path):
    src = cdm.person(1).lab(1, 3024929, 150, 8792, "2025-05-20").write()
    code, rows, _, _ = run_omop(src, trial, tmp_path)
    assert code == 0
    assert statuses(rows["1"])["I1"] == "pass"
    assert "150" in checks_text(rows["1"], "I1") and "kelvin" not in checks_text(rows["1"], "I1").lower()


def test_a_measurement_without_a_unit_decides_nothing(cdm, trial, tmp_path):
    src = cdm.person(1).lab(1, 3024929, 150, None, "2025-05-20").write()
    _, rows, data, _ = run_omop(src, trial, tmp_path)
    assert statuses(rows["1"])["I1"] == "unknown"
    assert rows["1"]["verdict"] != "eligible"
    assert any("platelets" in w and "unit" in w for w in data["warnings"])


def test_unit_source_value_is_read_when_the_unit_concept_is_zero(cdm, trial, tmp_path):
    src = cdm.person(1).lab(1, 3016723, 1.9, 0, "2025-05-20", unit_source_value="mg/dL").write()
    _, rows, _, _ = run_omop(src, trial, tmp_path)
    assert statuses(rows["1"])["I2"] == "pass"          # 1.9 mg/dL = 168 umol/L < 177
    assert "168" in checks_text(rows["1"], "I2")


def test_a_concept_with_no_loinc_code_is_not_a_lab(cdm, trial, tmp_path):
    src = cdm.person(1).lab(1, 9999001, 150, 8848, "2025-05-20").write()
    _, rows, _, _ = run_omop(src, trial, tmp_path)
    assert statuses(rows["1"])["I1"] == "unknown"
    assert any("platelets" in m for m in rows["1"]["missing"])


def test_a_person_with_no_measurements_is_never_eligible(cdm, trial, tmp_path):
    src = cdm.person(1).write()
    code, rows, data, _ = run_omop(src, trial, tmp_path)
    assert code == 0
    assert rows["1"]["verdict"] == "needs_review"
    assert {"I1", "I2", "I3", "E1", "E2"} <= set(s for s, v in statuses(rows["1"]).items() if v == "unknown")
    assert data["trials"][0]["verdicts"]["eligible"] == 0


def test_the_most_recent_value_decides_and_later_ones_have_not_happened(cdm, trial, tmp_path):
    src = (cdm.person(1).lab(1, 3024929, 50, 8848, "2025-05-10").lab(1, 3024929, 150, 8848, "2025-05-25")
           .lab(1, 3024929, 20, 8848, "2025-06-15").write())     # after the as-of date: not yet
    _, rows, _, _ = run_omop(src, trial, tmp_path)
    assert statuses(rows["1"])["I1"] == "pass"
    assert "2025-05-25" in checks_text(rows["1"], "I1")
    assert "; the latest of 2 results)" in checks_text(rows["1"], "I1")   # the result of 2025-06-15 not counted


def test_a_value_too_old_for_the_window_decides_nothing(cdm, trial, tmp_path):
    src = cdm.person(1).lab(1, 3024929, 150, 8848, "2025-01-10").write()
    _, rows, _, _ = run_omop(src, trial, tmp_path)
    assert statuses(rows["1"])["I1"] == "unknown"


def test_a_censored_value_is_decided_only_where_its_bound_decides(cdm, trial, tmp_path):
    src = (cdm.person(1).lab(1, 3016723, 0.5, 8840, "2025-05-20", operator_concept_id=4171756)
           .person(2).lab(2, 3024929, 150, 8848, "2025-05-20", operator_concept_id=4171756).write())
    _, rows, _, _ = run_omop(src, trial, tmp_path)
    assert statuses(rows["1"])["I2"] == "pass"        # creatinine < 0.5 mg/dL: below 177 umol/L
    assert statuses(rows["2"])["I1"] == "unknown"     # platelets < 150: maybe below 100


def test_treatments_are_complete_only_when_attested_and_observed(cdm, trial, tmp_path):
    (cdm.person(1).observation(1, 2000000002, "2025-05-01")
        .person(2, observed=("2000-01-01", "2020-01-01")).observation(2, 2000000002, "2019-05-01")
        .person(3))
    code, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E2"] == "pass"        # attested, and observed on the as-of date
    assert statuses(rows["2"])["E2"] == "unknown"     # the as-of date is after the observation period
    assert statuses(rows["3"])["E2"] == "unknown"     # not attested


def test_ecog_from_a_site_concept_and_rows_outside_the_observation_period(cdm, trial, tmp_path):
    src = (cdm.person(1, observed=("2000-01-01", "2025-05-01"))
           .observation(1, 2000000001, "2025-05-20", value_as_number=1).write())
    _, rows, data, _ = run_omop(src, trial, tmp_path)
    assert statuses(rows["1"])["I3"] == "pass"
    assert any("outside their person's observation periods" in w for w in data["warnings"])


def test_persons_in_person_id_order_and_limit(cdm, trial, tmp_path):
    for pid in (30, 4, 12):
        cdm.person(pid)
    src = cdm.write()
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["omop", str(src), "--trial", str(trial), "--as-of", AS_OF, "--out", str(out),
                                      "--limit", "2", "-q"])
    assert result.exit_code == 0
    lines = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert [r["id"] for r in lines] == ["4", "12"]
    assert [r["row"] for r in lines] == ["1", "2"]


def test_parquet_output_holds_the_csv_rows(cdm, trial, tmp_path):
    import duckdb

    src = cdm.person(1).person(2).write()
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(app, ["omop", str(src), "--trial", str(trial), "--as-of", AS_OF,
                                      "--out", str(out), "-q"])
    assert result.exit_code == 0
    got = duckdb.sql(f"SELECT id, verdict FROM read_parquet('{out}') ORDER BY id").fetchall()
    assert got == [("1", "needs_review"), ("2", "needs_review")]


def test_a_duckdb_file_reads_like_a_folder(cdm, trial, tmp_path):
    import duckdb

    folder = cdm.person(1).lab(1, 3024929, 150, 8792, "2025-05-20").write()
    db = tmp_path / "cdm.duckdb"
    con = duckdb.connect(str(db))
    for table in ("person", "measurement", "concept", "observation_period"):
        con.execute(f"CREATE TABLE {table.upper()} AS SELECT * FROM read_csv('{folder / (table.upper() + '.csv')}')")
    con.close()
    _, rows, _, _ = run_omop(db, trial, tmp_path)
    assert statuses(rows["1"])["I1"] == "pass"


@pytest.mark.parametrize("make, message, exit_code", [
    (lambda d: d.mkdir(), "has no PERSON table", 65),
    (lambda d: None, "no such file or folder", 65),
    (lambda d: (d.mkdir(), (d / "PERSON.csv").write_text("a,b\n1,2\n")), "has no person_id column", 65),
    (lambda d: (d.mkdir(), (d / "PERSON.csv").write_text("person_id,year_of_birth\nx1,1960\n")),
     "person.person_id holds a value that is not its CDM type", 65),
    (lambda d: (d.mkdir(), (d / "PERSON.csv").write_text("person_id,year_of_birth\n1,1960\n"),
                (d / "OBSERVATION_PERIOD.csv").write_text("observation_period_id,person_id,"
                                                          "observation_period_start_date\n1,1,2025-13-45\n")),
     "observation_period.observation_period_start_date holds a value that is not its CDM type", 65),
    (lambda d: (d.mkdir(), (d / "PERSON.csv").write_text("person_id,year_of_birth\n1,1960\n"),
                (d / "CONCEPT.csv").write_text("concept_id,vocabulary_id,concept_code\nabc,LOINC,777-3\n")),
     "concept.concept_id holds a value that is not its CDM type", 65),
])
def test_a_source_that_cannot_be_read_is_one_sentence(tmp_path, trial, make, message, exit_code):
    folder = tmp_path / "bad"
    make(folder)
    result = CliRunner().invoke(app, ["omop", str(folder), "--trial", str(trial), "--as-of", AS_OF, "-q"])
    assert result.exit_code == exit_code
    assert message in result.output and "Traceback" not in result.output


def test_attestations_come_from_the_side_file(tmp_path):
    trial = tmp_path / "t.yaml"
    trial.write_text(TRIAL.replace("""  - id: I3
    text: ECOG 0 to 2.
    rule: {field: ecog, in: 0..2}""", """  - id: I3
    text: Signed consent.
    rule: {attestation: informed_consent_signed}"""), encoding="utf-8")
    src = CDM(tmp_path / "cdm").person(1).person(2).write()
    side = tmp_path / "att.csv"
    side.write_text("person_id,attestation,value\n1,informed_consent_signed,yes\n2,informed_consent_signed,no\n")
    _, rows, _, _ = run_omop(src, trial, tmp_path, "--attestations", str(side))
    assert statuses(rows["1"])["I3"] == "pass" and statuses(rows["2"])["I3"] == "fail"


def test_drug_exposures_become_treatments_by_their_ingredient_codes(cdm, trial, tmp_path):
    cdm.concept(1191, "RxNorm", "1191").concept(6718, "RxNorm", "6718").concept(3264, "RxNorm", "3264")
    cdm.concept(7777777, "RxNorm", "99999999")
    for pid, drug in ((1, 1191), (2, 6718), (3, 3264), (4, 7777777), (5, None)):
        cdm.person(pid).observation(pid, 2000000002, "2025-01-01")      # treatments complete: attested
        if drug:
            cdm.drug(pid, drug, "2024-03-01")
    _, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    e2 = {pid: statuses(rows[pid])["E2"] for pid in rows}
    assert e2 == {"1": "pass",        # aspirin is not a treatment
                  "2": "fail",        # melphalan: chemotherapy
                  "3": "unknown",     # dexamethasone: antineoplastic or supportive, a person judges
                  "4": "unknown",     # a drug nobody can place
                  "5": "pass"}
    assert sum("RxNorm 99999999" in w for w in data["warnings"]) == 1


def test_a_condition_is_placed_by_its_source_icd10_code(cdm, trial, tmp_path):
    cdm.concept(45591111, "ICD10CM", "I50.22", "5-char billing code")
    cdm.person(1).condition(1, 0, "2024-02-02", condition_source_concept_id=45591111).person(2)
    _, rows, _, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E1"] == "fail"          # heart failure recorded: excluded
    assert statuses(rows["2"])["E1"] == "unknown"       # nothing recorded, nothing attested


def test_rows_of_a_person_not_in_person_are_counted(cdm, trial, tmp_path):
    src = cdm.person(1).lab(1, 3024929, 150, 8792, "2025-05-20").lab(42, 3024929, 90, 8792, "2025-05-20").write()
    code, rows, data, _ = run_omop(src, trial, tmp_path)
    assert code == 0 and list(rows) == ["1"]
    assert "1 MEASUREMENT row(s) name a person_id PERSON does not hold: not read" in data["warnings"]


def test_a_procedure_nobody_can_place_keeps_an_attested_treatment_list_open(cdm, trial, tmp_path):
    cdm.concept(4000001, "CPT4", "38241", "CPT4")        # a transplant code the vocabularies do not list
    for pid in (1, 2):
        cdm.person(pid).observation(pid, 2000000002, "2025-01-01")      # treatments complete: attested
    cdm.row("procedure_occurrence", person_id=1, procedure_concept_id=4000001, procedure_date="2024-04-04",
            procedure_type_concept_id=0)
    _, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E2"] == "unknown"       # it might have been chemotherapy
    assert statuses(rows["2"])["E2"] == "pass"
    assert any("CPT4 38241" in w for w in data["warnings"])


def test_the_spark_engine_is_imported_without_pyspark():
    """`screen` must start fast and trialscreen must import without the extra: PySpark is
    imported only when the Spark engine runs."""
    import subprocess
    import sys

    code = ("import sys, trialscreen.omop.spark, trialscreen_cli.main, trialscreen_cli.omop; "
            "sys.exit('pyspark' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0



# --- what a reviewer found: each a way the data could have passed a criterion it does not support ---

def _ancestors(cdm, descendant: int, *ancestors: int):
    """CONCEPT_ANCESTOR rows: the concept itself and its ancestors, nearest first."""
    for level, ancestor in enumerate((descendant, *ancestors)):
        cdm.rows["concept_ancestor"].append({"ancestor_concept_id": ancestor, "descendant_concept_id": descendant,
                                             "min_levels_of_separation": level, "max_levels_of_separation": level})
    return cdm


def _complete(cdm, pid: int, section: str, concept: int):
    cdm.concept(concept, "trialscreen", f"complete:{section}", "Site")
    return cdm.observation(pid, concept, "2025-05-01")


def test_a_standard_condition_under_no_listed_code_is_unplaced_not_absent(cdm, trial, tmp_path):
    cdm.concept(4329847, "SNOMED", "22298006", "Clinical Finding")     # myocardial infarction: not listed
    _ancestors(cdm, 4329847)
    cdm.person(1).condition(1, 4329847, "2024-02-02")
    _complete(cdm, 1, "conditions", 2000000010)
    cdm.person(2).condition(2, 0, "2024-02-02", condition_source_value="local code 17")    # no concept at all
    _complete(cdm, 2, "conditions", 2000000010)
    cdm.person(3)
    _complete(cdm, 3, "conditions", 2000000010)
    _, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E1"] == "unknown"       # it might be heart failure coded under a parent not listed
    assert statuses(rows["2"])["E1"] == "unknown"
    assert statuses(rows["3"])["E1"] == "pass"          # attested complete and nothing recorded
    assert any("SNOMED 22298006" in w for w in data["warnings"])
    assert any("local code 17" in w for w in data["warnings"])


@pytest.mark.parametrize("setup, e2, e3", [
    ("source_only", "fail", "pass"),        # melphalan coded only as the source concept: chemotherapy
    ("no_concept", "unknown", "unknown"),   # an investigational drug with concept 0
    ("pomalidomide_atc", "pass", "fail"),   # an ingredient placed through its ATC code: immunotherapy
    ("glucocorticoid_atc", "unknown", "unknown"),   # methylprednisolone (H02): a person judges
    ("antibiotic_atc", "pass", "pass"),     # amoxicillin-like (J01): not a treatment
    ("combination_unknown", "unknown", "unknown"),  # aspirin plus an unlisted ingredient: ATC cannot tell
])
def test_drug_exposures_that_must_not_read_as_no_treatment(setup, e2, e3, cdm, trial, tmp_path):
    cdm.concept(6718, "RxNorm", "6718").concept(1191, "RxNorm", "1191")
    cdm.concept(8000001, "RxNorm", "1000001", "Clinical Drug").concept(8000002, "RxNorm", "1000002")
    cdm.concept(8100001, "ATC", "L04AX06", "ATC 5th").concept(8100002, "ATC", "H02AB04", "ATC 5th")
    cdm.concept(8100003, "ATC", "J01CA04", "ATC 5th").concept(8100004, "ATC", "B01AC06", "ATC 5th")
    cdm.person(1)
    _complete(cdm, 1, "treatments", 2000000011)
    if setup == "source_only":
        cdm.drug(1, 0, "2024-03-01", drug_source_concept_id=6718)
    elif setup == "no_concept":
        cdm.drug(1, 0, "2024-03-01", drug_source_value="XYZ-123 trial drug")
    elif setup == "combination_unknown":
        _ancestors(cdm, 8000001, 1191, 8000002, 8100004)
        cdm.drug(1, 8000001, "2024-03-01")
    else:
        atc = {"pomalidomide_atc": 8100001, "glucocorticoid_atc": 8100002, "antibiotic_atc": 8100003}[setup]
        _ancestors(cdm, 8000001, 8000002, atc)
        cdm.drug(1, 8000001, "2024-03-01")
    _, rows, _, _ = run_omop(cdm.write(), trial, tmp_path)
    assert (statuses(rows["1"])["E2"], statuses(rows["1"])["E3"]) == (e2, e3)


def test_the_latest_ecog_decides_across_tables_and_an_old_one_decides_nothing(cdm, trial, tmp_path):
    cdm.person(1).lab(1, 2000000001, 3, None, "2025-05-20").observation(1, 2000000001, "2025-04-01",
                                                                        value_as_number=0)
    cdm.person(2).observation(2, 2000000001, "2024-01-10", value_as_number=0)
    _, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["I3"] == "fail"          # ECOG 3 in May, not the 0 of April
    assert statuses(rows["2"])["I3"] == "unknown"       # ECOG 0 of January 2024 says nothing about June 2025
    assert any("ecog recorded more than 90 days before the as-of date" in w for w in data["warnings"])


def test_an_attestation_counts_only_in_the_observation_period_of_the_as_of_date(cdm, trial, tmp_path):
    cdm.person(1, observed=("2000-01-01", "2005-12-31"))
    cdm.rows["observation_period"].append({"observation_period_id": 99, "person_id": 1,
                                           "observation_period_start_date": "2025-05-30",
                                           "observation_period_end_date": "2025-06-02", "period_type_concept_id": 0})
    cdm.observation(1, 2000000002, "2003-01-01")        # treatments complete: attested, back in 2003
    _, rows, _, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E2"] == "unknown"


def test_messy_person_ids_do_not_stop_the_run(cdm, trial, tmp_path):
    cdm.person(1).person(2).person(2).lab(1, 3024929, 150, 8792, "2025-05-20")
    cdm.rows["measurement"].append({"measurement_id": 77, "person_id": "", "measurement_concept_id": 3024929,
                                    "measurement_date": "2025-05-20", "measurement_type_concept_id": 0,
                                    "value_as_number": 90, "unit_concept_id": 8792})
    code, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert code == 1                                    # person 2 is an error row; the run went on
    assert rows["2"]["verdict"] == "error" and "2 rows in PERSON" in json.dumps(rows["2"])
    assert statuses(rows["1"])["I1"] == "pass"


def test_a_concept_id_twice_in_concept_is_refused_in_one_sentence(cdm, trial, tmp_path):
    cdm.person(1).lab(1, 3024929, 150, 8792, "2025-05-20")
    cdm.rows["concept"].append({**cdm.rows["concept"][2], "concept_code": "K"})     # 8792 again, as kelvin
    code, _, _, err = run_omop(cdm.write(), trial, tmp_path)
    assert code == 65 and "concept_id 8792 twice" in err and "Traceback" not in err


def test_occurrences_of_one_condition_read_as_ongoing_when_any_is():
    from datetime import date

    from trialscreen.omop.assemble import PersonRows
    from trialscreen.omop.records import build_record

    rows = PersonRows({"person_id": 1, "sex": "female", "periods": [[date(2000, 1, 1), date(2030, 1, 1)]]}, {
        "conditions": [
            {"kind": "condition", "name": "thrombosis", "day": date(2020, 1, 5), "end_day": None, "item_id": 1},
            {"kind": "condition", "name": "thrombosis", "day": date(2023, 3, 1), "end_day": date(2023, 6, 1),
             "item_id": 2},
            {"kind": "unplaced", "name": "SNOMED 1 'x'", "day": date(2023, 3, 1), "end_day": None, "item_id": 3}]})
    built = build_record(rows, date(2025, 6, 1), complete=("diagnoses", "conditions"))
    assert built.record["conditions"]["thrombosis"] == {"present": True, "date": "2023-03-01"}
    assert built.record["complete"] == []     # an unplaced condition might be a diagnosis too


def test_the_spark_engine_without_pyspark_is_one_sentence(cdm, trial, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)        # as if the extra were not installed
    result = CliRunner().invoke(app, ["omop", str(cdm.person(1).write()), "--trial", str(trial), "--as-of", AS_OF,
                                      "--engine", "spark", "--out", str(tmp_path / "o.csv"), "-q"])
    assert result.exit_code == 2
    assert "pip install 'trialscreen[spark]'" in result.output and "Traceback" not in result.output


def _screened(source: Path, trial: Path, workers: int, *args: str) -> tuple:
    """(output text, summary) of the library's run with ``workers`` processes, from 1 person on."""
    import io

    from trialscreen.criteria.library import load_trial
    from trialscreen.omop.run import run_omop as library_run
    from trialscreen.omop.source import open_source
    from trialscreen.render.batch import Writer

    trials = [load_trial(str(trial)), load_trial("NCT05378971")]
    out, src = io.StringIO(), open_source(str(source))
    try:
        summary = library_run(src, trials, Writer(out, "jsonl", trials), as_of=__import__("datetime").date(2025, 6, 1),
                              workers=workers, parallel_from=1, limit=int(args[0]) if args else None)
    finally:
        src.close()
    return out.getvalue(), json.dumps(summary.as_dict(), sort_keys=True)


@pytest.mark.parametrize("limit", [(), ("5",)])
def test_parallel_processes_write_what_one_process_writes(cdm, trial, limit):
    cdm.concept(7777777, "RxNorm", "99999999")
    for pid in (3, 5, 8, 13, 21, 34, 55):
        cdm.person(pid).lab(pid, 3024929, 100 + pid, 8792, "2025-05-20").drug(pid, 7777777, "2024-03-01")
    cdm.person(8).lab(2, 3024929, 150, 8792, "2025-05-20").lab(99, 3024929, 150, 8792, "2025-05-20")  # dup, orphans
    source = cdm.write()
    one, many = _screened(source, trial, 1, *limit), _screened(source, trial, 3, *limit)
    assert one == many
    assert len(one[0].splitlines()) == 2 * (5 if limit else 7)


def test_parallel_processes_on_the_synthea_sample(trial):
    sample = Path(__file__).resolve().parent / "data" / "omop-synthea27nj"
    assert _screened(sample, trial, 1) == _screened(sample, trial, 2)


def test_a_treatment_site_concept_given_as_a_drug_is_that_treatment(cdm, trial, tmp_path):
    cdm.concept(2000000020, "trialscreen", "treatment:chemotherapy", "Site")
    for pid in (1, 2):
        cdm.person(pid).observation(pid, 2000000002, "2025-01-01")      # treatments complete: attested
    cdm.drug(1, 2000000020, "2024-03-01").drug(2, 0, "2024-03-01", drug_source_concept_id=2000000020)
    _, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E2"] == statuses(rows["2"])["E2"] == "fail"
    assert not any("not in trialscreen's vocabularies" in w for w in data["warnings"])


def test_an_ambiguous_source_code_decides_over_the_standard_concept_an_etl_mapped_it_to(cdm, tmp_path):
    trial = tmp_path / "mm.yaml"
    trial.write_text(TRIAL.split("inclusion:")[0] + "inclusion:\n  - id: I1\n    text: Multiple myeloma.\n"
                     "    rule: {diagnosis: multiple_myeloma}\n", encoding="utf-8")
    cdm.concept(4164770, "SNOMED", "109989006", "Clinical Finding").concept(45551111, "ICD10CM", "C90.00", "Billing")
    cdm.person(1).condition(1, 4164770, "2024-02-02", condition_source_concept_id=45551111)
    cdm.person(2).condition(2, 4164770, "2024-02-02")
    _, rows, _, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["I1"] == "unknown"       # C90.00 may be smoldering myeloma
    assert statuses(rows["2"])["I1"] == "pass"          # SNOMED multiple myeloma, recorded as such


def test_a_condition_recorded_in_observation_without_a_value_is_present(cdm, trial, tmp_path):
    cdm.concept(316139, "SNOMED", "84114007", "Clinical Finding")
    cdm.person(1).observation(1, 316139, "2025-02-01")
    _complete(cdm, 1, "conditions", 2000000010)
    _, rows, _, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E1"] == "fail"


def test_undated_occurrences_and_status_codes_leave_no_date_to_meet_a_window():
    from datetime import date

    from trialscreen.omop.assemble import PersonRows
    from trialscreen.omop.records import build_record

    rows = PersonRows({"person_id": 1, "periods": [[date(2000, 1, 1), date(2030, 1, 1)]]}, {
        "conditions": [
            {"kind": "condition", "name": "thrombosis", "day": date(2020, 1, 5), "end_day": None, "item_id": 1},
            {"kind": "condition", "name": "thrombosis", "day": date(2025, 5, 1), "end_day": None, "item_id": 2},
            {"kind": "treatment", "name": "chemotherapy", "day": date(2025, 5, 15), "end_day": None, "item_id": 3}],
        "observed": [{"kind": "attribute", "name": "undated", "answer": "true", "value_as_number": None,
                      "value_as_string": None, "event_table": "condition_occurrence", "observation_event_id": 2,
                      "day": date(2025, 5, 1)}]})
    record = build_record(rows, date(2025, 6, 1)).record
    assert record["conditions"]["thrombosis"] == {"present": True}
    assert record["treatments"] == [{"type": "chemotherapy"}]       # Z92.21 says it happened, not when


def test_a_diagnosis_code_nobody_can_place_in_observation_keeps_the_sections_open(cdm, trial, tmp_path):
    cdm.concept(1569999, "ICD10CM", "Z85.3", "4-char billing code")     # personal history of breast cancer
    cdm.person(1).observation(1, 1569999, "2025-03-01")
    _complete(cdm, 1, "conditions", 2000000010)
    cdm.person(2)
    _complete(cdm, 2, "conditions", 2000000010)
    _, rows, data, _ = run_omop(cdm.write(), trial, tmp_path)
    assert statuses(rows["1"])["E1"] == "unknown" and statuses(rows["2"])["E1"] == "pass"
    assert any("ICD10CM Z85.3" in w for w in data["warnings"])
