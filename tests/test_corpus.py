"""Broken and hostile input: every file of tests/corpus/ through the real command line.

The corpus has three folders, one per command:

- ``corpus/patients/*.json`` (``*.bin`` when the bytes themselves are the point):
  ``trialscreen screen FILE --trial NCT05378971``, in JSON and in table format;
- ``corpus/criteria/*.yaml``: ``trialscreen validate FILE``, and a screening of the
  eligible example patient against it (``screen --trial FILE``);
- ``corpus/csv/*.csv``: ``trialscreen batch FILE --trial NCT05378971`` (CSV on stdout).

Each input has a sibling ``<file name>.expected`` of two lines:

1. the exit code the README documents (0, 1, 2, 65, 66; 70 is never right);
2. when the code is not 0: the exact sentence, ``{path}`` standing for the input path.
   For ``screen``, ``validate`` and a file-level ``batch`` error it is the one line on
   stderr. For ``batch`` exit 1 (a row could not be read) it is the ``error`` cell of
   the row (stderr stays empty with ``--quiet``; without it, the summary shows
   ``error: <sentence>``).
   When the code is 0 (an input that must be accepted, such as a UTF-8 BOM or CRLF
   line ends): the verdict (``eligible``, ``needs_review``) for patients and CSV; for
   criteria ``ok`` (stdout says ok, stderr is empty) or the exact warning on stderr.

Every case also checks: no traceback, no raw control character or terminal escape
sequence in anything printed, and never the verdict ``eligible`` for a broken input.

Some cases are generated here rather than stored (files over 5 MB, deep nesting).
The entry point is ``trialscreen_cli.main.run`` (the one ``trialscreen`` and
``python -m trialscreen`` use), so an unexpected exception shows as exit 70 as it
would for a user; inputs that could crash the interpreter itself run in a subprocess.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ELIGIBLE, ROOT, Ran, cli

CORPUS = Path(__file__).parent / "corpus"
TRIAL = "NCT05378971"

# C0 controls except tab, newline and carriage return; DEL; C1 controls (U+009B is a CSI).
RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# "eligible" as a word: not the tail of "ineligible" (nor of "is_eligible").
ELIGIBLE_WORD = re.compile(r"(?<![A-Za-z_])eligible(?![A-Za-z_])", re.I)
DOCUMENTED = {0, 1, 2, 65, 66}


def subprocess_cli(*args: str, timeout: float = 120) -> Ran:
    """The same, in a child interpreter: for inputs that might take the interpreter down."""
    env = {k: v for k, v in os.environ.items() if k != "TRIALSCREEN_DEBUG"}
    env.update(NO_COLOR="1", COLUMNS="120")
    proc = subprocess.run([sys.executable, "-m", "trialscreen", *args], capture_output=True,
                          timeout=timeout, cwd=ROOT, env=env)
    code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode  # a signal: 139 = SIGSEGV
    return Ran(code, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def cases(kind: str) -> list[Path]:
    folder = CORPUS / kind
    return sorted(p for p in folder.iterdir() if p.suffix != ".expected" and p.is_file())


def expected(path: Path) -> tuple[int, str]:
    lines = path.with_name(path.name + ".expected").read_text(encoding="utf-8").split("\n")
    return int(lines[0]), lines[1]


def expected_note(path: Path) -> str:
    """The optional third line of an exit-0 case whose input holds a value that cannot be
    used: for ``screen`` the exact warning on stderr, for ``batch`` a fragment of the
    ``missing`` cell. The record is screened; that value decides nothing."""
    lines = path.with_name(path.name + ".expected").read_text(encoding="utf-8").split("\n")
    return lines[2] if len(lines) > 2 else ""


def check_common(ran: Ran, what: str) -> None:
    assert ran.code != 70, f"{what}: a crash (exit 70): {ran.err}"
    assert ran.code in DOCUMENTED, f"{what}: exit {ran.code} is not documented: {ran.err}"
    assert "Traceback" not in ran.everything, f"{what}: a traceback:\n{ran.err}"
    raw = RAW_CONTROL.findall(ran.everything)
    assert not raw, f"{what}: raw control characters {sorted(set(raw))!r} printed"


def one_line(sentence: str) -> str:
    assert "\n" not in sentence
    return sentence + "\n"


def error_text(ran: Ran, fmt: str) -> str:
    """The error a user reads; with --format json, the sentence of the one JSON error object on
    stderr (whose code must be the exit code)."""
    if fmt != "json":
        return ran.err
    data = json.loads(ran.err)["error"]
    assert data["code"] == ran.code and data["problems"], data
    return one_line(f"trialscreen: error: {data['message']}")


def assert_no_eligible_verdict(text: str, what: str) -> None:
    hit = ELIGIBLE_WORD.search(text)
    assert hit is None, f"{what}: 'eligible' printed for a broken input: ...{text[max(0, hit.start() - 60):hit.end() + 20]!r}"


def test_the_corpus_is_complete():
    """Every input has its .expected, every .expected its input, and the corpus covers the issue's list."""
    for kind in ("patients", "criteria", "csv"):
        names = {p.name for p in (CORPUS / kind).iterdir()}
        for name in names:
            if name.endswith(".expected"):
                assert name[: -len(".expected")] in names, f"{kind}/{name} has no input"
            else:
                assert name + ".expected" in names, f"{kind}/{name} has no .expected"
                code, sentence = expected(CORPUS / kind / name)
                assert code in DOCUMENTED and sentence, f"{kind}/{name}.expected"
    stems = " ".join(p.name for kind in ("patients", "criteria", "csv") for p in cases(kind))
    for word in ("malformed", "wrong-type", "ecog-7", "platelets-negative", "age-300", "nan", "infinity",
                 "1e999", "empty", "bom", "crlf", "utf16", "latin1", "duplicate-key", "alias-bomb",
                 "tag-python-object-apply", "escape-sequence"):
        assert word in stems, word


# --- patients: trialscreen screen --------------------------------------------------------------

@pytest.mark.parametrize("path", cases("patients"), ids=lambda p: p.name)
def test_patient_corpus(path):
    code, sentence = expected(path)
    p = str(path)
    for fmt in ("json", "table"):
        ran = cli("screen", p, "--trial", TRIAL, "--format", fmt)
        what = f"{path.name} ({fmt})"
        check_common(ran, what)
        assert ran.code == code, f"{what}: exit {ran.code}, expected {code}; stderr: {ran.err}"
        if code == 0:
            note = expected_note(path)
            assert ran.err == (one_line(note.replace("{path}", p)) if note else ""), what
            if fmt == "json":
                assert [r["verdict"] for r in json.loads(ran.out)] == [sentence]
            else:
                word = sentence.replace("_", "[ _]")
                assert re.search(rf"(?<![A-Za-z_]){word}(?![A-Za-z_])", ran.out, re.I), f"{what}: no {sentence}"
            if sentence != "eligible":
                assert_no_eligible_verdict(ran.out, what)
        else:
            assert error_text(ran, fmt) == one_line(sentence.replace("{path}", p)), what
            assert ran.out == "", f"{what}: output for a broken input"
            assert_no_eligible_verdict(ran.everything, what)


def test_patient_larger_than_5_mb(tmp_path):
    record = json.loads(ELIGIBLE.read_text(encoding="utf-8"))
    record["notes"] = "x" * 5_100_000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    ran = cli("screen", str(path), "--trial", TRIAL)
    check_common(ran, "big.json")
    assert ran.code == 65
    assert ran.err == f"trialscreen: error: {path}: the file is larger than 5 MB (a patient record is a small JSON file)\n"
    assert ran.out == ""


@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_patient_nested_100000_deep(tmp_path, shape):
    n = 100_000
    if shape == "arrays":
        text = "[" * n + "]" * n
    else:
        text = '{"id": "P1", "notes": ' + '{"a": ' * n + "1" + "}" * n + "}"
    path = tmp_path / f"deep-{shape}.json"
    path.write_text(text, encoding="utf-8")
    ran = cli("screen", str(path), "--trial", TRIAL)
    check_common(ran, path.name)
    assert ran.code == 65
    # Today: "<path>: the JSON nests too deeply" - no place and nothing to do (see the report).
    assert ran.err == (f"trialscreen: error: {path}: the JSON nests too deeply (a patient record nests only "
                       "a few levels; check that this is the right file)\n")
    assert_no_eligible_verdict(ran.everything, path.name)


def test_patient_on_stdin_names_stdin():
    ran = cli("screen", "-", "--trial", TRIAL, input=b'{"id": "P1", "ecog": 7}')
    check_common(ran, "stdin")
    assert ran.code == 65
    assert ran.err == "trialscreen: error: <stdin>:1:22, field 'ecog': is not an ECOG grade 0 to 5\n"


# --- criteria: trialscreen validate (and a screening against the file) -------------------------

@pytest.mark.parametrize("path", cases("criteria"), ids=lambda p: p.name)
def test_criteria_corpus(path):
    code, sentence = expected(path)
    p = str(path)
    ran = cli("validate", p)
    check_common(ran, path.name)
    assert ran.code == code, f"{path.name}: exit {ran.code}, expected {code}; stderr: {ran.err}"
    if code == 0:
        assert ran.out.startswith(f"{p}: ok, ")
        assert ran.err == ("" if sentence == "ok" else one_line(sentence.replace("{path}", p)))
    else:
        assert ran.err == one_line(sentence.replace("{path}", p))
        assert ran.out == ""
    # A screening against the file: the same problem in one sentence, never "eligible".
    screened = cli("screen", str(ELIGIBLE), "--trial", p, "--format", "json")
    check_common(screened, f"{path.name} (screen)")
    if code == 0:
        assert screened.code == 0
        verdicts = [r["verdict"] for r in json.loads(screened.out)]
        if sentence != "ok":  # a trial that only warns of an impossible threshold
            assert "eligible" not in verdicts
    else:
        assert screened.code == code
        problem = sentence.replace("{path}", p).replace(" error: ", " ", 1)
        assert error_text(screened, "json") == one_line(f"trialscreen: error: {problem}")
        assert screened.out == ""
        assert_no_eligible_verdict(screened.everything, f"{path.name} (screen)")


HEAD = 'id: NCT00000001\ntitle: Corpus trial\nsource: tests/corpus\nversion: "1"\n'
CRITERION = "inclusion:\n  - {id: I1, text: Aged 18 or over., rule: {field: age, ge: 18}}\n"
TOO_DEEP = "the document nests deeper than 64 levels (remove the aliases or nesting that make it grow)"


@pytest.mark.parametrize("style", ["flow", "block"])
def test_criteria_1000_nested_yaml_lists(tmp_path, style):
    if style == "flow":
        text = HEAD + "notes: " + "[" * 1000 + "]" * 1000 + "\n" + CRITERION
        where = "5:72"
    else:
        text = HEAD + "notes:\n" + "".join("  " * i + "-\n" for i in range(1, 1001)) + CRITERION
        where = "70:131"
    path = tmp_path / f"deep-{style}.yaml"
    path.write_text(text, encoding="utf-8")
    ran = cli("validate", str(path))
    check_common(ran, path.name)
    assert ran.code == 65
    assert ran.err == f"{path}:{where}: error: {TOO_DEEP}\n"


def test_criteria_100000_nested_yaml_lists(tmp_path):
    """Regression: libyaml's composer recurses in C; 100,000 '[' kill the interpreter (SIGSEGV)."""
    path = tmp_path / "deeper.yaml"
    path.write_text(HEAD + "notes: " + "[" * 100_000 + "]" * 100_000 + "\n" + CRITERION, encoding="utf-8")
    ran = subprocess_cli("validate", str(path))
    assert ran.code == 65, f"exit {ran.code} (139 is a segmentation fault); stderr: {ran.err[-500:]}"
    assert ran.err == f"{path}:5:72: error: {TOO_DEEP}\n"


@pytest.mark.parametrize("char", ["x", "é"], ids=["ascii", "two-byte-utf8"])
def test_criteria_larger_than_5_mb(tmp_path, char):
    """The limit is 5 MB of file; 2.6 million 'é' are 5.2 MB but only 2.6 million characters."""
    body = char * (5_100_000 // len(char.encode("utf-8")) + 1)
    path = tmp_path / "big.yaml"
    path.write_text(HEAD + f'notes: "{body}"\n' + CRITERION, encoding="utf-8")
    assert path.stat().st_size > 5_000_000
    ran = cli("validate", str(path))
    check_common(ran, path.name)
    assert ran.code == 65, f"a {path.stat().st_size:,}-byte criteria file was accepted"
    assert ran.err == f"{path}: error: the file is larger than 5 MB (split it or check that it is the right file)\n"


def test_criteria_tags_never_run_code(tmp_path):
    sentinel = tmp_path / "pwned"
    for tag in ("!!python/object/apply:os.system", "!!python/object/apply:subprocess.call"):
        args = f'["touch {sentinel}"]' if "os.system" in tag else f'[["touch", "{sentinel}"]]'
        path = tmp_path / "tag.yaml"
        path.write_text(HEAD + "inclusion:\n  - id: I1\n    text: x\n    rule:\n"
                        f"      field: age\n      ge: {tag} {args}\n", encoding="utf-8")
        for args_ in (("validate", str(path)), ("screen", str(ELIGIBLE), "--trial", str(path))):
            ran = cli(*args_)
            check_common(ran, tag)
            assert ran.code == 65
            assert f"the YAML tag 'tag:yaml.org,2002:{tag[2:]}' is not allowed" in ran.err
    assert not sentinel.exists(), "a criteria file ran a command"


# --- CSV: trialscreen batch --------------------------------------------------------------------

def data_rows(path: Path) -> int:
    lines = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
    return sum(1 for line in lines[1:] if line.strip())


def output_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("path", cases("csv"), ids=lambda p: p.name)
def test_csv_corpus(path):
    code, sentence = expected(path)
    p = str(path)
    ran = cli("batch", p, "--trial", TRIAL, "--quiet")
    check_common(ran, path.name)
    assert ran.code == code, f"{path.name}: exit {ran.code}, expected {code}; stderr: {ran.err}"
    if code in (0, 1):
        assert ran.err == ""
        rows = output_rows(ran.out)
        assert len(rows) == data_rows(path), "rows in != rows out"
        verdicts = [r["verdict"] for r in rows]
        if code == 0:
            assert verdicts == [sentence] * len(rows)
            note = expected_note(path)
            if note:
                assert all(note in r["missing"] for r in rows), [r["missing"] for r in rows]
        else:
            errors = [r["error"] for r in rows if r["verdict"] == "error"]
            assert errors, "exit 1 without an error row"
            assert errors[0] == sentence
            assert "eligible" not in verdicts
            loud = cli("batch", p, "--trial", TRIAL)
            check_common(loud, f"{path.name} (summary)")
            assert loud.code == 1
            # the console wraps long lines at its width: compare the words
            assert " ".join(f"error: {sentence}".split()) in " ".join(loud.err.split())
    else:
        assert ran.err == one_line(sentence.replace("{path}", p))
        assert_no_eligible_verdict(ran.out, path.name)


def test_csv_cell_larger_than_the_field_limit(tmp_path):
    path = tmp_path / "bigcell.csv"
    path.write_text("id,allergies\nP1," + "x" * 1_100_000 + "\nP2,penicillin\n", encoding="utf-8")
    ran = cli("batch", str(path), "--trial", TRIAL, "--quiet")
    check_common(ran, path.name)
    assert ran.code == 1
    rows = output_rows(ran.out)
    assert [r["row"] for r in rows] == ["2", "3"]
    assert rows[0]["verdict"] == "error"
    assert rows[0]["error"] == ("row 2: unreadable CSV (field larger than field limit (1000000)) "
                                "(check the quotes in this row)")
    assert rows[1]["verdict"] != "error"


def test_csv_json_list_cell_nested_100000_deep(tmp_path):
    """Regression: a JSON-list cell of 100,000 nested arrays is a RecursionError that ends the batch."""
    path = tmp_path / "deepcell.csv"
    path.write_text("id,treatments\nP1," + "[" * 100_000 + "]" * 100_000 + "\nP2,[]\n", encoding="utf-8")
    ran = cli("batch", str(path), "--trial", TRIAL, "--quiet")
    check_common(ran, path.name)
    assert ran.code == 1
    rows = output_rows(ran.out)
    assert [(r["row"], r["verdict"]) for r in rows] == [("2", "error"), ("3", "needs_review")]
    assert rows[0]["error"] == "row 2, column 'treatments': the JSON list nests too deeply"


def test_csv_bad_bytes_with_out_file(tmp_path):
    """Regression: a latin-1 id written to --out FILE (UTF-8, strict) ends the batch with exit 70."""
    path = CORPUS / "csv" / "latin1-row.csv"
    out = tmp_path / "out.csv"
    ran = cli("batch", str(path), "--trial", TRIAL, "--quiet", "--out", str(out))
    check_common(ran, path.name)
    assert ran.code == 1
    rows = output_rows(out.read_text(encoding="utf-8"))
    assert len(rows) == 1 and rows[0]["verdict"] == "error"


# --- what is printed: escapes and patient values -----------------------------------------------

HOSTILE_ID = "\x1b[2J\x1b]0;pwned\x07EX-1"


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_escape_sequences_in_a_patient_id_never_reach_the_terminal(tmp_path, fmt):
    record = json.loads(ELIGIBLE.read_text(encoding="utf-8"))
    record["id"] = HOSTILE_ID
    path = tmp_path / "escape-id.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    ran = cli("screen", str(path), "--trial", TRIAL, "--format", fmt)
    assert ran.code == 0
    raw = RAW_CONTROL.findall(ran.everything)
    assert not raw, f"raw control characters {sorted(set(raw))!r} in the {fmt} output"


def test_escape_sequences_in_a_batch_id_never_reach_the_terminal(tmp_path):
    path = tmp_path / "escape-id.csv"
    path.write_text(f"id,age,ecog\n{HOSTILE_ID},64,1\n", encoding="utf-8")
    ran = cli("batch", str(path), "--trial", TRIAL, "--quiet")
    assert ran.code == 0
    raw = RAW_CONTROL.findall(ran.everything)
    assert not raw, f"raw control characters {sorted(set(raw))!r} in the batch output on stdout"


@pytest.mark.parametrize("name, value", [
    ("impossible-age-300.json", "300"),
    ("impossible-date-month-13.json", "1961-13-45"),
    ("impossible-ecog-7.json", "7"),
])
def test_patient_values_only_with_verbose(name, value):
    path = str(CORPUS / "patients" / name)
    quiet = cli("screen", path, "--trial", TRIAL)
    loud = cli("--verbose", "screen", path, "--trial", TRIAL)
    assert quiet.code == loud.code == 65
    assert "value:" not in quiet.err and f"'{value}'" not in quiet.err
    assert f"(value: {value!r})" in loud.err or f"(value: {value})" in loud.err
    assert loud.err.count("\n") == 1


def test_escape_sequences_in_a_verbose_value_are_escaped():
    path = str(CORPUS / "patients" / "escape-sequence-in-sex.json")
    loud = cli("--verbose", "screen", path, "--trial", TRIAL)
    assert loud.code == 65
    assert "pwned" in loud.err
    assert not RAW_CONTROL.findall(loud.err)


def test_csv_row_values_only_with_verbose():
    path = str(CORPUS / "csv" / "impossible-age-300.csv")
    quiet = cli("batch", path, "--trial", TRIAL, "--quiet")
    loud = cli("--verbose", "batch", path, "--trial", TRIAL, "--quiet")
    assert quiet.code == loud.code == 1
    assert "300" not in output_rows(quiet.out)[0]["error"]
    assert "(value: 300" in output_rows(loud.out)[0]["error"]
