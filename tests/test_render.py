"""The renderers of trialscreen.render on hand-built results (no screening): each test states
the exact text a user sees, so a change to a format shows here as a changed string."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date

from conftest import ROOT
from trialscreen import __version__
from trialscreen.evaluate.screen import Criterion, CriterionResult, ScreenResult, Trial
from trialscreen.render.batch import Writer
from trialscreen.render.json import results_json
from trialscreen.render.markdown import results_markdown
from trialscreen.render.text import results_text, trials_text


def _trial(trial_id: str = "NCT00000001", complete: bool = True, criteria=("I1", "E1")) -> Trial:
    texts = {"I1": ("inclusion", "Age 18 or older"), "E1": ("exclusion", "Active infection")}
    return Trial(id=trial_id, title="A | test trial", source="https://example.org/" + trial_id, version="2",
                 criteria=[Criterion(cid, texts[cid][0], texts[cid][1], rule=None) for cid in criteria],
                 sha256="abc123", complete=complete, not_encoded=[] if complete else ["E2 (prior therapy)"])


def _needs_review(trial: Trial | None = None) -> ScreenResult:
    """I1 passes, E1 is undecided for want of one datum; one warning from the record."""
    return ScreenResult(trial or _trial(), "P-7", date(2025, 6, 1), "needs_review",
                        [CriterionResult("I1", "inclusion", "Age 18 or older", "pass", "met: age 64 ≥ 18",
                                         checks=[{"type": "field", "result": "met", "text": "age 64 ≥ 18",
                                                  "decisive": True},
                                                 {"type": "field", "result": "met", "text": "sex: female",
                                                  "decisive": False}]),
                         CriterionResult("E1", "exclusion", "Active infection", "unknown",
                                         "undecided: no infection status", missing=["infection status, this week"],
                                         checks=[{"type": "condition", "result": "unknown",
                                                  "text": "infection: not recorded", "decisive": True}])],
                        ["infection status, this week"], warnings=["'smoker' is not a field trialscreen reads"])


def _ineligible(trial: Trial) -> ScreenResult:
    return ScreenResult(trial, "P-7", date(2025, 6, 1), "ineligible",
                        [CriterionResult("I1", "inclusion", "Age 18 or older", "fail", "not met: age 16 ≥ 18")], [])


def test_markdown_of_one_result(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1748822400")      # the stamp's date generated: 2025-06-02
    assert results_markdown([_needs_review()]) == (
        "## NCT00000001: A \\| test trial\n"
        "\n"
        "**Verdict: NEEDS REVIEW** for patient **P-7** as of 2025-06-01 (1 pass, 0 fail, 1 unknown)\n"
        "\n"
        "| ID | Kind | Status | Criterion and checks |\n"
        "|---|---|---|---|\n"
        "| I1 | inclusion | ✔ met | **Age 18 or older**<br>✔ age 64 ≥ 18<br>· sex: female |\n"
        "| E1 | exclusion | ? unknown | **Active infection**<br>? infection: not recorded |\n"
        "\n"
        "### Data to fetch\n"
        "\n"
        "**From the chart**\n"
        "\n"
        "- [ ] infection status, this week\n"
        "\n"
        "### What the record says that trialscreen could not use\n"
        "\n"
        "- 'smoker' is not a field trialscreen reads\n"
        "\n"
        "### Record\n"
        "\n"
        "| | |\n"
        "|---|---|\n"
        "| Patient | P-7 |\n"
        "| Trial | NCT00000001 (2) |\n"
        "| As of | 2025-06-01 |\n"
        f"| Engine | trialscreen {__version__} |\n"
        "| Criteria SHA-256 | abc123 |\n"
        "| Generated | 2025-06-02 00:00 UTC |\n"
        "\n"
        "Reviewed by: ____________  Signature: ____________  Date: ____________\n"
    )


def test_markdown_of_several_results_ranks_them_in_a_summary_first():
    partial = _trial("NCT00000002", complete=False, criteria=("I1",))
    text = results_markdown([_ineligible(partial), _needs_review()])
    assert text.startswith(
        "## Which trials could this patient enter?\n"
        "\n"
        "| Trial | Verdict | Why |\n"
        "|---|---|---|\n"
        "| NCT00000001 | NEEDS REVIEW | 1 undecided: E1 |\n"
        "| NCT00000002 | INELIGIBLE | fails I1 (trial only partly encoded) |\n"
        "\n"
        "## NCT00000001: A \\| test trial\n"
    )
    assert (
        "## NCT00000002: A \\| test trial\n"
        "\n"
        "**Verdict: INELIGIBLE** for patient **P-7** as of 2025-06-01 (0 pass, 1 fail, 0 unknown)\n"
        "\n"
        "> This verdict covers only the encoded criteria. Not encoded: E2 (prior therapy)\n"
        "\n"
        "| ID | Kind | Status | Criterion and checks |\n"
        "|---|---|---|---|\n"
        "| I1 | inclusion | ✘ not met | **Age 18 or older**<br>✘ not met: age 16 ≥ 18 |\n"
        "\n"
        "### Record\n"
    ) in text
    assert text.count("Reviewed by: ") == 2          # each result is a record of its own


def test_json_of_a_result():
    partial = _trial("NCT00000002", complete=False, criteria=("I1",))
    expected = """[
  {
    "trial": {
      "id": "NCT00000002",
      "title": "A | test trial",
      "source": "https://example.org/NCT00000002",
      "version": "2",
      "complete": false,
      "not_encoded": [
        "E2 (prior therapy)"
      ],
      "file": null,
      "sha256": "abc123"
    },
    "patient": {
      "id": "P-7"
    },
    "as_of": "2025-06-01",
    "verdict": "ineligible",
    "criteria": [
      {
        "id": "I1",
        "kind": "inclusion",
        "text": "Age 18 or older",
        "status": "fail",
        "reason": "not met: age 16 ≥ 18",
        "checks": [],
        "missing": []
      }
    ],
    "missing": [],
    "engine_version": "VERSION",
    "criteria_sha256": "abc123",
    "coverage": "this verdict covers only the encoded criteria of NCT00000002; not encoded: E2 (prior therapy)"
  }
]"""
    assert results_json([_ineligible(partial)]) == expected.replace("VERSION", __version__)


def test_batch_csv_rows():
    trial = _trial()
    out = io.StringIO()
    writer = Writer(out, "csv", [trial])
    writer.start()
    writer.result(2, _needs_review(trial))
    writer.error(3, "P-8", _trial(complete=False), "row 3: 4 cells where the header has 5")
    assert out.getvalue() == (
        "id,trial,verdict,failed,unknown,missing,error,covers,I1,E1,row\n"
        'P-7,NCT00000001,needs_review,,E1,"infection status, this week",,all criteria,pass,unknown,2\n'
        "P-8,NCT00000001,error,,,,row 3: 4 cells where the header has 5,encoded criteria only,,,3\n"
    )


def test_batch_csv_columns_name_the_trial_when_there_are_several():
    first, second = _trial(), _trial("NCT00000002", criteria=("I1",))
    out = io.StringIO()
    writer = Writer(out, "csv", [first, second])
    writer.start()
    writer.result(2, _ineligible(second))
    assert out.getvalue() == (
        "id,trial,verdict,failed,unknown,missing,error,covers,NCT00000001:I1,NCT00000001:E1,NCT00000002:I1,row\n"
        "P-7,NCT00000002,ineligible,I1,,,,all criteria,,,fail,2\n"
    )


def test_batch_jsonl_lines():
    trial = _trial(criteria=("I1",))
    out = io.StringIO()
    writer = Writer(out, "jsonl", [trial])
    writer.start()   # JSON Lines has no header
    writer.result(2, _ineligible(trial))
    writer.error(3, "P-8", trial, "row 3: the id cell is empty")
    summary = ('{"id": "NCT00000001", "title": "A | test trial", "source": "https://example.org/NCT00000001", '
               '"version": "2", "complete": true, "not_encoded": [], "file": null, "sha256": "abc123"}')
    assert out.getvalue() == (
        '{"trial": ' + summary + ', "patient": {"id": "P-7"}, "as_of": "2025-06-01", "verdict": "ineligible", '
        '"criteria": [{"id": "I1", "kind": "inclusion", "text": "Age 18 or older", "status": "fail", '
        '"reason": "not met: age 16 ≥ 18", "checks": [], "missing": []}], "missing": [], '
        f'"engine_version": "{__version__}", "criteria_sha256": "abc123", "row": 2}}\n'
        '{"row": 3, "trial": ' + summary + ', "patient": {"id": "P-8"}, "verdict": "error", '
        '"error": "row 3: the id cell is empty"}\n'
    )


def test_plain_text_of_one_result():
    assert results_text([_needs_review()]) == (
        "NCT00000001  A | test trial\n"
        "Verdict: NEEDS REVIEW  patient P-7, as of 2025-06-01 (1 pass, 0 fail, 1 unknown)\n"
        "\n"
        "I1  inclusion  ✔ met      Age 18 or older\n"
        "      ✔ age 64 ≥ 18\n"
        "      · sex: female\n"
        "E1  exclusion  ? unknown  Active infection\n"
        "      ? infection: not recorded\n"
        "\n"
        "Data to fetch to decide the unknown criteria:\n"
        "  From the chart:\n"
        "    [ ] infection status, this week\n"
        "\n"
        "What the record says that trialscreen could not use:\n"
        "  - 'smoker' is not a field trialscreen reads\n"
    )


def test_plain_text_of_several_results_ranks_them_and_says_what_is_not_encoded():
    partial = _trial("NCT00000002", complete=False, criteria=("I1",))
    text = results_text([_ineligible(partial), _needs_review()])
    assert text.startswith(
        "Which trials could this patient enter?\n"
        "Trial        Verdict       Why\n"
        "NCT00000001  NEEDS REVIEW  1 undecided: E1\n"
        "NCT00000002  INELIGIBLE    fails I1 (trial only partly encoded)\n"
        "\n"
        "NCT00000001  A | test trial\n"
    )
    assert text.endswith(        # a result without its checks (as a batch keeps it) shows its reason
        "\n"
        "NCT00000002  A | test trial\n"
        "Verdict: INELIGIBLE  patient P-7, as of 2025-06-01 (0 pass, 1 fail, 0 unknown)\n"
        "This verdict covers only the encoded criteria; not encoded: E2 (prior therapy)\n"
        "\n"
        "I1  inclusion  ✘ not met  Age 18 or older\n"
        "      ✘ not met: age 16 ≥ 18\n"
    )


def test_plain_text_keeps_each_criterion_and_check_on_one_line_and_escapes_control_characters():
    result = _needs_review()
    result.criteria[1].text = "Active\ninfection"
    result.criteria[1].checks[0]["text"] = "a check\nover two lines with a \x1b[31m colour code"
    lines = results_text([result]).splitlines()
    assert "E1  exclusion  ? unknown  Active infection" in lines
    assert "      ? a check over two lines with a \\x1b[31m colour code" in lines


def test_plain_text_trial_list():
    assert trials_text([_trial(), _trial("NCT00000002", complete=False, criteria=("I1",))]) == (
        "Trial        Title           Criteria        Encoded\n"
        "NCT00000001  A | test trial  1 incl, 1 excl  complete\n"
        "NCT00000002  A | test trial  1 incl, 0 excl  partial\n"
    )


def test_the_renderers_never_import_the_cli_framework():
    code = ("import sys\n"
            "import trialscreen.render.batch, trialscreen.render.json, trialscreen.render.markdown\n"
            "import trialscreen.render.text\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click', 'trialscreen_cli')]\n"
            "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
