"""FHIR Bulk Data screening: time and peak memory as the export grows (issue 13).

The bundled sample (tests/data/fhir-bulk-10-patients) is copied N times with new Patient ids (and
references), each size screened in a fresh process against every bundled trial, the sizes taken
in turn, ``--rounds`` times. Memory must not grow with the export: each patient's resources are
read back from the on-disk index when that patient is screened.

    python bench/fhir.py [--copies 5 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "fhir-bulk-10-patients"
_CHILD = """
import resource, sys, io
from datetime import date
from trialscreen.criteria.library import bundled_trials, load_trial
from trialscreen.fhir.run import run_bulk
from trialscreen.render.batch import Writer
trials = [load_trial(str(p)) for p in bundled_trials()]
out = open(sys.argv[2], "w", newline="")
summary = run_bulk(sys.argv[1], trials, Writer(out, "csv", trials), as_of=date(2025, 6, 1))
out.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(summary.rows_in, summary.error_rows, round(peak, 1))
"""


def make_export(folder: Path, copies: int) -> int:
    """The sample ``copies`` times into ``folder``, each copy's ids suffixed; its size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for f in sorted(SAMPLE.glob("*.ndjson")):
        lines = f.read_text(encoding="utf-8").splitlines()
        with open(folder / f.name, "w", encoding="utf-8") as out:
            for copy in range(copies):
                for line in lines:
                    res = json.loads(line)
                    if res.get("resourceType") == "Patient":
                        res["id"] = f"{res['id']}-{copy}"
                    for key in ("subject", "patient"):
                        ref = (res.get(key) or {}).get("reference")
                        if isinstance(ref, str) and ref.startswith("Patient/"):
                            res[key]["reference"] = f"{ref}-{copy}"
                    out.write(json.dumps(res) + "\n")
        size += (folder / f.name).stat().st_size
    return size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, nargs="+", default=[5, 40])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {n: make_export(Path(tmp) / f"x{n}", n) for n in args.copies}
        results: dict = {n: [] for n in args.copies}
        for _ in range(args.rounds):
            for n in args.copies:            # the sizes alternate, so drift touches all alike
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", _CHILD, str(Path(tmp) / f"x{n}"),
                                       str(Path(tmp) / f"out{n}.csv")], capture_output=True, text=True, check=True)
                seconds = time.perf_counter() - start
                patients, errors, peak = done.stdout.split()
                results[n].append((seconds, int(patients), int(errors), float(peak)))
    base = min(args.copies)
    base_peak = min(r[3] for r in results[base])
    print(f"{'copies':>6} {'patients':>9} {'NDJSON MB':>10} {'best s':>8} {'patients/s':>11} {'peak MiB':>9} "
          f"{'peak vs smallest':>17} {'error rows':>10}")
    for n in args.copies:
        best = min(results[n])
        peak = max(r[3] for r in results[n])
        print(f"{n:>6} {best[1]:>9,} {sizes[n] / 1e6:>10.1f} {best[0]:>8.1f} {best[1] / best[0]:>11.1f} "
              f"{peak:>9.1f} {peak / base_peak:>16.2f}x {best[2]:>10}")


if __name__ == "__main__":
    main()
