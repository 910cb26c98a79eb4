"""Every output the product writes, as a manifest of SHA-256 digests: the check that a
restructuring step changes structure only (issue 10).

Runs the CLI in one process over every example and corpus patient (table, json, markdown),
every example and corpus CSV and a generated bench file (csv, jsonl, summary), `explain`,
`validate` and `test` of every bundled trial, and `vocab` and `schema`; records exit code,
stdout and stderr of each.

    python bench/outputs.py > before.txt     # on the old commit
    python bench/outputs.py > after.txt      # after the change
    diff before.txt after.txt                # nothing: byte-identical

    python bench/outputs.py --show NAME      # print one output (to see a difference)
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-06-01"   # a fixed date, so that records without one do not depend on today


def _runs(tmp: Path):
    """(name, argv) of every run."""
    patients = sorted([*(ROOT / "examples" / "patients").glob("*.json"),
                       *(ROOT / "tests" / "corpus" / "patients").glob("*.json")])
    for path in patients:
        rel = path.relative_to(ROOT)
        for fmt in ("table", "json", "markdown"):
            yield f"screen {fmt} {rel}", ["screen", str(path), "--format", fmt]
        yield f"screen as-of {rel}", ["screen", str(path), "--as-of", AS_OF, "--format", "json"]
    csvs = sorted([*(ROOT / "examples" / "batch").glob("*.csv"), *(ROOT / "tests" / "corpus" / "csv").glob("*.csv")])
    bench = tmp / "bench.csv"
    _bench_file(bench)
    csvs.append(bench)
    for path in csvs:
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        extra = []
        columns = path.with_name(path.stem + "-columns.yaml")
        if columns.exists():
            extra = ["--columns", str(columns)]
        for fmt in ("csv", "jsonl"):
            yield f"batch {fmt} {rel}", ["batch", str(path), "--format", fmt, "--as-of", AS_OF,
                                         "--summary", str(tmp / "summary.json"), "--quiet", *extra]
        yield f"batch stderr {rel}", ["batch", str(path), "--out", str(tmp / "out.csv"), *extra]
    for trial in sorted((ROOT / "criteria").glob("NCT*.yaml")):
        yield f"explain {trial.stem}", ["explain", trial.stem]
        yield f"validate {trial.stem}", ["validate", str(trial)]
    for path in sorted((ROOT / "tests" / "corpus" / "criteria").glob("*.yaml")):
        yield f"validate {path.name}", ["validate", str(path)]
    yield "test", ["test", str(ROOT / "criteria")]
    yield "trials", ["trials"]
    yield "vocab", ["vocab"]
    for spelling in ("creatinine", "K/uL", "del(17p)", "mg%", "lenalidomide", "autologous_transplant"):
        yield f"vocab {spelling}", ["vocab", spelling]
    yield "schema criteria", ["schema", "criteria"]
    yield "schema patient", ["schema", "patient"]


def _bench_file(path: Path, rows: int = 2000) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import csv

    from batch import HEADER, make_row  # type: ignore[import-not-found]

    rng = random.Random(10)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for i in range(rows):
            w.writerow(make_row(rng, i))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", help="print the output of this run instead of the manifest")
    args = parser.parse_args()
    from typer.testing import CliRunner

    from trialscreen_cli.main import app

    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in _runs(Path(tmp)):
            result = runner.invoke(app, argv, catch_exceptions=True)
            outputs = [f"exit {result.exit_code}", result.stdout, result.stderr]
            if result.exception and not isinstance(result.exception, SystemExit):
                outputs.append(f"exception {type(result.exception).__name__}: {result.exception}")
            summary = Path(tmp) / "summary.json"
            if summary.exists():
                outputs.append(summary.read_text(encoding="utf-8"))
                summary.unlink()
            text = "\n--\n".join(outputs).replace(tmp, "TMP").replace(str(ROOT), "ROOT")
            if args.show:
                if name == args.show:
                    print(text)
                    return 0
                continue
            print(hashlib.sha256(text.encode()).hexdigest()[:16], name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
