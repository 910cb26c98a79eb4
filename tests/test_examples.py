"""The commands in examples/README.md run as written and print what it says."""

import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

README = ROOT / "examples" / "README.md"


def _blocks():
    text = README.read_text(encoding="utf-8")
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.strip("\n").splitlines()
        assert lines[0].startswith("$ "), lines[0]
        yield lines[0][2:], [line for line in lines[1:] if line.strip()]


BLOCKS = list(_blocks())


def test_readme_has_commands():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("command,expected", BLOCKS, ids=[c for c, _ in BLOCKS])
def test_readme_command(command, expected):
    args = shlex.split(command)
    assert args[0] == "trialscreen"
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "trialscreen", *args[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    flat = " ".join(proc.stdout.split())  # a table cell may wrap over several lines
    for line in expected:
        assert " ".join(line.split()) in flat, f"{line!r} not in output:\n{proc.stdout}"
