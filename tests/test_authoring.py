"""Authoring tools: the generated JSON Schema, validate's warnings, golden cases."""

import json

import pytest

from conftest import ROOT
from trialscreen.criteria.compile import compile_text
from trialscreen.criteria.lint import lint_trial
from trialscreen.criteria.schema import criteria_schema, missing_value_schemas

HEAD = "id: T1\ntitle: t\nsource: s\nversion: '1'\n"


def test_schema_file_is_the_generated_schema():
    committed = json.loads((ROOT / "criteria" / "criteria.schema.json").read_text())
    assert committed == criteria_schema(), "regenerate: trialscreen schema > criteria/criteria.schema.json"


def test_every_key_the_compiler_accepts_has_a_schema():
    assert missing_value_schemas() == []


def test_bundled_files_validate_against_the_schema_and_carry_the_modeline():
    import jsonschema
    import yaml
    schema = criteria_schema()
    for path in (ROOT / "criteria").glob("NCT*.yaml"):
        text = path.read_text()
        assert text.startswith("# yaml-language-server: $schema=criteria.schema.json"), path
        jsonschema.validate(yaml.safe_load(text), schema)


def test_schema_rejects_what_the_compiler_rejects():
    import jsonschema
    import yaml
    bad = yaml.safe_load(HEAD + "inclusion:\n  - id: I1\n    text: x\n    rule: {lab: alt, lt: 3 x ULN, colour: red}\n")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, criteria_schema())


def lint(rule: str, text: str = "x", note: str = ""):
    extra = f"    note: {note}\n" if note else ""
    trial = compile_text(HEAD + f"inclusion:\n  - id: I1\n    text: {text}\n{extra}    rule: {rule}\n", "t.yaml")
    return [p.message for p in lint_trial(trial)]


@pytest.mark.parametrize("rule,words", [
    ("{all: [{lab: creatinine, lt: 1 mg/dL}, {lab: creatinine, gt: 2 mg/dL}]}", "contradict"),
    ("{all: [{lab: creatinine, lt: 88.4 umol/L}, {lab: creatinine, ge: 1 mg/dL}]}", "contradict"),
    ("{all: [{field: age, ge: 80}, {field: age, lt: 18}]}", "contradict"),
    ("{field: age, gt: 150}", "no patient can have age"),
    ("{lab: platelets, lt: 0 x10^9/L}", "no lab value"),
])
def test_warnings(rule, words):
    assert any(words in m for m in lint(rule)), lint(rule)


@pytest.mark.parametrize("rule", [
    "{all: [{lab: creatinine, lt: 2 mg/dL}, {lab: creatinine, ge: 1 mg/dL}]}",
    "{all: [{lab: creatinine, le: 1 mg/dL}, {lab: creatinine, ge: 1 mg/dL}]}",
    "{field: age, between: [18, 80]}",
])
def test_no_false_warnings(rule):
    assert lint(rule) == []


def test_drift_between_text_and_logic():
    found = lint("{lab: creatinine, lt: 177 umol/L}", text="creatinine below 177 umol/L and ECOG 0-2")
    assert [m for m in found if "mentions" in m] == ["I1: the text mentions 0, which appears nowhere in the logic",
                                                     "I1: the text mentions 2, which appears nowhere in the logic"]
    assert lint("{lab: platelets, ge: 100000/mm3}", text="Platelet count >= 100,000/mm^3 within t(4;14)") == []
    assert lint("{attestation: ok}", text="for 4 weeks", note="the 4-week window is attested") == []


def test_bundled_library_has_no_warnings():
    from trialscreen.criteria.library import bundled_trials, load_trial

    for path in bundled_trials():
        assert lint_trial(load_trial(str(path))) == [], path


CASE_TRIAL = HEAD.replace("T1", "TCASE") + (
    "inclusion:\n"
    "  - id: I1\n    text: ECOG 0-2\n    rule: {field: ecog, in: 0..2}\n"
    "  - id: I2\n    text: consent\n    rule: {attestation: consent}\n"
    "    unreachable: {fail: the attestation is asked only of consenting patients}\n"
)


def write_case(folder, name, patient, verdict, statuses):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"description: {name}", "patient:"] + [f"  {k}: {json.dumps(v)}" for k, v in patient.items()]
    lines += ["expected:", f"  verdict: {verdict}", "  criteria:"] + [f"    {k}: {v}" for k, v in statuses.items()]
    (folder / f"{name}.yaml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def case_trial(tmp_path):
    path = tmp_path / "TCASE.yaml"
    path.write_text(CASE_TRIAL)
    return path


def test_cases_pass_and_cover(case_trial):
    from trialscreen.criteria.cases import check_trial

    cases = case_trial.parent / "cases" / "TCASE"
    write_case(cases, "ok", {"id": "a", "ecog": 1, "attestations": {"consent": True}}, "eligible",
               {"I1": "pass", "I2": "pass"})
    write_case(cases, "bad", {"id": "b", "ecog": 3}, "ineligible", {"I1": "fail", "I2": "unknown"})
    write_case(cases, "empty", {"id": "c"}, "needs_review", {"I1": "unknown", "I2": "unknown"})
    report = check_trial(case_trial)
    assert report.ok and len(report.cases) == 3
    assert report.gaps == []


def test_mismatches_and_gaps_are_reported(case_trial, run_cli):
    cases = case_trial.parent / "cases" / "TCASE"
    write_case(cases, "wrong", {"id": "a", "ecog": 1, "attestations": {"consent": True}}, "ineligible",
               {"I1": "fail"})
    result = run_cli("test", str(case_trial))
    assert result.exit_code == 1
    out = result.stdout
    assert "verdict: expected ineligible, got eligible" in out
    assert "I1: expected fail, got pass" in out
    assert "I2: the case does not state its expected status (got pass)" in out
    lines = [line.strip() for line in out.splitlines()]
    assert "untested: no case drives I1, I2 to unknown" in lines
    assert "untested: no case drives I1 to fail" in lines  # I2 fail is declared unreachable


@pytest.fixture
def run_cli(monkeypatch):
    from typer.testing import CliRunner

    from trialscreen_cli.main import app

    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_validate_prints_warnings_but_succeeds(tmp_path, run_cli):
    path = tmp_path / "TW.yaml"
    path.write_text(HEAD.replace("T1", "TW") + "inclusion:\n  - id: I1\n    text: age 18 to 80\n"
                    "    rule: {field: age, ge: 18}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 0
    assert f"{path}:6: warning: I1: the text mentions 80" in result.stderr


def test_shared_definitions_are_used_by_name(tmp_path):
    from trialscreen.criteria.compile import compile_definitions

    shared = compile_definitions("definitions:\n  adult: {field: age, ge: 18}\n", "_definitions.yaml")
    trial = compile_text(HEAD + "inclusion:\n  - id: I1\n    text: adult\n    rule: {use: adult}\n", "t.yaml",
                         shared=shared)
    assert trial.criteria[0].rule.name == "adult"
    with pytest.raises(Exception, match="already a shared definition"):
        compile_text(HEAD + "definitions:\n  adult: {field: age, ge: 21}\ninclusion:\n  - id: I1\n    text: a\n"
                     "    rule: {use: adult}\n", "t.yaml", shared=shared)


def test_the_bundled_library_passes_its_golden_cases_with_full_coverage(run_cli):
    result = run_cli("test", str(ROOT / "criteria"))
    assert result.exit_code == 0, result.stdout
    assert "untested" not in result.stdout and "FAIL" not in result.stdout
    assert result.stdout.count("cases pass") == 5


def test_trials_lists_the_five_seed_trials(run_cli):
    result = run_cli("trials")
    assert result.exit_code == 0
    for trial in ("NCT05378971", "NCT06863584", "NCT01421927", "NCT00480363", "NCT01169337"):
        assert trial in result.stdout
