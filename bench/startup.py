"""Benchmark: start-up of a one-patient `trialscreen screen` against a bare typer app.

Both run as fresh processes in this environment, alternately, several rounds;
the figure is the ratio of the medians (target <= 1.2). The screen uses the default
table output with stdout not a terminal (a pipe), as a script or a log would see it. The hello-world app is
the floor for any typer command line. One warm-up screen runs first, as any
user's first run does: it computes the unit conversion factors with pint and
keeps them in the factor cache, so later runs do not import pint.

Our sources are byte-compiled first (compileall), as `pip install .` does for
an installed copy and for typer itself: in an editable checkout on a machine
with PYTHONDONTWRITEBYTECODE set, every run would otherwise recompile them.

    python bench/startup.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELLO = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world"):
    print(f"hello {name}")


if __name__ == "__main__":
    app()
'''


def timed(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src"), str(ROOT / "cli")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        screen = [sys.executable, "-m", "trialscreen", "screen",
                  "examples/patients/NCT05378971-us-units-ineligible.json", "--trial", "NCT05378971"]
        bare = [sys.executable, str(hello)]
        help_cmd = [sys.executable, "-m", "trialscreen", "--help"]
        timed(screen)  # warm-up: fills the factor cache
        s, h, hp = [], [], []
        for _ in range(args.rounds):
            h.append(timed(bare))
            s.append(timed(screen))
            hp.append(timed(help_cmd))
    ms, mh, mhp = statistics.median(s), statistics.median(h), statistics.median(hp)
    print(f"typer hello-world:            median {mh * 1000:6.0f} ms")
    print(f"trialscreen --help:           median {mhp * 1000:6.0f} ms  (ratio {mhp / mh:.2f})")
    print(f"trialscreen screen (1 patient, US units, table): median {ms * 1000:6.0f} ms")
    print(f"ratio screen / hello-world: {ms / mh:.2f}  (target <= 1.2)")


if __name__ == "__main__":
    main()
