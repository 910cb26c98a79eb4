"""Reading patient records: located errors, warnings, what counts as missing."""

import json
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT
from trialscreen.errors import PatientError
from trialscreen.patient.load import decode, parse_patient


def error_of(text):
    with pytest.raises(PatientError) as exc:
        parse_patient(text, "p.json")
    return exc.value


BAD = [
    # text, line, column, field, words
    ('{"id": "X", "ecog": 7}', 1, 21, "ecog", "not an ECOG grade 0 to 5"),
    ('{"id": "X",\n "age": 300}', 2, 9, "age", "outside the possible range"),
    ('{"id": "X", "labs": {"creatinine": {"value": 1.2, "units": "mg/dL"}}}', 1, 60, "labs.creatinine.units",
     "unknown key 'units'"),
    ('{"id": "X", "birth_date": "1960-02-30"}', 1, 27, "birth_date", "not a date"),
    ('{"id": "X", "birth_date": "2030-01-01", "as_of": "2025-01-01"}', 1, 27, "birth_date", "after the as-of"),
    ('{"id": "X", "cytogenetics": {"17p-": "detected", "del(17p)": "not detected"}}', 1, 62,
     "cytogenetics.del(17p)", "different results"),
    ('{"id": "X", "treatments": [{"type": "induction", "start": "2024-05-01", "end": "2024-01-01"}]}',
     1, 80, "treatments[0].end", "ends before it starts"),
    ('{"id": "X", "complete": ["everything"]}', 1, 26, "complete[0]", "not a list section"),
    ('{"id": "X", "weight": 70}', 1, 23, "weight", "needs a unit"),
    ('{"id": "X", "sex": "Q"}', 1, 20, "sex", "not a sex"),
]


# A value that cannot be read in a known field is not a refusal of the record: the
# record is screened, the criteria that need that value are unknown, and the warning
# says where the value is (file:line:column, field) and what is wrong with it.
UNREADABLE = [
    ('{"id": "X", "labs": {"platelets": "-5 x10^9/L"}}', 1, 35, "labs.platelets", "negative"),
    ('{"id": "X", "labs": {"creatinine": "1.2"}}', 1, 36, "labs.creatinine", "needs a unit"),
    ('{"id": "X", "labs": {"creatinine": "1.2 mmol/dL/x"}}', 1, 36, "labs.creatinine", "unit"),
    ('{"id": "X", "labs": {"hemoglobin": "6.2 mU/L"}}', 1, 36, "labs.hemoglobin", "ambiguous"),
    ('{"id": "X", "labs": {"creatinine": "1,2 mg/dL"}}', 1, 36, "labs.creatinine", "not a number"),
    ('{"id": "X", "labs": {"alt": {"value": 30, "unit": "U/L", "uln": "40 mg/dL"}}}', 1, 65,
     "labs.alt.uln", "cannot convert mg/dL to U/L"),
    ('{"id": "X", "cytogenetics": {"del(17p)": "maybe"}}', 1, 42, "cytogenetics.del(17p)", "cannot be read"),
    ('{"id": "X", "conditions": {"peripheral_neuropathy": {"grade": 9}}}', 1, 63,
     "conditions.peripheral_neuropathy.grade", "not a CTCAE grade"),
]


@pytest.mark.parametrize("text,line,col,field,words", UNREADABLE, ids=[b[3] + ":" + b[4] for b in UNREADABLE])
def test_unreadable_value_is_a_located_warning_not_a_refusal(text, line, col, field, words):
    patient = parse_patient(text, "p.json")
    found = [w for w in patient.warnings if w.location.field == field]
    assert found, [str(w) for w in patient.warnings]
    w = found[0]
    assert (w.location.line, w.location.column) == (line, col), str(w)
    assert words in str(w) and str(w).startswith(f"p.json:{line}:{col}")


@pytest.mark.parametrize("text,line,col,field,words", BAD, ids=[b[3] + ":" + b[4] for b in BAD])
def test_bad_value_is_located(text, line, col, field, words):
    err = error_of(text)
    assert (err.location.line, err.location.column) == (line, col), str(err)
    assert err.location.field == field
    assert words in str(err)
    assert str(err).startswith(f"p.json:{line}:{col}")


@pytest.mark.parametrize("text,words", [
    ("", "empty"),
    ("[1, 2]", "must be a JSON object"),
    ('{"labs": {}}', "no 'id'"),
    ('{"id": "X", "id": "Y"}', "duplicate key 'id'"),
    ('{"id": "X", "age": NaN}', "not a number"),
    ('{"id": "X", "age": Infinity}', "not a number"),
    ('{"id": "X", "age": 1e999}', "not a number"),
    ('{"id": "X",', "invalid JSON"),
])
def test_malformed_records(text, words):
    assert words in str(error_of(text))


def test_encodings():
    assert parse_patient(decode(b'\xef\xbb\xbf{"id": "X"}', "p"), "p").id == "X"
    assert parse_patient('{"id": "X",\r\n "ecog": 1}\r\n', "p").ecog == 1
    with pytest.raises(PatientError, match="UTF-16"):
        decode('{"id": "X"}'.encode("utf-16"), "p")
    with pytest.raises(PatientError, match="not UTF-8"):
        decode(b'{"id": "\xff"}', "p")


def test_unknown_names_are_warnings_and_leave_the_value_out():
    p = parse_patient('{"id": "X", "labs": {"creatinin": "1 mg/dL"}, "cytogenetics": {"del(17q)": "detected"},'
                      ' "colour": "red"}', "p.json")
    assert p.labs == {} and p.cytogenetics == {}
    texts = [str(w) for w in p.warnings]
    assert any("creatinin" in t and "did you mean 'creatinine'" in t for t in texts)
    assert any("del(17q)" in t for t in texts)
    assert any("unknown field 'colour'" in t for t in texts)


def test_synonyms_resolve_to_canonical_names():
    p = parse_patient('{"id": "X", "labs": {"total_bilirubin": "1 mg/dL", "plt": "150 K/uL",'
                      ' "neutrophils": "2000 cells/uL"}, "cytogenetics": {"IGH/FGFR3": "positive"}}', "p")
    assert set(p.labs) == {"bilirubin", "platelets", "anc"}
    assert p.cytogenetics["t(4;14)"].detected is True


def test_implied_findings():
    p = parse_patient('{"id": "X", "cytogenetics": {"amp(1q)": "detected", "t(11;14)": "not detected"}}', "p")
    assert p.cytogenetics["1q+"].detected is True
    assert "gain(1q)" not in p.cytogenetics
    q = parse_patient('{"id": "X", "cytogenetics": {"1q+": "not detected"}}', "p")
    assert q.cytogenetics["amp(1q)"].detected is False and q.cytogenetics["gain(1q)"].detected is False


def test_two_spellings_of_a_condition_are_both_kept():
    p = parse_patient('{"id": "X", "conditions": {"peripheral_sensory_neuropathy": {"present": true, "grade": 1},'
                      ' "peripheral_motor_neuropathy": {"present": true, "grade": 3}}}', "p")
    assert sorted(st.grade for st in p.conditions["peripheral_neuropathy"]) == [1, 3]


def test_examples_match_the_published_schema():
    import jsonschema
    schema = json.loads((ROOT / "src/trialscreen/patient/patient.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in EXAMPLES.glob("*.json"):
        jsonschema.validate(json.loads(path.read_text()), schema)


def test_library_never_imports_the_cli_framework():
    code = ("import sys, trialscreen\n"
            "from trialscreen import load_trial, load_patient, screen\n"
            "r = screen(load_trial('NCT05378971'), load_patient('examples/patients/NCT05378971-eligible.json'))\n"
            "assert r.verdict == 'eligible'\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click', 'trialscreen_cli')]\n"
            "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("lab,code,words", [
    ({"unusable": "two results of 2025-05-28 disagree", "date": "2025-05-28"}, 0,
     "creatinine: the recorded value cannot be used: two results of 2025-05-28 disagree"),
    ({"unusable": "", "date": "2025-05-28"}, 65, "is not the reason a lab cannot be used"),
    ({"unusable": "x", "value": "1.0 mg/dL"}, 65, "is not the reason a lab cannot be used"),
])
def test_a_record_can_say_why_a_lab_cannot_be_used(run, tmp_path, lab, code, words):
    record = json.loads((EXAMPLES / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    record["labs"]["creatinine"] = lab
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = run("screen", str(path), "--trial", "NCT05378971")
    assert result.exit_code == code and words in " ".join((result.stdout + result.stderr).split())
    if code == 0:
        assert "needs review" in result.stdout.lower()
