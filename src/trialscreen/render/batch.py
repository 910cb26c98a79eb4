"""Batch rows as text: the CSV (statuses only) and JSON Lines (the full explanation) that
``trialscreen batch`` writes, one row per patient and trial, in the order they are screened."""

from __future__ import annotations

import csv
import io
import re

from trialscreen.evaluate.screen import FAIL, UNKNOWN
from trialscreen.semantics.status import Verdict
from trialscreen.textio import json_text, printable

ERROR = Verdict.ERROR.value
_PLACE = "\x00patient id\x00"     # where a template's patient id goes: no criterion text holds it


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
        self.csv.writerow([printable(result.patient_id), *self._cells(result), row])

    def _cells(self, result) -> list:
        """A result's CSV cells between its patient id and its row number."""
        statuses = {(f"{result.trial.id}:{c.id}" if self.multi else c.id): c.status for c in result.criteria}
        return [result.trial.id, result.verdict, "; ".join(result.ids(FAIL)), "; ".join(result.ids(UNKNOWN)),
                printable("; ".join(result.missing)), "", covers(result.trial),
                *(statuses.get(c, "") for c in self.columns)]

    def template(self, result):
        """The output line of ``result`` less its patient id and row number, for rows whose
        results are the same (``repeat``): the CSV cells between them, or the JSON text
        around them. None when the text cannot be cut there (then ``result`` is written)."""
        if self.fmt == "jsonl":
            out = result.as_dict()
            out["patient"] = {"id": _PLACE}
            out["row"] = 0
            text = json_text(out)
            head, place, tail = text.partition(json_text(_PLACE))
            if not place or json_text(_PLACE) in tail or not tail.endswith(', "row": 0}'):
                return None
            return head, tail[:-2]
        return "," + _csv_line([*self._cells(result), ""])

    def repeat(self, row: int, patient_id: str, template) -> None:
        """Write the line of a ``template`` for this patient and row."""
        if self.fmt == "jsonl":
            self.stream.write(f"{template[0]}{json_text(patient_id)}{template[1]}{row}}}\n")
            return
        pid = printable(patient_id)
        if _QUOTED.search(pid):
            pid = _csv_line([pid])
        self.stream.write(f"{pid}{template}{row}\n")

    def error(self, row: int, patient_id: str, trial, message: str) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json_text({"row": row, "trial": trial.summary(), "patient": {"id": patient_id},
                                         "verdict": ERROR, "error": message}) + "\n")
            return
        self.csv.writerow([printable(patient_id), trial.id, ERROR, "", "", "", printable(message), covers(trial),
                           *([""] * len(self.columns)), row])


_QUOTED = re.compile('[,"\r\n]')    # what csv.writer quotes in a field (its delimiter, quote, line ends)


def _csv_line(cells: list) -> str:
    """The cells as csv.writer writes them, without the line end."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()[:-1]


def covers(trial) -> str:
    """What a verdict of ``trial`` speaks for: the whole protocol, or only the criteria its
    file encodes (a trial marked complete: false), so a filtered CSV cannot lose that."""
    return "all criteria" if trial.complete else "encoded criteria only"
