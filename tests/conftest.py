import copy
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    """Compare rendered output with tests/golden/NAME; TRIALSCREEN_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("TRIALSCREEN_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with TRIALSCREEN_UPDATE_GOLDEN=1 to write it, then review it"
    assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"
# The tests keep their own factor cache, fresh for each run (subprocesses inherit it).
os.environ["TRIALSCREEN_CACHE"] = tempfile.mkdtemp(prefix="trialscreen-cache-")
# Reports say when they were generated: the tests fix that date (2025-06-02 00:00 UTC), so golden
# files stay equal (SOURCE_DATE_EPOCH, the reproducible-builds convention; render/plain.py).
os.environ["SOURCE_DATE_EPOCH"] = "1748822400"
EXAMPLES = ROOT / "examples" / "patients"
ELIGIBLE = EXAMPLES / "NCT05378971-eligible.json"


@pytest.fixture(scope="session")
def nct05378971():
    from trialscreen.criteria.library import load_trial

    return load_trial("NCT05378971")


@pytest.fixture
def eligible_record():
    """The complete eligible example record, as a fresh dict per test."""
    return copy.deepcopy(json.loads(ELIGIBLE.read_text(encoding="utf-8")))


def screen_record(trial, record, as_of=None):
    from trialscreen.evaluate.screen import screen
    from trialscreen.patient.load import patient_from_dict

    return screen(trial, patient_from_dict(record, "test.json"), as_of)


def status_of(result, cid):
    return next(c for c in result.criteria if c.id == cid)


@pytest.fixture(autouse=True)
def _values_hidden():
    """Each test starts with patient values kept out of messages (the default)."""
    from trialscreen import errors

    errors.SHOW_VALUES = False
    yield
    errors.SHOW_VALUES = False


@pytest.fixture
def run(monkeypatch):
    """Invoke the command line as a user would (from the project folder, 120
    columns, no colour); returns typer's Result with stdout and stderr."""
    from typer.testing import CliRunner

    from trialscreen_cli.main import app

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


@dataclass
class Ran:
    """What a command printed and its exit code."""

    code: int
    out: str
    err: str

    @property
    def everything(self) -> str:
        return self.out + self.err


def cli(*args: str, input: bytes | str | None = None) -> Ran:
    """Run the real entry point in-process (trialscreen_cli.main.run, the one `trialscreen` and
    `python -m trialscreen` use, so an unexpected exception shows as exit 70 as it would for a
    user), with stdout and stderr captured apart."""
    import sys

    from typer.testing import CliRunner

    from trialscreen_cli.main import run

    runner = CliRunner()
    env = {"TRIALSCREEN_DEBUG": None, "NO_COLOR": "1", "COLUMNS": "120"}
    with runner.isolation(input=input, env=env) as (out, err, _):
        code = 0
        try:
            run(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))

