"""Batch rows as text: the CSV (statuses only) and JSON Lines (the full explanation) that
``trialscreen batch`` writes, one row per patient and trial, in the order they are screened."""

from __future__ import annotations

import csv

from trialscreen.evaluate.screen import FAIL, UNKNOWN
from trialscreen.semantics.status import Verdict
from trialscreen.textio import json_text, printable

ERROR = Verdict.ERROR.value


class Writer:
    """Output rows as CSV (statuses only) or JSON Lines (the full explanation)."""

    def __init__(self, stream, fmt: str, trials):
        self.stream = stream
        self.fmt = fmt
        self.explain = fmt == "jsonl"
        self.multi = len(trials) > 1
        if fmt == "csv":
            self.columns = []
            for t in trials:
                for c in t.criteria:
                    self.columns.append(f"{t.id}:{c.id}" if self.multi else c.id)
            self.csv = csv.writer(stream, lineterminator="\n")

    def start(self) -> None:
        """Write the header: called once the input's own header has been read."""
        if self.fmt == "csv":
            self.csv.writerow(["id", "trial", "verdict", "failed", "unknown", "missing", "error", "covers",
                               *self.columns, "row"])

    def result(self, row: int, result) -> None:
        if self.fmt == "jsonl":
            out = result.as_dict()
            out["row"] = row
            self.stream.write(json_text(out) + "\n")
            return
        statuses = {(f"{result.trial.id}:{c.id}" if self.multi else c.id): c.status for c in result.criteria}
        self.csv.writerow([printable(result.patient_id), result.trial.id, result.verdict,
                           "; ".join(result.ids(FAIL)), "; ".join(result.ids(UNKNOWN)),
                           printable("; ".join(result.missing)), "", covers(result.trial),
                           *(statuses.get(c, "") for c in self.columns), row])

    def error(self, row: int, patient_id: str, trial, message: str) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json_text({"row": row, "trial": trial.summary(), "patient": {"id": patient_id},
                                         "verdict": ERROR, "error": message}) + "\n")
            return
        self.csv.writerow([printable(patient_id), trial.id, ERROR, "", "", "", printable(message), covers(trial),
                           *([""] * len(self.columns)), row])


def covers(trial) -> str:
    """What a verdict of ``trial`` speaks for: the whole protocol, or only the criteria its
    file encodes (a trial marked complete: false), so a filtered CSV cannot lose that."""
    return "all criteria" if trial.complete else "encoded criteria only"
