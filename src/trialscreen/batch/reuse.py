"""A row's patient from the parts earlier rows already read, for batches.

The columns of a file fall into groups that the patient reader reads apart: each lab (its
value, range and date columns, with the file's ``lab_date``), the cytogenetics, the
conditions, each list section (diagnoses, treatments, neoplasms), and the rest (the
patient's own fields, flags, attestations, allergies, ``complete``). What the reader makes
of a group depends only on that group's cells. So a group's cells are read once, as a row
of those columns alone (with the id), by the same ``row_to_record`` and
``patient_from_dict`` as any row, and a later row with the same cells in that group takes
the result.

Only groups read cleanly are reused: when any group of a row gave an error, a warning or a
name the vocabulary could not place, the whole row is read as before, so its messages
come out exactly as they always did. A file whose plan this module cannot group (a coded
value for an empty cell, missing-value tokens without the empty cell) is read row by row,
and so is a file whose cells hardly repeat (more than half of the groups of its first
10,000 rows were new). The table holds at most ``limit`` groups and is emptied when full.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from trialscreen.batch.columns import ColumnPlan
from trialscreen.batch.rows import row_to_record
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import PerObject, Worth, keep
from trialscreen.patient.model import Patient

# the patient's own fields the reader checks together (a birth date against the as-of date and
# an age; pregnant against childbearing potential): one group each; every other field alone
_TOGETHER = {"age": "dates", "birth_date": "dates", "as_of": "dates",
             "pregnant": "pregnancy", "childbearing_potential": "pregnancy"}
_PERSON_FIELDS = ("sex", "age", "birth_date", "ecog", "as_of", "weight_kg", "height_cm")
_SECTIONS = {"finding": "cytogenetics", "finding_percent": "cytogenetics", "condition": "conditions",
             "condition_attr": "conditions", "diagnosis": "diagnoses", "diagnosis_attr": "diagnoses",
             "treatment": "treatments"}
_UNUSABLE = object()      # a group whose reading must come from the whole row


def column_groups(plan: ColumnPlan) -> list | None:
    """[(group name, column indices)], labs in the order of their first column, or None when
    the plan's cells cannot be read apart."""
    if "" not in plan.missing or any(col.values and "" in col.values for col in plan.columns):
        return None
    groups: dict = {}
    lab_date = [c.index for c in plan.columns if c.kind == "scalar" and c.key == "lab_date"]
    for col in plan.columns:
        if col.kind == "id":
            continue
        if col.kind in ("lab", "lab_attr"):
            name = f"labs.{col.key}"
            groups.setdefault(name, list(lab_date)).append(col.index)
        elif col.kind in _SECTIONS:
            groups.setdefault(_SECTIONS[col.kind], []).append(col.index)
        elif col.kind == "json_list" and col.key in ("diagnoses", "treatments", "neoplasms"):
            groups.setdefault(col.key, []).append(col.index)
        elif col.kind == "scalar":
            groups.setdefault("person." + _TOGETHER.get(col.key, col.key), []).append(col.index)
        elif col.kind in ("allergies", "complete", "attestation"):
            groups.setdefault(f"person.{col.kind}", []).append(col.index)
        else:
            return None
    return [(name, tuple(indices)) for name, indices in groups.items()]


# After this many rows, reuse that missed more than half of its groups stops: a file whose
# cells rarely repeat is read row by row, at the cost it had without reuse.
_TRIAL_ROWS = 5_000
_SERIALS = itertools.count()


class RowReuse:
    def __init__(self, plan: ColumnPlan, source: str, memo=None, limit: int = 50_000):
        self.plan = plan
        self.source = source
        self.memo = memo                      # the record-part memo (patient/memo.py)
        self.groups = column_groups(plan)
        self.id_column = next(c for c in plan.columns if c.kind == "id")
        self.id_index = self.id_column.index
        # per group, the plan of its columns alone (and the id): the group is read as a row of them
        by_index = {c.index: c for c in plan.columns}
        self.plans = [replace(plan, columns=[self.id_column, *(by_index[i] for i in indices)], roles={})
                      for _, indices in (self.groups or ())]
        self.rows = 0
        self.worth = Worth(_TRIAL_ROWS)
        self.serial = next(_SERIALS)    # criteria keyed by this file's cells say whose cells they are
        self.limit = limit
        self.table: dict = {}
        self.hits = self.misses = 0
        self.index = {name: i for i, (name, _) in enumerate(self.groups or ())}
        self.current: list | None = None      # the group keys of the row just put together
        self.groups_read = PerObject(self._groups_read)

    def _groups_read(self, criterion) -> tuple | None:
        """The indices of the groups whose cells hold what ``criterion`` reads (its
        ``reads()``), or None if a path is not one this table knows."""
        names = [_group_of(path) for path in criterion.reads()]
        return None if None in names else tuple(sorted({self.index[n] for n in names if n in self.index}))

    def patient(self, cells: list[str]) -> Patient | None:
        """The row's patient put together from its groups' readings, or None: read the row
        as a whole (its id is not plain, or a group did not read cleanly)."""
        self.current = None
        if self.groups is None or self.id_column.values is not None:
            return None
        self.rows += 1
        if self.rows == 2 * _TRIAL_ROWS and self.misses * 2 > self.hits + self.misses:
            self.groups = None       # the cells hardly repeat: read row by row from here on
            self.table.clear()
            return None
        pid = cells[self.id_index].strip()
        if not pid or pid.lower() in self.plan.missing:
            return None
        parts = []
        keys = []
        for number, (name, indices) in enumerate(self.groups):
            key = (name, tuple(cells[i] for i in indices))
            keys.append(key)
            if not self.worth.kept(number):     # a group whose cells hardly repeat: read each time
                part = self._read(cells, self.plans[number])
            elif (part := self.table.get(key)) is None:
                self.misses += 1
                self.worth.count(number, False)
                part = self._read(cells, self.plans[number])
                keep(self.table, self.limit, key, part)
            else:
                self.hits += 1
                self.worth.count(number, True)
            if part is _UNUSABLE:
                return None
            parts.append((name, part))
        self.current = keys
        return _assemble(pid, self.source, parts)

    def _read(self, cells: list[str], plan: ColumnPlan):
        """The patient of the row's cells in the columns of ``plan`` (a group and the id), or
        _UNUSABLE."""
        try:
            record, _ = row_to_record(plan, cells)
            part = patient_from_dict(record, self.source, memo=self.memo)
        except Exception:  # noqa: BLE001 - an error (or a bug) is the whole row's to report, as before
            return _UNUSABLE
        if part.warnings or part.unrecognised:
            return _UNUSABLE
        return part


def _group_of(path: str) -> str | None:
    """The group whose columns hold a path of ``reads()`` (a group the file lacks holds
    nothing, in every row; a name the vocabulary could not place never reaches this path,
    those rows are read whole), or None for a path this table does not know."""
    head, _, name = path.partition(".")
    if head == "labs" and name:
        return path
    if head in ("cytogenetics", "conditions") or (head == "unrecognised" and name in ("cytogenetics", "conditions")):
        return name if head == "unrecognised" else head
    if head in ("diagnoses", "treatments", "neoplasms") and not name:
        return head
    if head == "complete" and name:
        return "person.complete"
    if head == "attestations" and name:
        return "person.attestation"
    if head == "allergies" and not name:
        return "person.allergies"
    if not name:
        return "person." + _TOGETHER.get(head, head)
    return None


def _assemble(pid: str, source: str, parts: list) -> Patient:
    """One patient from its groups' readings: each of the patient's own fields from the group
    that holds its column, each section from its own (containers fresh, frozen items shared)."""
    p = Patient(id=pid, source=source)
    for name, part in parts:
        if name.startswith("person."):
            for attr in _PERSON_FIELDS:
                value = getattr(part, attr)
                if value is not None:
                    setattr(p, attr, value)
            p.flags.update(part.flags)
            p.attestations.update(part.attestations)
            p.allergies.extend(part.allergies)
            if part.complete:
                p.complete = part.complete
        elif name.startswith("labs."):
            p.labs.update(part.labs)
        elif name == "cytogenetics":
            p.cytogenetics = dict(part.cytogenetics)
        elif name == "conditions":
            p.conditions = dict(part.conditions)
        else:
            setattr(p, name, list(getattr(part, name)))
    return p
