"""The command line through typer's CliRunner: formats, exit codes, one-sentence errors."""

import json
import re

import pytest

from conftest import ELIGIBLE, EXAMPLES, check_golden


def screen_json(run, *args):
    result = run("screen", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_eligible_every_criterion_decided(run):
    [out] = screen_json(run, str(ELIGIBLE), "--trial", "NCT05378971")
    assert out["verdict"] == "eligible"
    assert out["trial"]["id"] == "NCT05378971"
    assert out["patient"] == {"id": "EX-001"}
    assert out["as_of"] == "2025-06-02"
    assert len(out["criteria"]) == 18
    assert {c["status"] for c in out["criteria"]} <= {"pass", "not_applicable"}
    assert [c["id"] for c in out["criteria"] if c["status"] == "not_applicable"] == ["I3", "I6"]
    assert out["missing"] == []
    assert len(out["criteria_sha256"]) == 64
    assert out["engine_version"]
    for c in out["criteria"]:
        assert set(c) >= {"id", "kind", "text", "status", "reason", "checks", "missing"}
        assert c["kind"] in ("inclusion", "exclusion")
        assert c["reason"]


def test_json_checks_carry_values_thresholds_and_conversions(run):
    [out] = screen_json(run, str(EXAMPLES / "NCT05378971-us-units-ineligible.json"), "-t", "NCT05378971")
    i5 = next(c for c in out["criteria"] if c["id"] == "I5")
    creat = next(ch for ch in i5["checks"] if ch["text"].startswith("creatinine"))
    assert creat["result"] == "not met"
    assert creat["value"] == 2.1 and creat["unit"] == "mg/dL"
    assert creat["threshold"] == 177 and creat["threshold_unit"] == "umol/L"
    assert round(creat["converted"], 1) == 185.6


def test_as_of_option_overrides_the_record(run):
    [out] = screen_json(run, str(ELIGIBLE), "-t", "NCT05378971", "--as-of", "2025-03-01")
    assert out["as_of"] == "2025-03-01"
    assert out["verdict"] == "ineligible"
    assert [c["id"] for c in out["criteria"] if c["status"] == "fail"] == ["E7"]


def test_stdin_patient(run):
    result = run("screen", "-", "-t", "NCT05378971", "-f", "json", input=ELIGIBLE.read_text())
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["verdict"] == "eligible"


def test_trial_by_path(run):
    [out] = screen_json(run, str(ELIGIBLE), "--trial", "criteria/NCT05378971.yaml")
    assert out["verdict"] == "eligible"


def test_no_trial_screens_every_bundled_trial(run):
    out = screen_json(run, str(ELIGIBLE))
    assert "NCT05378971" in [r["trial"]["id"] for r in out]




@pytest.mark.parametrize("example", ["eligible", "us-units-ineligible", "needs-review"])
def test_table_output_golden(run, example):
    """Not a terminal (a pipe, a file): plain text, one line per criterion, no colour codes
    and no box drawing."""
    result = run("screen", str(EXAMPLES / f"NCT05378971-{example}.json"), "-t", "NCT05378971")
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout and "─" not in result.stdout
    check_golden(f"screen-{example}.txt", result.stdout)


@pytest.mark.parametrize("example", ["eligible", "us-units-ineligible", "needs-review"])
def test_terminal_table_golden(example):
    """A terminal gets rich's table (here drawn 120 columns wide, colours off)."""
    import io

    from rich.console import Console

    from trialscreen.criteria.library import load_trial
    from trialscreen.evaluate.screen import screen
    from trialscreen.patient.load import load_patient
    from trialscreen_cli.terminal import render_results

    patient = load_patient(EXAMPLES / f"NCT05378971-{example}.json")
    out = io.StringIO()
    render_results([screen(load_trial("NCT05378971"), patient)],
                   Console(file=out, width=120, no_color=True, highlight=False, soft_wrap=False))
    check_golden(f"screen-{example}.terminal.txt", out.getvalue())


@pytest.mark.parametrize("example", ["eligible", "needs-review"])
def test_markdown_output_golden(run, example):
    result = run("screen", str(EXAMPLES / f"NCT05378971-{example}.json"), "-t", "NCT05378971",
                 "-f", "markdown")
    assert result.exit_code == 0
    check_golden(f"screen-{example}.md", result.stdout)


def test_explain_shows_text_and_logic(run):
    result = run("explain", "NCT05378971")
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())
    assert "alt < 3 x ULN" in flat
    assert "cytogenetics: any of del(17p), amp(1q)" in flat
    assert "Subject voluntarily enrolled" in flat
    assert "A lab counts only if dated within the trial's screening window of 28 days" in flat
    assert "treatment induction, lasting ≤ 12 months in all" in flat


def test_trials_lists_bundled(run):
    result = run("trials")
    assert result.exit_code == 0
    from trialscreen.criteria.library import bundled_trials

    bundled = sorted(p.stem for p in bundled_trials())
    assert len(bundled) >= 5
    assert re.findall(r"\bNCT\d{8}\b", result.stdout) == bundled


ERRORS = [
    # args, exit code, words the one sentence must contain
    (["screen", "missing.json", "-t", "NCT05378971"], 66, ["missing.json"]),
    (["screen", str(ELIGIBLE), "-t", "NCT00000000"], 2, ["no trial 'NCT00000000'"]),
    (["screen", str(ELIGIBLE), "-t", "NCT0537897"], 2, ["did you mean 'NCT05378971'"]),
    (["screen", str(ELIGIBLE), "-t", "NCT05378971", "--as-of", "2025-13-01"], 2, ["--as-of", "YYYY-MM-DD"]),
    (["screen", str(ELIGIBLE), "-t", "NCT05378971", "--format", "xml"], 2, []),
    (["validate", "nope.yaml"], 66, ["nope.yaml"]),
    (["frobnicate"], 2, []),
]


@pytest.mark.parametrize("args,code,words", ERRORS, ids=[" ".join(a[:3]) for a, _, _ in ERRORS])
def test_errors_are_one_sentence_with_documented_code(run, args, code, words):
    result = run(*args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for w in words:
        assert w in result.stderr
    if code != 2 or words:   # typer's own usage errors are framed text; ours are one line
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_bad_patient_names_file_line_and_field(run, tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text('{\n  "id": "X",\n  "ecog": 7\n}\n')
    result = run("screen", str(bad), "-t", "NCT05378971")
    assert result.exit_code == 65
    assert f"{bad}:3:11" in result.stderr
    assert "ecog" in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_unit_is_never_a_guess(run, tmp_path):
    """The record is screened; the lab decides nothing, and both the warning on stderr
    and the criterion's reason say why."""
    bad = tmp_path / "p.json"
    bad.write_text('{"id": "X", "lab_date": "2025-06-01", "labs": {"platelets": "75 furlongs"}}')
    result = run("screen", str(bad), "-t", "NCT05378971", "--as-of", "2025-06-02", "--format", "json")
    assert result.exit_code == 0
    assert "furlongs" in result.stderr and "labs.platelets" in result.stderr
    out = json.loads(result.stdout)
    out = out[0] if isinstance(out, list) else out
    i5 = next(c for c in out["criteria"] if c["id"] == "I5")
    assert out["verdict"] == "needs_review" and i5["status"] == "unknown"
    assert "furlongs" in i5["reason"]
    assert any("labs.platelets" in w for w in out["warnings"])


def test_validate_reports_every_problem_with_positions(run, tmp_path):
    bad = tmp_path / "NCTBAD.yaml"
    bad.write_text(
        "id: NCTBAD\ntitle: t\nsource: s\nversion: 1\n"
        "inclusion:\n"
        "  - id: I1\n    text: a\n    rule: {lab: creatinin, lt: 1 mg/dL}\n"
        "  - id: I2\n    text: b\n    rule: {lab: platelets, gt: 75 mg/dL}\n"
        "  - id: I2\n    text: c\n    rule: {field: ecog, in: 0..3, colour: red}\n"
    )
    result = run("validate", str(bad))
    assert result.exit_code == 65
    lines = result.stderr.strip().splitlines()
    assert any(f"{bad}:8:" in line and "unknown analyte 'creatinin'" in line and "did you mean 'creatinine'" in line
               for line in lines)
    assert any(f"{bad}:11:" in line and "mg/dL cannot convert to platelets" in line for line in lines)
    assert any("duplicate criterion id 'I2'" in line for line in lines)
    assert any("unknown key 'colour'" in line for line in lines)
    assert len(lines) == 4


def test_screen_with_invalid_criteria_points_to_validate(run, tmp_path):
    bad = tmp_path / "X.yaml"
    bad.write_text("id: X\ntitle: t\nsource: s\nversion: 1\ninclusion:\n  - id: I1\n    text: a\n"
                   "    rule: {lab: nope, lt: 1 mg/dL}\n  - id: I2\n    text: a\n    rule: {lab: nope2, lt: 1}\n")
    result = run("screen", str(ELIGIBLE), "-t", str(bad))
    assert result.exit_code == 65
    assert "trialscreen validate" in result.stderr
    assert result.stderr.count("\n") == 1


def test_control_characters_from_input_are_escaped(run, tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text('{"id": "X", "sex": "\\u001b[31mred"}')
    result = run("--verbose", "screen", str(bad), "-t", "NCT05378971")
    assert result.exit_code == 65
    assert "\x1b" not in result.stderr
    assert "\\x1b" in result.stderr


def test_patient_values_stay_out_of_messages_unless_verbose(run, tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text('{"id": "X", "birth_date": "1961-13-45"}')
    quiet = run("screen", str(bad), "-t", "NCT05378971")
    assert quiet.exit_code == 65
    assert "birth_date" in quiet.stderr and "1961" not in quiet.stderr
    loud = run("--verbose", "screen", str(bad), "-t", "NCT05378971")
    assert "1961-13-45" in loud.stderr


def test_no_trial_ranks_the_library_then_details(run):
    result = run("screen", str(ELIGIBLE), "-f", "markdown")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("## Which trials could this patient enter?")
    summary = out.split("\n\n## ")[0]
    rows = [line.split(" | ")[0].strip("| ") for line in summary.splitlines() if line.startswith("| NCT")]
    assert rows[0] == "NCT05378971" and len(rows) == 5
    assert "(trial only partly encoded)" in summary
    details = [line[3:14] for line in out.splitlines() if line.startswith("## NCT")]
    assert details == rows


def test_incomplete_trial_says_its_verdict_covers_only_the_encoded_criteria(run):
    [out] = screen_json(run, str(ELIGIBLE), "--trial", "NCT06863584")
    assert out["trial"]["complete"] is False
    assert out["trial"]["not_encoded"]
    assert "covers only the encoded criteria" in out["coverage"]


def test_results_are_plain_words_for_python_callers():
    """The README's Python example: statuses and verdicts are plain strings, so a result
    prints as words and dumps to YAML or JSON as it is."""
    import yaml

    from trialscreen import load_patient, load_trial, screen

    result = screen(load_trial("NCT05378971"), load_patient(str(ELIGIBLE)))
    assert type(result.verdict) is str and all(type(c.status) is str for c in result.criteria)
    assert str([c.status for c in result.criteria][:3]) == "['pass', 'pass', 'not_applicable']"
    assert yaml.safe_load(yaml.safe_dump(result.as_dict()))["verdict"] == "eligible"
