"""Output a coordinator can read, file and act on (issue 15): statuses in words that fit
inclusion and exclusion, every check of a criterion shown, the data to fetch as a checklist by
source, the stamp and reviewer line of Markdown and HTML, the HTML page and the feasibility
report (golden files), and a command line that helps itself (--fail-on, JSON errors, --help with
examples and no placeholders, global options after the command, --format on every command)."""

from __future__ import annotations

import json
import re
from datetime import date
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import EXAMPLES, ROOT, check_golden
from trialscreen.batch.tally import TrialTally
from trialscreen.render.plain import status_words

NEEDS_REVIEW = str(EXAMPLES / "NCT05378971-needs-review.json")
US_UNITS = str(EXAMPLES / "NCT05378971-us-units-ineligible.json")
REGISTRY = ("examples/batch/registry.tsv", "--columns", "examples/batch/registry-columns.yaml")


@pytest.mark.parametrize("kind,status,words", [
    ("inclusion", "pass", "met"), ("inclusion", "fail", "not met"),
    ("exclusion", "pass", "not excluded"), ("exclusion", "fail", "excluded"),
    ("inclusion", "unknown", "unknown"), ("exclusion", "unknown", "unknown"),
    ("inclusion", "not_applicable", "does not apply"), ("exclusion", "not_applicable", "does not apply"),
])
def test_status_words_fit_inclusion_and_exclusion(kind, status, words):
    assert status_words(kind, status) == words


def test_the_table_speaks_a_coordinators_words(run):
    out = run("screen", NEEDS_REVIEW, "--trial", "NCT05378971").stdout
    assert re.search(r"^E4\s+exclusion\s+✔ not excluded\s+with central nervous system involvement", out, re.M)
    assert "✔ CNS involvement: no (recorded absent)" in out
    assert re.search(r"^I7\s+inclusion\s+\? unknown", out, re.M)
    assert "? not answered: Has the patient signed the informed consent form?" in out
    for internal in ("cns_involvement", "attestation ", "childbearing_potential", "multiple_myeloma", "labs.anc",
                     "✔ pass", "not met:"):
        assert internal not in out, internal
    checklist = out[out.index("Data to fetch"):]
    assert checklist.index("From the laboratory:") < checklist.index("From the investigator:")
    assert "[ ] a current absolute neutrophil count (ANC), dated within 28 days before 2025-06-02" in checklist
    assert "[ ] the upper limit of normal (ULN) of the alanine aminotransferase (ALT) result" in checklist
    assert "[ ] Has the patient signed the informed consent form?" in checklist


def test_a_failed_criterion_shows_every_check_passing_or_failing(run):
    out = run("screen", US_UNITS, "--trial", "NCT05378971").stdout
    block = out[out.index("\nI5 "):out.index("\nI6 ")]
    assert "✘ creatinine 2.1 mg/dL = 185.6 umol/L, not < 177 umol/L" in block
    assert "✘ platelets 68 K/uL = 68 x10^9/L, not > 75 x10^9/L" in block
    for passing in ("· ALT 32 IU/L < 3 x ULN", "· AST 28 IU/L", "· bilirubin 0.7 mg/dL", "· ANC 1800 cells/uL"):
        assert passing in block, passing
    data = json.loads(run("screen", US_UNITS, "--trial", "NCT05378971", "-f", "json").stdout)[0]
    i5 = next(c for c in data["criteria"] if c["id"] == "I5")
    assert [c["decisive"] for c in i5["checks"]] == [False, False, False, True, False, True]
    assert "ALT" not in i5["reason"] and "creatinine" in i5["reason"]    # the reason: what decided
    assert data["lab_window"] == "28 days"


def test_the_full_text_flag(run):
    short = run("screen", NEEDS_REVIEW, "--trial", "NCT05378971").stdout
    full = run("screen", NEEDS_REVIEW, "--trial", "NCT05378971", "--full-text").stdout
    tail = "and women of childbearing potential agree to perform monthly pregnancy tests"
    assert tail not in short and " …" in short and tail in full


def test_markdown_is_a_record_to_file(run):
    out = run("screen", NEEDS_REVIEW, "--trial", "NCT05378971", "-f", "markdown").stdout
    for row in ("| Patient | EX-004 |", "| As of | 2025-06-02 |", "| Engine | trialscreen ", "| Criteria SHA-256 | ",
                "| Generated | 2025-06-02 00:00 UTC |", "| Lab window | labs dated within 28 days"):
        assert row in out, row
    assert "Reviewed by: ____________  Signature: ____________  Date: ____________" in out


def test_the_html_page_is_self_contained_and_golden(run):
    result = run("screen", NEEDS_REVIEW, "--trial", "NCT05378971", "-f", "html")
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and " src=" not in page and " href=" not in page and "@import" not in page
    check_golden("screen-needs-review.html", page)


def test_several_html_pages_go_into_a_folder(run, tmp_path):
    both = (NEEDS_REVIEW, US_UNITS)
    refused = run("screen", *both, "--trial", "NCT05378971", "-f", "html")
    assert refused.exit_code == 2 and "--out pages/" in refused.stderr
    done = run("screen", *both, "--trial", "NCT05378971", "-f", "html", "--out", str(tmp_path / "pages"))
    assert done.exit_code == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "pages").iterdir())
    assert names == ["EX-002_NCT05378971.html", "EX-004_NCT05378971.html"]
    assert "INELIGIBLE" in (tmp_path / "pages" / "EX-002_NCT05378971.html").read_text(encoding="utf-8")


def test_the_feasibility_report_is_golden(run, tmp_path):
    report = tmp_path / "report.html"
    result = run("batch", *REGISTRY, "--trial", "NCT05378971", "--as-of", "2025-06-02",
                 "--out", str(tmp_path / "out.csv"), "--report", str(report), "--quiet")
    assert result.exit_code == 0, result.stderr
    page = report.read_text(encoding="utf-8")
    assert page.count('<svg class="chart"') == 3 and "<script" not in page
    check_golden("report-registry.html", page.replace(str(tmp_path), "TMP"))


def test_fail_on_sets_the_exit_code_by_verdict(run, tmp_path):
    assert run("screen", NEEDS_REVIEW, "--trial", "NCT05378971", "--fail-on", "needs_review").exit_code == 3
    assert run("screen", NEEDS_REVIEW, "--trial", "NCT05378971", "--fail-on", "ineligible,eligible").exit_code == 0
    bad = run("screen", NEEDS_REVIEW, "--trial", "NCT05378971", "--fail-on", "maybe")
    assert bad.exit_code == 2 and "'maybe' is not a verdict" in bad.stderr
    batch = run("batch", *REGISTRY, "--trial", "NCT05378971", "--as-of", "2025-06-02", "--quiet",
                "--out", str(tmp_path / "o.csv"), "--fail-on", "ineligible")
    assert batch.exit_code == 3


def test_errors_as_json_for_machines(run, tmp_path):
    broken = tmp_path / "p.json"
    broken.write_text('{"id": "X",\n "ecog": 1,\n "ecog": 2}\n', encoding="utf-8")
    result = run("screen", str(broken), "--trial", "NCT05378971", "-f", "json")
    assert result.exit_code == 65 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == 65 and error["kind"] == "PatientError"
    [problem] = error["problems"]
    assert (problem["file"], problem["line"], problem["column"]) == (str(broken), 3, 2)
    assert problem["message"] == "duplicate key 'ecog'" and problem["hint"]


COMMANDS = ["screen", "batch", "vocab", "omop", "columns", "validate", "test", "explain", "schema", "trials",
            "export fhir", "export omop"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_examples_and_no_placeholders(run, command):
    result = run(*command.split(), "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and "$ trialscreen " in result.stdout
    assert not re.search(r"<[a-z][a-z\[\]|]*>|\{[A-Z]+\}", result.stdout), result.stdout


def test_global_options_before_or_after_the_command(run):
    from trialscreen_cli.main import global_options_first

    assert global_options_first(["screen", "p.json", "-v", "--no-progress"]) == ["-v", "--no-progress", "screen",
                                                                                 "p.json"]
    assert global_options_first(["screen", "--", "-v"]) == ["screen", "--", "-v"]
    top = run("--help").stdout
    assert "--no-progress" in top and "--install-completion" in top and "--version" in top


@pytest.mark.parametrize("command", [["trials"], ["explain", "NCT05378971"], ["validate", "criteria/NCT05378971.yaml"],
                                     ["test", "criteria/NCT06863584.yaml"]])
def test_every_listing_command_has_every_format(run, command):
    data = json.loads(run(*command, "-f", "json").stdout)
    assert data
    assert run(*command, "-f", "markdown").stdout.startswith("## ")
    page = run(*command, "-f", "html").stdout
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page


def test_a_failed_run_keeps_the_last_summary(run, tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text('{"rows_in": 10}', encoding="utf-8")
    failed = run("batch", str(tmp_path / "missing.csv"), "--summary", str(summary))
    assert failed.exit_code == 66
    assert summary.read_text(encoding="utf-8") == '{"rows_in": 10}'


STATUSES = st.lists(st.sampled_from(["pass", "fail", "unknown", "not_applicable"]), min_size=4, max_size=4)


@given(st.lists(STATUSES, max_size=40))
def test_the_funnel_loses_each_excluded_patient_once(rows):
    """Law: the funnel never grows, its end is the patients failing nothing, and each ineligible
    patient leaves it at the first criterion it fails."""
    ids = ["I1", "I2", "E1", "E2"]
    tally = TrialTally("T", ids)
    for statuses in rows:
        crit = [SimpleNamespace(id=i, status=s) for i, s in zip(ids, statuses)]
        verdict = "ineligible" if "fail" in statuses else "needs_review" if "unknown" in statuses else "eligible"
        tally.add(SimpleNamespace(verdict=verdict, criteria=crit, missing=[], as_of=date(2025, 6, 2)))
    left = [n for _, n in tally.funnel()]
    assert all(a >= b for a, b in zip([len(rows)] + left, left))
    assert left[-1] == sum(1 for s in rows if "fail" not in s)
    assert sum(tally.first_fail.values()) == tally.verdicts["ineligible"]


def test_output_taller_than_the_screen_goes_through_the_pager(monkeypatch):
    import io
    import pydoc

    from trialscreen_cli.terminal import page_or_print

    paged: list = []
    monkeypatch.setattr(pydoc, "pager", paged.append)
    short, out = "a line\n" * 5, io.StringIO()
    page_or_print(short, 24, out)
    assert out.getvalue() == short and paged == []
    page_or_print("a line\n" * 97, 24, out)
    assert paged == ["a line\n" * 97] and out.getvalue() == short


def test_marks_never_claim_more_than_the_check_did(run):
    """Review of issue 15: a check that did not decide is '·' even when unknown (E1's gain question
    once it is moot), and a criterion's applies-if checks say so instead of taking the status mark."""
    out = run("screen", NEEDS_REVIEW, "--trial", "NCT05378971").stdout
    e1 = out[out.index("\nE1 "):out.index("\nE2 ")]
    assert "· gain(1q) not detected" in e1 and "· not answered: If the patient has a 1q21 gain" in e1
    i2 = out[out.index("\nI2 "):out.index("\nI3 ")]
    assert "· it applies if: ASCT: yes (ASCT 2025-02-20)" in i2
    data = json.loads(run("screen", NEEDS_REVIEW, "--trial", "NCT05378971", "-f", "json").stdout)[0]
    i2_checks = next(c for c in data["criteria"] if c["id"] == "I2")["checks"]
    assert i2_checks[0]["applies_if"] is True and all("applies_if" not in c for c in i2_checks[1:])


def test_the_checklist_asks_for_each_labs_own_window(run, tmp_path):
    """A criterion's own `within` is the window of the lab it lacks, not the site's maximum."""
    import yaml

    case = yaml.safe_load((EXAMPLES.parent.parent / "criteria" / "cases" / "NCT01169337" /
                           "needs-review-empty-record.yaml").read_text(encoding="utf-8"))
    record = tmp_path / "p.json"
    record.write_text(json.dumps(case["patient"]), encoding="utf-8")
    out = run("screen", str(record), "--trial", "NCT01169337", "--as-of", "2011-06-02", "--max-lab-age", "10 days").stdout
    assert "[ ] a current serum free light chain ratio, kappa/lambda, dated within 28 days before 2011-06-02" in out
    assert "[ ] a current platelet count, dated within 4 weeks before 2011-06-02" in out


def test_an_unplaced_condition_is_a_judgement_for_a_person(run, tmp_path):
    record = json.loads((EXAMPLES / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    record["conditions"]["mild_cardiomyopathy"] = True
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    out = run("screen", str(path), "--trial", "NCT05378971").stdout
    checklist = out[out.index("From the investigator:"):]
    assert "[ ] a person's judgement of what the record says: is 'mild_cardiomyopathy' one of CNS involvement?" \
        in checklist
    assert ": present or absent" not in out


def test_record_text_stays_text_in_every_format(run, tmp_path):
    """A record's id or names with markup or bidirectional overrides print as inert, visible text."""
    record = json.loads((EXAMPLES / "NCT05378971-needs-review.json").read_text(encoding="utf-8"))
    record["id"] = "P\u202e1<img src=x onerror=alert(1)>`"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    text = run("screen", str(path), "--trial", "NCT05378971").stdout
    assert "\u202e" not in text and "P\\u202e1" in text
    md = run("screen", str(path), "--trial", "NCT05378971", "-f", "markdown").stdout
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    page = run("screen", str(path), "--trial", "NCT05378971", "-f", "html").stdout
    assert "<img" not in page and "\u202e" not in page


def test_a_trial_file_s_text_stays_text_in_a_markdown_listing(run, tmp_path):
    trial = (ROOT / "criteria" / "NCT05378971.yaml").read_text(encoding="utf-8")
    path = tmp_path / "trial.yaml"
    path.write_text(trial.replace("title: Clinical", "title: <img src=x onerror=alert(1)> Clinical", 1),
                    encoding="utf-8")
    md = run("explain", str(path), "-f", "markdown").stdout
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt; Clinical" in md


def test_several_pages_never_go_into_a_file_name(run, tmp_path):
    refused = run("screen", NEEDS_REVIEW, US_UNITS, "--trial", "NCT05378971", "-f", "html",
                  "--out", str(tmp_path / "x.html"))
    assert refused.exit_code == 2 and not (tmp_path / "x.html").exists()


def test_a_long_patient_id_still_makes_a_page_name(tmp_path):
    from trialscreen_cli.pages import page_name

    name = page_name(SimpleNamespace(patient_id="A" * 300, trial=SimpleNamespace(id="NCT05378971")))
    assert len(name) < 200 and name.startswith("A" * 64 + "-") and name.endswith("_NCT05378971.html")


@pytest.mark.parametrize("analyte,words", [("igg", "immunoglobulin G (IgG; serum)"), ("crcl", "creatinine clearance (CrCl)"),
                                           ("egfr", "estimated glomerular filtration rate (eGFR)"),
                                           ("anc", "absolute neutrophil count (ANC)"), ("creatinine", "creatinine (serum)")])
def test_the_checklist_names_labs_as_laboratories_print_them(analyte, words):
    from trialscreen.explain.fetch import analyte_words

    assert analyte_words(analyte) == words


def test_the_checklist_names_the_item_it_asks_about(run, tmp_path):
    """An undated treatment is asked for by its type, not only as 'treatment 3 of the record'."""
    record = json.loads((EXAMPLES / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    record["treatments"].append({"type": "radiotherapy"})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    out = run("screen", str(path), "--trial", "NCT05378971").stdout
    assert "[ ] when the radiotherapy (treatment 3 of the record) was given: its dates" in out


def test_an_undated_treatment_of_the_anchor_kind_puts_the_window_after_it_in_doubt(run, tmp_path):
    """'progression within 3 months after ASCT': a progression of 2025-06-01 is outside the 3 months
    after the ASCT of 2025-02-20, but a second ASCT with no date might be a later one (2025-04), so
    the window cannot be placed and I2 is not met on the dated one alone."""
    record = json.loads((EXAMPLES / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    record["conditions"]["progression"] = {"present": True, "date": "2025-06-01", "active": False}
    record["treatments"].append({"type": "asct"})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = json.loads(run("screen", str(path), "--trial", "NCT05378971", "-f", "json").stdout)[0]
    i2 = next(c for c in result["criteria"] if c["id"] == "I2")
    assert i2["status"] == "unknown" and result["verdict"] == "needs_review"
    assert any("treatments[2]" in m for m in i2["missing"])


@pytest.mark.parametrize("progression", [False, {"present": False, "date": "2025-04-01"}],
                         ids=["recorded absent", "absent when assessed"])
def test_an_absence_does_not_cover_a_window_after_an_anchor_in_doubt(run, tmp_path, progression):
    """'no progression within 3 months after ASCT' with an ASCT that ended on a day nobody
    recorded: the window may run to 3 months after the as-of date, so an absence recorded by now
    does not meet it (every concrete end from 2025-03-17 on leaves it unknown)."""
    record = json.loads((EXAMPLES / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    record["treatments"] = [t for t in record["treatments"] if t["type"] != "asct"]
    record["treatments"].append({"type": "asct", "start": "2025-02-20", "end": "unknown"})
    record["conditions"]["progression"] = progression
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = json.loads(run("screen", str(path), "--trial", "NCT05378971", "-f", "json").stdout)[0]
    i2 = next(c for c in result["criteria"] if c["id"] == "I2")
    assert i2["status"] == "unknown", i2["reason"]
    assert "may still be open" in json.dumps(i2["checks"])
