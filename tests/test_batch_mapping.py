"""The --columns mapping says everything an export needs, and problems are found up front
(issue 14, items 1 and 2): each problem a data manager met with real exports, as a test of what
the batch writes (statuses, verdicts, error cells, the summary) and the exit code."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

TRIAL = "NCT05378971"
AS_OF = "2025-06-02"
# the I5 labs of NCT05378971 (ALT and AST < 3 x ULN, bilirubin <= 35 umol/L, creatinine < 177
# umol/L, ANC > 1.0, platelets > 75 x10^9/L) and ECOG (I4: 0-3), as a registry writes them
HEADER = ["PID", "ECOG", "ALT", "ALT_ULN", "AST", "AST_ULN", "BILI", "CREA", "ANC", "PLT", "LAB_TS", "B2M", "COMMENT"]
ROW = ["P1", "1", "30", "40", "28", "40", "10", "90", "2.1", "180", "2025-05-28 08:15:00", "3.1", "fine"]
BASE_MAP = """\
delimiter: tab
columns:
  PID: id
  ECOG: ecog
  ALT: {field: alt, unit: U/L}
  ALT_ULN: {field: alt_uln}
  AST: {field: ast, unit: U/L}
  AST_ULN: {field: ast_uln}
  BILI: {field: bilirubin, unit: umol/L, date_from: LAB_TS}
  CREA: {field: creatinine, unit: umol/L, date_from: LAB_TS}
  ANC: {field: anc, unit: x10^9/L, date_from: LAB_TS}
  PLT: {field: platelets, unit: x10^9/L, date_from: LAB_TS}
  B2M: {field: b2m, unit: mg/L}
  COMMENT: null
"""
# ALT and AST are dated by the file's lab_date: LAB_TS serves both ways
BASE_MAP = BASE_MAP.replace("  COMMENT: null\n", "  COMMENT: null\n  LAB_TS: lab_date\n")


def _row(changes: dict | None = None, header=HEADER, base=ROW) -> list[str]:
    row = list(base)
    for column, value in (changes or {}).items():
        row[header.index(column)] = value
    return row


def _write(tmp_path: Path, rows: list[list[str]], header=HEADER, delimiter="\t", encoding="utf-8",
           name="export.tsv", first_line: str | None = None) -> Path:
    text = io.StringIO()
    if first_line:
        text.write(first_line + "\r\n")
    w = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path = tmp_path / name
    path.write_bytes(text.getvalue().encode(encoding, errors="surrogateescape"))
    return path


def _mapping(tmp_path: Path, text: str, name="map.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def screen(run, tmp_path: Path, rows, mapping: str, *args, header=HEADER, **write):
    """(output rows by id, summary, stderr, exit code) of a batch with the mapping."""
    path = _write(tmp_path, rows, header, **write)
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = run("batch", path, "--columns", _mapping(tmp_path, mapping), "--trial", TRIAL, "--as-of", AS_OF,
                 "--out", out, "--summary", summary, *args)
    data = json.loads(summary.read_text(encoding="utf-8") or "{}") if summary.exists() else {}
    got = {r["id"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))} if out.exists() else {}
    return got, data, " ".join(result.stderr.split()), result.exit_code


def test_the_base_export_reads_clean(run, tmp_path):
    got, summary, err, code = screen(run, tmp_path, [_row()], BASE_MAP)
    assert code == 0, err
    assert got["P1"]["I5"] == "pass" and got["P1"]["I4"] == "pass"
    assert summary["error_rows"] == 0 and summary["unusable_cells"] == 0


def test_a_bad_cell_in_a_column_no_trial_reads_is_no_error(run, tmp_path):
    """B2M is read by no selected trial: its junk is never parsed, and it is named once."""
    rows = [_row({"B2M": "hämolytisch", "PID": f"P{i}"}) for i in range(3)]
    got, summary, err, code = screen(run, tmp_path, rows, BASE_MAP)
    assert code == 0, err
    assert {r["verdict"] for r in got.values()} != {"error"} and summary["error_rows"] == 0
    assert summary["unused_columns"] == ["B2M"]
    assert err.count("note: 1 column is not used by NCT05378971: B2M") == 1


def test_every_bad_cell_of_a_row_is_reported(run, tmp_path):
    rows = [_row({"ECOG": "seven", "LAB_TS": "28/05/2025", "ALT_ULN": "forty"})]
    got, summary, err, code = screen(run, tmp_path, rows, BASE_MAP)
    assert code == 1
    message = got["P1"]["error"]
    assert got["P1"]["verdict"] == "error"
    for column in ("ECOG", "LAB_TS"):
        assert f"column '{column}'" in message, message
    assert message.startswith("row 2, column ")


def test_constants_give_every_row_a_value(run, tmp_path):
    """'All these patients have multiple myeloma': the diagnosis criterion reads the constant."""
    mapping = BASE_MAP + "constants:\n  diagnosis: multiple myeloma\n  diagnosis.symptomatic: yes\n"
    with_const, _, err, code = screen(run, tmp_path, [_row()], mapping)
    without, _, _, _ = screen(run, tmp_path, [_row()], BASE_MAP)
    assert code == 0, err
    assert without["P1"]["missing"].startswith("diagnoses (the complete list")
    missing = with_const["P1"]["missing"].split("; ")
    assert not any(m.startswith("diagnoses (") for m in missing) and "diagnoses[0].symptomatic" not in missing
    assert "diagnoses[0].status" in " ".join(missing)      # what the constants do not say is still to fetch


def test_a_constant_naming_nothing_is_a_mapping_error(run, tmp_path):
    mapping = BASE_MAP + "constants:\n  diagnosys: multiple myeloma\n"
    _, _, err, code = screen(run, tmp_path, [_row()], mapping)
    assert code == 65
    assert "map.yaml:" in err and "constant 'diagnosys'" in err and "did you mean 'diagnosis'" in err


@pytest.mark.parametrize("cell,status", [("-1", "unknown"), ("NA", "unknown"), ("1", "pass")])
def test_a_missing_code_for_one_column(run, tmp_path, cell, status):
    """'-1' means not done in the ECOG column only; in another column it stays a value."""
    mapping = BASE_MAP.replace("  ECOG: ecog\n", "  ECOG: {field: ecog, missing: [\"-1\"]}\n")
    got, _, err, code = screen(run, tmp_path, [_row({"ECOG": cell})], mapping)
    assert code == 0, err
    assert got["P1"]["I4"] == status
    if status == "unknown":
        assert "ecog" in got["P1"]["missing"]


def test_missing_adds_to_the_default_tokens_and_missing_only_replaces_them(run, tmp_path):
    rows = [_row({"PID": "P1", "ECOG": "n/a"}), _row({"PID": "P2", "ECOG": "ND_9"})]
    added, _, err, code = screen(run, tmp_path, rows, BASE_MAP + "missing: [ND_9]\n")
    assert code == 0, err
    assert added["P1"]["I4"] == added["P2"]["I4"] == "unknown"      # n/a still missing, ND_9 too
    only, _, _, code = screen(run, tmp_path, rows, BASE_MAP + "missing_only: [ND_9]\n")
    assert only["P2"]["I4"] == "unknown"
    assert only["P1"]["verdict"] == "error" and "ECOG" in only["P1"]["error"]   # n/a is now a value


@pytest.mark.parametrize("fmt,cell", [
    ("dd.mm.yyyy", "28.05.2025"), ("dd.mm.yyyy hh:mm", "28.05.2025 08:15"), ("%d/%m/%Y", "28/05/2025"),
    ("mm/dd/yyyy", "05/28/2025"), (None, "2025-05-28T08:15:00"), (None, "2025-05-28 08:15"),
    ("dd.mm.yyyy", "28.05.2025 08:15:00"),
])
def test_date_formats_and_timestamps(run, tmp_path, fmt, cell):
    mapping = BASE_MAP + (f"date_format: \"{fmt}\"\n" if fmt else "")
    got, _, err, code = screen(run, tmp_path, [_row({"LAB_TS": cell})], mapping, "--format", "csv")
    assert code == 0, err
    assert got["P1"]["I5"] == "pass"


@pytest.mark.parametrize("zone,as_of,status", [
    # 2025-05-05T22:30Z is 6 May in Berlin: 28 days before the 2 June as-of date is 5 May
    ("Europe/Berlin", "2025-06-02", "pass"), ("America/New_York", "2025-06-02", "unknown"),
])
def test_a_timestamp_with_a_zone_is_the_site_date(run, tmp_path, zone, as_of, status):
    mapping = BASE_MAP + f"timezone: {zone}\n"
    got, _, err, code = screen(run, tmp_path, [_row({"LAB_TS": "2025-05-04T22:30:00Z"})], mapping)
    assert code == 0, err
    assert got["P1"]["I5"] == status, got["P1"]["missing"]


def test_a_timestamp_with_a_zone_and_no_timezone_is_an_error_for_its_cell(run, tmp_path):
    got, _, _, code = screen(run, tmp_path, [_row({"LAB_TS": "2025-05-28T08:15:00+02:00"})], BASE_MAP)
    assert code == 1 and "timezone" in got["P1"]["error"] and "LAB_TS" in got["P1"]["error"]


@pytest.mark.parametrize("cell,scale,status", [("0.18", "1000", "pass"), ("0.07", "1000", "fail"),
                                               ("180000", "0.001", "pass")])
def test_unit_and_scale(run, tmp_path, cell, scale, status):
    """Platelets written in thousands (0.18 for 180 x10^9/L with a scale of 1000)."""
    mapping = BASE_MAP.replace("PLT: {field: platelets, unit: x10^9/L, date_from: LAB_TS}",
                               f"PLT: {{field: platelets, unit: x10^9/L, scale: {scale}, date_from: LAB_TS}}")
    got, _, err, code = screen(run, tmp_path, [_row({"PLT": cell})], mapping)
    assert code == 0, err
    assert got["P1"]["I5"] == status


def test_a_decimal_comma_in_one_column_only(run, tmp_path):
    mapping = BASE_MAP.replace("ANC: {field: anc, unit: x10^9/L, date_from: LAB_TS}",
                               "ANC: {field: anc, unit: x10^9/L, date_from: LAB_TS, decimal_comma: true}")
    rows = [_row({"PID": "P1", "ANC": "2,1", "BILI": "10.5"}), _row({"PID": "P2", "ANC": "0,9"})]
    got, _, err, code = screen(run, tmp_path, rows, mapping)
    assert code == 0, err
    assert got["P1"]["I5"] == "pass" and got["P2"]["I5"] == "fail"
    # the same comma in another column is still refused: a decimal point file
    got, _, _, code = screen(run, tmp_path, [_row({"BILI": "10,5"})], mapping)
    assert code == 1 and "BILI" in got["P1"]["error"]


@pytest.mark.parametrize("cell,flag,status", [
    ("40", "N", "pass"), ("40", "", "pass"), ("100", "H", "pass"),
    ("150", "N", "unknown"),       # the flag says normal, but 150 is above the ULN 40: nobody guesses
    ("30", "H", "unknown"),        # the flag says high, the value is within range
    ("30", "??", "unknown"),       # a flag nobody can read
    ("130", "H", "fail"),          # 130 > 3 x 40 = 120, and high indeed
])
def test_a_reference_range_cell_and_a_flag(run, tmp_path, cell, flag, status):
    header = HEADER + ["ALT_RANGE", "ALT_FLAG"]
    mapping = BASE_MAP.replace("  ALT_ULN: {field: alt_uln}\n", "  ALT_ULN: null\n") + \
        "  ALT_RANGE: {reference_range: alt}\n  ALT_FLAG: {flag: alt}\n"
    mapping = mapping.replace("constants", "constants")
    row = _row({"ALT": cell}, header, ROW + ["7-40", flag])
    got, summary, err, code = screen(run, tmp_path, [row], mapping, header=header)
    assert code == 0, err
    assert got["P1"]["I5"] == status, got["P1"]["missing"]
    if status == "unknown":
        assert "ALT_FLAG" in got["P1"]["missing"] or "ALT_FLAG" in err


@pytest.mark.parametrize("cell,status", [("7-40", "pass"), ("7 - 40 U/L", "pass"), ("<40", "pass"),
                                         ("see report", "unknown"), ("7-10", "fail")])
def test_reference_range_spellings(run, tmp_path, cell, status):
    header = HEADER + ["ALT_RANGE"]
    mapping = BASE_MAP.replace("  ALT_ULN: {field: alt_uln}\n", "  ALT_ULN: null\n") + \
        "  ALT_RANGE: {reference_range: alt}\n"
    got, _, err, code = screen(run, tmp_path, [_row({}, header, ROW + [cell])], mapping, header=header)
    assert code == 0, err
    assert got["P1"]["I5"] == status


def test_date_from_dates_each_lab_it_names(run, tmp_path):
    """An old LAB_TS makes the labs it dates too old for the 28-day window: unknown, not pass."""
    got, _, err, code = screen(run, tmp_path, [_row({"LAB_TS": "2025-01-02 08:00:00"})], BASE_MAP)
    assert code == 0, err
    assert got["P1"]["I5"] == "unknown"
    assert "creatinine" in got["P1"]["missing"]


def test_ignore_unmapped(run, tmp_path):
    """Columns the mapping does not list are not used, even those named like the convention."""
    header = HEADER + ["ecog_2", "creatinine"]
    mapping = BASE_MAP + "ignore_unmapped: true\n"
    got, summary, err, code = screen(run, tmp_path, [_row({}, header, ROW + ["x", "garbage"])], mapping,
                                     header=header)
    assert code == 0, err
    assert got["P1"]["I5"] == "pass"
    assert "not recognised" not in err
    assert "2 columns are not in the mapping and are not used (ignore_unmapped): ecog_2, creatinine" in err


def test_a_cp1252_byte_in_a_column_no_trial_reads(run, tmp_path):
    """A Windows-1252 byte in the comment column (mapped to null) errors nothing."""
    got, summary, err, code = screen(run, tmp_path, [_row({"COMMENT": "R\udce9sum\udce9"})], BASE_MAP)
    assert code == 0, err
    assert got["P1"]["verdict"] != "error"


@pytest.mark.parametrize("how", ["mapping", "option"])
def test_the_file_encoding(run, tmp_path, how):
    """A cp1252 export: its header and cells are read as cp1252 when the mapping or --encoding says so."""
    header = HEADER[:-1] + ["Prüfarzt"]
    mapping = BASE_MAP.replace("  COMMENT: null\n", "  Prüfarzt: null\n")
    extra: tuple = ()
    if how == "mapping":
        mapping += "encoding: cp1252\n"
    else:
        extra = ("--encoding", "cp1252")
    rows = [_row({"Prüfarzt": "Dr. Müller"}, header)]
    got, _, err, code = screen(run, tmp_path, rows, mapping, *extra, header=header, encoding="cp1252")
    assert code == 0, err
    assert got["P1"]["I5"] == "pass"
    # without it, the header is refused with what to do
    _, _, err, code = screen(run, tmp_path, rows, BASE_MAP.replace("  COMMENT: null\n", ""), header=header,
                             encoding="cp1252")
    assert code == 65 and "--encoding cp1252" in err


def test_haemoglobin_in_mmol_per_litre_is_accepted(run, tmp_path):
    """NCT00480363 reads haemoglobin: 7.5 mmol/L is 12.1 g/dL, a unit the mapping can name."""
    header = HEADER + ["HB", "HB_LLN"]
    mapping = BASE_MAP + "  HB: {field: hemoglobin, unit: mmol/L, date_from: LAB_TS}\n  HB_LLN: {field: hemoglobin_lln, unit: mmol/L}\n"
    path = _write(tmp_path, [_row({}, header, ROW + ["7.5", "7.4"])], header)
    out = tmp_path / "o.csv"
    result = run("batch", path, "--columns", _mapping(tmp_path, mapping), "--trial", "NCT00480363",
                 "--as-of", AS_OF, "--out", out)
    assert result.exit_code in (0, 1), result.stderr
    assert "mmol/L" not in result.stderr
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["verdict"] != "error" and "hemoglobin" not in row["missing"]


def test_the_mapping_is_checked_against_the_header_first(run, tmp_path):
    """Every problem, once, with the mapping's file and line; no row is screened."""
    mapping = BASE_MAP.replace("  ECOG: ecog\n", "  ECOG: ecgo\n").replace(
        "CREA: {field: creatinine, unit: umol/L, date_from: LAB_TS}",
        "CREA: {field: creatinine, unit: mmHg, date_from: LAB_TS}") + "  PLATELETS_X: platelets\n"
    got, _, err, code = screen(run, tmp_path, [_row()], mapping)
    assert code == 65 and not got
    lines = {line: n for n, line in enumerate(mapping.splitlines(), 1)}
    assert f"map.yaml:{lines['  ECOG: ecgo']}" in err and "'ecgo'" in err and "did you mean 'ecog'" in err
    crea = next(n for line, n in lines.items() if line.startswith("  CREA:"))
    assert f"map.yaml:{crea}" in err and "mmHg" in err
    assert f"map.yaml:{lines['  PLATELETS_X: platelets']}" in err and "PLATELETS_X" in err
    assert err.count("trialscreen: error:") == 3


def test_an_unknown_key_says_did_you_mean(run, tmp_path):
    _, _, err, code = screen(run, tmp_path, [_row()], BASE_MAP + "date_fromat: dd.mm.yyyy\n")
    assert code == 65 and "date_fromat" in err and "did you mean 'date_format'" in err


def test_many_rows_with_one_warning_are_one_line(run, tmp_path):
    """249 rows whose ANC cell cannot be used are one summary line, not 249."""
    rows = [_row({"PID": f"P{i}", "ANC": "lots"}) for i in range(249)]
    got, summary, err, code = screen(run, tmp_path, rows, BASE_MAP)
    assert code == 0, err
    assert summary["unusable_cells"] == 249
    anc = [w for w in summary["warnings"] if "ANC" in w]
    assert len(anc) == 1 and "249 rows (2, 3, 4, 5, 6 and 244 more)" in anc[0]


# --- review of the mapping (review-mapping.md): each finding as what a user sees ---

def _columns_json(run, tmp_path, rows, mapping: str, header=HEADER) -> tuple[dict, int]:
    """`trialscreen columns` of the export as JSON, and its exit code."""
    path = _write(tmp_path, rows, header)
    result = run("columns", path, "--columns", _mapping(tmp_path, mapping), "--trial", TRIAL, "-f", "json")
    return json.loads(result.stdout or "{}"), result.exit_code


def _line_of(mapping: str, start: str) -> int:
    return next(n for n, line in enumerate(mapping.splitlines(), 1) if line.startswith(start))


_CREA_TS = "  CREA: {field: creatinine, unit: umol/L, date_from: LAB_TS}\n"


@pytest.mark.parametrize("own,cell", [
    # the lab system writes dd/mm: 06/02/2025 is 6 February, stale on 2 June; the file's dates are US
    ("date_format: dd/mm/yyyy", "06/02/2025"),
    # 20:00Z on 4 May is 4 May in New York (stale), 5 May in Tokyo (the file's zone, within 28 days)
    ("timezone: America/New_York", "2025-05-04T20:00:00Z"),
])
def test_a_lab_entrys_date_format_and_timezone_are_its_date_columns(run, tmp_path, own, cell):
    header = HEADER + ["CREA_TS"]
    mapping = BASE_MAP.replace(_CREA_TS, f"  CREA: {{field: creatinine, unit: umol/L, {own}, date_from: CREA_TS}}\n")
    mapping += "date_format: mm/dd/yyyy\n" if "date_format" in own else "timezone: Asia/Tokyo\n"
    lab_ts = "05/28/2025 08:15:00" if "date_format" in own else ROW[HEADER.index("LAB_TS")]
    row = _row({"LAB_TS": lab_ts}, header, ROW + [cell])
    got, _, err, code = screen(run, tmp_path, [row], mapping, header=header)
    assert code == 0, err
    assert got["P1"]["verdict"] == "needs_review" and got["P1"]["I5"] == "unknown"
    assert "labs.creatinine (fetch a current creatinine" in got["P1"]["missing"]
    report, code = _columns_json(run, tmp_path, [row], mapping, header)
    crea_ts = next(c for c in report["columns"] if c["column"] == "CREA_TS")
    assert code == 0 and crea_ts["samples"][0]["read"] == ("2025-02-06" if "date_format" in own else "2025-05-04")


def test_a_date_format_given_twice_for_one_date_column_is_a_mapping_problem(run, tmp_path):
    header = HEADER + ["CREA_TS"]
    mapping = BASE_MAP.replace(
        _CREA_TS, "  CREA: {field: creatinine, unit: umol/L, date_format: dd/mm/yyyy, date_from: CREA_TS}\n"
        "  CREA_TS: {field: null, date_format: mm/dd/yyyy}\n")
    got, _, err, code = screen(run, tmp_path, [_row({}, header, ROW + ["06/02/2025"])], mapping, header=header)
    assert code == 65 and not got
    assert f"map.yaml:{_line_of(mapping, '  CREA:')}" in err and "'CREA_TS', whose own entry gives another" in err


@pytest.mark.parametrize("extra,entries,message", [
    # ALT_ULN says 40, the range 25: whichever column came later won, and flipped the verdict
    (["ALT_RANGE"], "  ALT_RANGE: {reference_range: alt}\n", "columns 'ALT_ULN' and 'ALT_RANGE' both hold alt.uln"),
    (["ALT_LLN", "ALT_RANGE"], "  ALT_LLN: {field: alt_lln}\n  ALT_RANGE: {reference_range: alt}\n",
     "columns 'ALT_LLN' and 'ALT_RANGE' both hold alt.lln"),
    (["ALT_RANGE", "ALT_RANGE_2"], "  ALT_RANGE: {reference_range: alt}\n  ALT_RANGE_2: {reference_range: alt}\n",
     "columns 'ALT_RANGE' and 'ALT_RANGE_2' both hold the reference range of alt"),
])
def test_a_reference_range_beside_the_labs_limit_is_a_duplicate(run, tmp_path, extra, entries, message):
    header = HEADER + extra
    mapping = BASE_MAP + entries
    if "ALT_ULN" not in message:
        mapping = mapping.replace("  ALT_ULN: {field: alt_uln}\n", "  ALT_ULN: null\n")
    cells = {"ALT_RANGE": "0-25", "ALT_RANGE_2": "0-25", "ALT_LLN": "7"}
    row = _row({"ALT": "100"}, header, ROW + [cells[c] for c in extra])
    got, _, err, code = screen(run, tmp_path, [row], mapping, header=header)
    assert code == 65 and not got
    where = "ALT_RANGE_2" if "ALT_RANGE_2" in extra else "ALT_RANGE"
    assert f"map.yaml:{_line_of(mapping, '  ' + where + ':')}" in err and message in err, err


def _with_entry(entry: str) -> tuple:
    """(the entry's header with its colon, BASE_MAP with that header's line replaced by ``entry``)."""
    start = entry.split(":")[0] + ":"
    return start, "".join(entry if line.startswith(start) else line for line in BASE_MAP.splitlines(keepends=True))


@pytest.mark.parametrize("entry,message", [
    # 2.5 mg/dL is 221 umol/L (fails creatinine < 177 umol/L); scaled by 0.1 it passed
    ("  CREA: {field: creatinine, scale: 0.1, date_from: LAB_TS}\n",
     "column 'CREA': scale multiplies bare numbers: give their unit too"),
    ("  ECOG: {field: ecog, scale: 2}\n", "column 'ECOG' has a scale, but its cells are not numbers with a unit"),
])
def test_scale_needs_the_unit_of_the_numbers_it_multiplies(run, tmp_path, entry, message):
    start, mapping = _with_entry(entry)
    got, _, err, code = screen(run, tmp_path, [_row({"CREA": "2.5 mg/dL"})], mapping)
    assert code == 65 and not got
    assert f"map.yaml:{_line_of(mapping, start)}" in err and message in err, err


def test_a_scaled_range_cell_with_its_own_unit_is_not_scaled(run, tmp_path):
    header = HEADER + ["ALT_RANGE"]
    mapping = BASE_MAP.replace("  ALT_ULN: {field: alt_uln}\n", "  ALT_ULN: null\n") + \
        "  ALT_RANGE: {reference_range: alt, unit: U/L, scale: 10}\n"
    got, _, err, code = screen(run, tmp_path, [_row({"ALT": "100"}, header, ROW + ["0-4 U/L"])], mapping,
                               header=header)
    assert code == 1 and got["P1"]["verdict"] == "error"
    assert "column 'ALT_RANGE'" in got["P1"]["error"] and "never scaled" in got["P1"]["error"]
    got, _, err, code = screen(run, tmp_path, [_row({"ALT": "100"}, header, ROW + ["0-4"])], mapping, header=header)
    assert code == 0 and got["P1"]["I5"] == "pass", err     # 0-40 U/L: 100 < 3 x 40


@pytest.mark.parametrize("file_format,own,cell,fixed", [
    ('decimal_comma: true\nthousands: "."\n', "decimal_comma: false", "90.5", "thousands: null"),
    ('thousands: ","\n', "decimal_comma: true", "90,5", 'thousands: "."'),
])
def test_a_columns_decimal_mark_against_the_files_thousands(run, tmp_path, file_format, own, cell, fixed):
    """It was a KeyError on every cell (exit 70); now the mapping's line says what to add."""
    entry = f"  CREA: {{field: creatinine, unit: umol/L, {own}, date_from: LAB_TS}}\n"
    mapping = BASE_MAP.replace(_CREA_TS, entry) + file_format
    row = _row({"CREA": cell, "ANC": "2,1" if "true" in file_format else "2.1"})
    got, _, err, code = screen(run, tmp_path, [row], mapping)
    assert code == 65 and not got
    assert f"map.yaml:{_line_of(mapping, '  CREA:')}" in err and "give the column its own thousands too" in err
    result = run("columns", tmp_path / "export.tsv", "--columns", tmp_path / "map.yaml")
    assert result.exit_code == 65 and "internal error" not in result.stderr
    got, _, err, code = screen(run, tmp_path, [row], mapping.replace(entry, entry.replace(own, f"{own}, {fixed}")))
    assert code == 0 and got["P1"]["I5"] == "pass", err


@pytest.mark.parametrize("option,message,exit_code", [
    ("delimiter: [tab]", "delimiter must be one of comma, tab, semicolon, pipe", 2),
    ("delimiter: {a: 1}", "delimiter must be one of comma, tab, semicolon, pipe", 2),
    ("encoding: rot13", "encoding 'rot13' is not a text encoding", 2),
    ("encoding: base64", "encoding 'base64' is not a text encoding", 2),
    ("encoding: utf-16", "cannot be read as utf-16 at or after line 1: UTF-16 stream does not start with BOM", 65),
])
@pytest.mark.parametrize("command", ["batch", "columns"])
def test_odd_delimiters_and_encodings_are_a_sentence_not_a_crash(run, tmp_path, command, option, message,
                                                                 exit_code):
    path = _write(tmp_path, [_row()], encoding="utf-16-le")      # no byte order mark
    mapping = _mapping(tmp_path, BASE_MAP.replace("delimiter: tab\n", "") + option + "\n")
    extra = ("--as-of", AS_OF, "--out", tmp_path / "o.csv") if command == "batch" else ()
    result = run(command, path, "--columns", mapping, "--trial", TRIAL, *extra)
    err = " ".join(result.stderr.split())
    assert result.exit_code == exit_code and "internal error" not in err, err
    assert message in err and (f"map.yaml:{_line_of(mapping.read_text(), option)}" in err or exit_code == 65), err


@pytest.mark.parametrize("name,message", [("base64", "encoding 'base64' is not a text encoding"),
                                          ("utf-16", "UTF-16 stream does not start with BOM")])
def test_odd_encodings_on_the_command_line(run, tmp_path, name, message):
    path = _write(tmp_path, [_row()], encoding="utf-16-le")
    result = run("batch", path, "--columns", _mapping(tmp_path, BASE_MAP), "--encoding", name, "--trial", TRIAL,
                 "--out", tmp_path / "o.csv")
    err = " ".join(result.stderr.split())
    assert result.exit_code in (2, 65) and "internal error" not in err and message in err, err
    if name == "utf-16":
        assert "--encoding utf-16-le" in err


@pytest.mark.parametrize("entry,message", [
    ('  ECOG: {missing: ["-1"]}\n', "the mapping of 'ECOG' says how its cells are written but not what they hold: "
     "give field:"),
    ("  CREA: {decimal_comma: true, date_from: LAB_TS}\n", "the mapping of 'CREA' says how its cells are written"),
])
def test_an_entry_of_format_keys_only_needs_its_field(run, tmp_path, entry, message):
    """It was dropped as if mapped to null: the ECOG column the user configured went unknown."""
    start, mapping = _with_entry(entry)
    got, _, err, code = screen(run, tmp_path, [_row({"ECOG": "-1"})], mapping)
    assert code == 65 and not got
    assert f"map.yaml:{_line_of(mapping, start)}" in err and message in err, err
    report, code = _columns_json(run, tmp_path, [_row()], mapping)
    assert code == 65 and next(c for c in report["columns"] if c["column"] == start.strip(" :"))["status"] == "problem"


def test_null_and_a_date_columns_own_format_need_no_field(run, tmp_path):
    header = HEADER + ["CREA_TS"]
    mapping = BASE_MAP.replace(_CREA_TS, "  CREA: {field: creatinine, unit: umol/L, date_from: CREA_TS}\n"
                               "  CREA_TS: {date_format: dd/mm/yyyy}\n")
    got, _, err, code = screen(run, tmp_path, [_row({}, header, ROW + ["06/02/2025"])], mapping, header=header)
    assert code == 0, err
    assert got["P1"]["I5"] == "unknown" and "fetch a current creatinine" in got["P1"]["missing"]
    got, _, err, code = screen(run, tmp_path, [_row({"COMMENT": "x"})], BASE_MAP)     # COMMENT: null
    assert code == 0, err


@pytest.mark.parametrize("header_name,entry,cell,message", [
    ("ALT_ULN", "  ALT_ULN: {field: alt_uln, unit: mg/dL}\n", "40", "the unit of 'ALT_ULN' cannot be used"),
    ("ALT_ULN", "  ALT_ULN: {field: alt_uln, unit: mmol/L}\n", "40", "the unit of 'ALT_ULN' cannot be used"),
    ("WT", "  WT: {field: weight, unit: stone}\n", "64", "the unit of 'WT' cannot be used: unknown unit 'stone'"),
    ("HT", "  HT: {field: height, unit: kg}\n", "170", "the unit of 'HT' cannot be used"),
])
def test_the_unit_of_a_limit_or_a_body_measure_is_checked_before_any_row(run, tmp_path, header_name, entry, cell,
                                                                         message):
    header = HEADER + ([header_name] if header_name != "ALT_ULN" else [])
    mapping = "".join(entry if line.startswith("  ALT_ULN:") and header_name == "ALT_ULN" else line
                      for line in BASE_MAP.splitlines(keepends=True)) + ("" if header_name == "ALT_ULN" else entry)
    row = _row({}, header, ROW + ([cell] if header_name != "ALT_ULN" else []))
    got, _, err, code = screen(run, tmp_path, [row], mapping, header=header)
    assert code == 65 and not got
    assert f"map.yaml:{_line_of(mapping, '  ' + header_name + ':')}" in err and message in err, err
    _, code = _columns_json(run, tmp_path, [row], mapping, header)
    assert code == 65
    ok = mapping.replace("unit: stone", "unit: lb").replace("height, unit: kg", "height, unit: in")
    if ok != mapping:
        got, _, err, code = screen(run, tmp_path, [row], ok, header=header)
        assert code == 0, err


@pytest.mark.parametrize("entry,value,hint", [
    ("  SEX: {field: sex, values: {1: male, 2: femal}}\n", "femal", "did you mean 'female'?"),
    ("  FISH: {field: del(17p), values: {1: detetced, 0: not detected}}\n", "detetced", "did you mean 'detected'?"),
    ("  TC: {field: transplant_candidate, values: {1: yse, 0: no}}\n", "yse", "did you mean 'yes'?"),
])
def test_a_misspelt_coded_value_is_a_mapping_problem(run, tmp_path, entry, value, hint):
    """Every row was an error row (sex) or an unknown finding, one row after another."""
    name = entry.split(":")[0].strip()
    header = HEADER + [name]
    mapping = BASE_MAP + entry
    got, _, err, code = screen(run, tmp_path, [_row({}, header, ROW + ["2" if name == "SEX" else "1"])], mapping,
                               header=header)
    assert code == 65 and not got
    assert f"map.yaml:{_line_of(mapping, '  ' + name + ':')}" in err and f"'{value}' is not" in err and hint in err
    fixed = mapping.replace("femal}", "female}").replace("detetced", "detected").replace("yse", "yes")
    got, _, err, code = screen(run, tmp_path, [_row({}, header, ROW + ["2" if name == "SEX" else "1"])], fixed,
                               header=header)
    assert code == 0 and got["P1"]["verdict"] != "error", err
