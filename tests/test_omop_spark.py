"""`trialscreen omop SOURCE --engine spark`: the same bytes and the same summary as the DuckDB engine.

Each test builds a CDM with the builder of tests/test_omop.py, converts its CSV files to Parquet
with DuckDB (typed by the CDM DDL, as a site's export would be), and screens the Parquet folder with
both engines: the CSV (or JSON Lines) output must be byte for byte the same and the summary JSON
equal. One Spark session (local[2]) serves the whole file. Skipped when PySpark is not installed
(``pip install 'trialscreen[spark]'``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("pyspark", reason="the Spark engine needs PySpark: pip install 'trialscreen[spark]'")

from test_omop import AS_OF, CDM, TRIAL  # noqa: E402
from trialscreen.omop.tables import TABLES  # noqa: E402
from trialscreen_cli.main import app  # noqa: E402

SAMPLE = Path(__file__).parent / "data" / "omop-synthea27nj"
SECOND = TRIAL.replace("id: TEST-OMOP", "id: TEST-OMOP-2").replace("screening_window: 28 days",
                                                                  "screening_window: 365 days")


@pytest.fixture(scope="session")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("trialscreen tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
               .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def trials(tmp_path) -> list:
    first, second = tmp_path / "trial.yaml", tmp_path / "trial2.yaml"
    first.write_text(TRIAL, encoding="utf-8")
    second.write_text(SECOND, encoding="utf-8")
    return ["--trial", str(first), "--trial", str(second)]


def to_parquet(folder: Path, target: Path, *, upper: bool = False) -> Path:
    """The CDM tables of ``folder`` (CSV) as one Parquet file each, typed by the DDL."""
    from trialscreen.omop.source import open_source

    target.mkdir(parents=True, exist_ok=True)
    source = open_source(str(folder))
    try:
        for table, columns in TABLES.items():
            if table not in source.missing:
                name = (table.upper() if upper else table) + ".parquet"
                source.con.execute(f"COPY (SELECT {', '.join(columns)} FROM {table}) TO "
                                   f"'{target / name}' (FORMAT parquet)")
    finally:
        source.close()
    return target


def screen(engine: str, source: Path, options: list, tmp_path: Path, out_name: str = "out.csv", as_of=AS_OF):
    out, summary = tmp_path / f"{engine}-{out_name}", tmp_path / f"{engine}-summary.json"
    result = CliRunner().invoke(app, ["omop", str(source), *options, "--as-of", as_of, "--out", str(out),
                                      "--summary", str(summary), "--engine", engine, "-q"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return (result.exit_code, out.read_bytes() if out.exists() else None,
            json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else None)


def same_on_both(source: Path, options: list, tmp_path: Path, **kwargs):
    """The (exit code, output bytes, summary) of both engines, asserted equal; DuckDB's returned."""
    duck = screen("duckdb", source, options, tmp_path, **kwargs)
    spark = screen("spark", source, options, tmp_path, **kwargs)
    assert spark[0] == duck[0]
    assert spark[1] == duck[1]
    assert spark[2] == duck[2]
    return duck


def labs_cdm(tmp_path: Path) -> CDM:
    """The K/uL trap, a lab without a unit, stale and future labs, a censored value, a local code,
    rows outside the observation period, a person with nothing, rows of a person not in PERSON."""
    cdm = CDM(tmp_path / "cdm")
    (cdm.person(1).lab(1, 3024929, 150, 8792, "2025-05-20")                     # K/uL: thousands
        .person(2).lab(2, 3024929, 150, None, "2025-05-20")                     # no unit
        .person(3).lab(3, 3024929, 50, 8848, "2025-05-10").lab(3, 3024929, 150, 8848, "2025-05-25")
        .lab(3, 3024929, 20, 8848, "2025-06-15")                                 # after the as-of date
        .person(4).lab(4, 3024929, 150, 8848, "2025-01-10")                     # stale for 28 days
        .person(5).lab(5, 3016723, 0.5, 8840, "2025-05-20", operator_concept_id=4171756)
        .person(6).lab(6, 9999001, 150, 8848, "2025-05-20")                     # no LOINC code
        .person(7).lab(7, 3016723, 1.9, 0, "2025-05-20", unit_source_value="mg/dL")
        .person(8, observed=("2000-01-01", "2025-05-01")).observation(8, 2000000001, "2025-05-20",
                                                                     value_as_number=1)
        .person(9, sex="M", born="1950-07-30")
        .lab(42, 3024929, 90, 8792, "2025-05-20"))                               # nobody in PERSON
    cdm.lab(3, 3024929, 150, 8848, "2025-05-25")      # the same day twice: the higher measurement_id
    return cdm


def test_labs_give_the_same_bytes_and_summary(spark, trials, tmp_path):
    source = to_parquet(labs_cdm(tmp_path).write(), tmp_path / "pq", upper=True)
    code, out, summary = same_on_both(source, trials, tmp_path)
    assert code == 0 and out.count(b"\n") == 1 + 9 * 2
    assert "1 MEASUREMENT row(s) name a person_id PERSON does not hold: not read" in summary["warnings"]


def test_json_lines_give_the_same_bytes(spark, trials, tmp_path):
    source = to_parquet(labs_cdm(tmp_path).write(), tmp_path / "pq")
    _, out, _ = same_on_both(source, trials, tmp_path, out_name="out.jsonl")
    assert out.count(b"\n") == 9 * 2 and b"kelvin" not in out.lower()


def test_unplaced_drug_codes_are_reported_once_with_their_persons(spark, trials, tmp_path):
    cdm = CDM(tmp_path / "cdm")
    cdm.concept(1191, "RxNorm", "1191").concept(6718, "RxNorm", "6718").concept(3264, "RxNorm", "3264")
    cdm.concept(7777777, "RxNorm", "99999999").concept(45591111, "ICD10CM", "I50.22", "5-char billing code")
    for pid, drug in ((1, 1191), (2, 6718), (3, 3264), (4, 7777777), (5, 7777777), (6, None), (7, 8888888)):
        cdm.person(pid).observation(pid, 2000000002, "2025-01-01")
        if drug:
            cdm.drug(pid, drug, "2024-03-01")
    cdm.condition(1, 0, "2024-02-02", condition_source_concept_id=45591111).condition(2, 5555555, "2024-02-02")
    cdm.condition(3, 0, "2024-02-02", condition_source_value="local 17")          # no concept: labelled by its value
    cdm.drug(6, 0, "2024-03-01", drug_source_value="XYZ-123")
    _, _, summary = same_on_both(to_parquet(cdm.write(), tmp_path / "pq"), trials, tmp_path)
    unplaced = [w for w in summary["warnings"] if "RxNorm 99999999" in w]
    assert len(unplaced) == 1 and "the 2 person(s)" in unplaced[0]


def test_completeness_attested_by_rows_and_by_option(spark, trials, tmp_path):
    cdm = CDM(tmp_path / "cdm")
    (cdm.person(1).observation(1, 2000000002, "2025-05-01")
        .person(2, observed=("2000-01-01", "2020-01-01")).observation(2, 2000000002, "2019-05-01")
        .person(3).person(4, observed=None))
    source = to_parquet(cdm.write(), tmp_path / "pq")
    same_on_both(source, trials, tmp_path)
    same_on_both(source, [*trials, "--complete", "conditions", "--complete", "treatments"], tmp_path)


def test_limit_screens_the_first_persons_in_person_id_order(spark, trials, tmp_path):
    cdm = CDM(tmp_path / "cdm")
    for pid in (30, 4, 12, 7):
        cdm.person(pid).lab(pid, 3024929, 100 + pid, 8848, "2025-05-20")
    _, out, summary = same_on_both(to_parquet(cdm.write(), tmp_path / "pq"), [*trials, "--limit", "2"], tmp_path)
    assert [line.split(b",")[0] for line in out.splitlines()[1:]] == [b"4", b"4", b"7", b"7"]
    assert summary["rows_in"] == 2


def test_attestations_and_parquet_output(spark, tmp_path):
    import duckdb

    trial = tmp_path / "t.yaml"
    trial.write_text(TRIAL.replace("rule: {field: ecog, in: 0..2}", "rule: {attestation: informed_consent_signed}"),
                     encoding="utf-8")
    side = tmp_path / "att.csv"
    side.write_text("person_id,attestation,value\n1,informed_consent_signed,yes\n2,informed_consent_signed,no\n")
    source = to_parquet(CDM(tmp_path / "cdm").person(1).person(2).person(3).write(), tmp_path / "pq")
    options = ["--trial", str(trial), "--attestations", str(side)]
    duck = screen("duckdb", source, options, tmp_path, out_name="out.parquet")
    spark_run = screen("spark", source, options, tmp_path, out_name="out.parquet")
    assert spark_run[0] == duck[0] == 0 and spark_run[2] == duck[2]
    query = "SELECT * FROM read_parquet('{}')"
    got = duckdb.sql(query.format(tmp_path / "spark-out.parquet"))
    want = duckdb.sql(query.format(tmp_path / "duckdb-out.parquet"))
    assert got.columns == want.columns and got.fetchall() == want.fetchall()


def test_csv_tables_read_by_spark_give_the_same_bytes(spark, trials, tmp_path):
    folder = labs_cdm(tmp_path).write()
    duck = screen("duckdb", folder, trials, tmp_path)
    assert screen("spark", folder, trials, tmp_path) == duck


def test_the_synthea_sample_gives_the_same_bytes(spark, tmp_path):
    source = to_parquet(SAMPLE, tmp_path / "pq")
    code, out, summary = same_on_both(source, [], tmp_path, as_of="2022-10-01")
    assert summary["rows_in"] == 28 and out.count(b"\n") > 28


@pytest.mark.parametrize("make, message", [
    (lambda d: d.mkdir(), "has no PERSON table"),
    (lambda d: None, "no such folder or Spark catalog schema"),
    (lambda d: (d.mkdir(), (d / "PERSON.csv").write_text("a,b\n1,2\n")), "has no person_id column"),
    (lambda d: (d.mkdir(), (d / "PERSON.csv").write_text("person_id,year_of_birth\nx1,1960\n")),
     "person.person_id holds a value that is not its CDM type"),
    (lambda d: (d.mkdir(), (d / "person.parquet").write_text("not parquet")), "cannot be read"),
])
def test_a_source_that_cannot_be_read_is_one_sentence(spark, tmp_path, trials, make, message):
    folder = tmp_path / "bad"
    make(folder)
    result = CliRunner().invoke(app, ["omop", str(folder), *trials, "--as-of", AS_OF, "--engine", "spark", "-q"])
    assert result.exit_code == 65
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_every_golden_case_and_example_round_trips_through_spark(spark, tmp_path):
    """The round trip of tests/test_omop_roundtrip.py on Spark: the records of each trial and as-of
    date exported as one CDM, screened by both engines (the same bytes), and each person's verdict
    and statuses from Spark the ones its JSON record gets."""
    from collections import defaultdict
    from datetime import date

    from test_omop_roundtrip import _from_json, _patients
    from trialscreen.criteria.library import load_trial
    from trialscreen.omop.export import export_records

    groups: dict = defaultdict(list)
    for case in _patients():
        trial_id, record, as_of = case.values
        groups[(trial_id, str(as_of) if as_of else "2025-06-01")].append(record)
    checked = 0
    for n, ((trial_id, as_of), records) in enumerate(sorted(groups.items())):
        folder = tmp_path / f"group{n}"
        export_records(records, folder / "csv", as_of=date.fromisoformat(as_of))
        source = to_parquet(folder / "csv", folder / "pq")
        options = ["--trial", trial_id, "--attestations", str(folder / "csv" / "attestations.csv")]
        code, out, _ = same_on_both(source, options, folder, out_name="out.jsonl", as_of=as_of)
        assert code == 0
        trial = load_trial(trial_id)
        for line in out.decode("utf-8").splitlines():
            row = json.loads(line)
            record = records[int(row["patient"]["id"]) - 1]
            got = (row["verdict"], {c["id"]: c["status"] for c in row["criteria"]})
            assert got == _from_json(trial, record, date.fromisoformat(as_of)), record.get("id")
            checked += 1
    assert checked == sum(len(r) for r in groups.values()) == 58
