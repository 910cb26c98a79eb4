"""The column groups of a batch file: the cells the patient reader reads apart.

Each lab (its value, range and date columns, with the file's ``lab_date``), the
cytogenetics, the conditions, each list section (diagnoses, treatments, neoplasms), and each
of the patient's own fields (those checked together, together) are a group: what the reader
makes of a group depends only on that group's cells. ``group_of`` says which group holds a
path of the IR's ``reads()``; ``assemble`` puts a patient together from its groups' readings.
"""

from __future__ import annotations

from trialscreen.batch.columns import ColumnPlan
from trialscreen.patient.model import Patient

# the patient's own fields the reader checks together (a birth date against the as-of date and
# an age; pregnant against childbearing potential): one group each; every other field alone
_TOGETHER = {"age": "dates", "birth_date": "dates", "as_of": "dates",
             "pregnant": "pregnancy", "childbearing_potential": "pregnancy"}
_PERSON_FIELDS = ("sex", "age", "birth_date", "ecog", "as_of", "weight_kg", "height_cm")
_SECTIONS = {"finding": "cytogenetics", "finding_percent": "cytogenetics", "condition": "conditions",
             "condition_attr": "conditions", "diagnosis": "diagnoses", "diagnosis_attr": "diagnoses",
             "finding_date": "cytogenetics", "treatment": "treatments"}


def column_groups(plan: ColumnPlan) -> list | None:
    """[(group name, cell indices, columns)], labs in the order of their first column, or None
    when the plan's cells cannot be read apart. A lab's group holds the file's lab date too."""
    if "" not in plan.missing or any(col.values and "" in col.values for col in plan.columns):
        return None
    groups: dict = {}
    lab_date = [c for c in plan.columns if c.kind == "scalar" and c.key == "lab_date"]
    for col in plan.columns:
        if col.kind == "id":
            continue
        name = group_name(col)
        if name is None:
            return None
        groups.setdefault(name, list(lab_date) if name.startswith("labs.") else []).append(col)
    return [(name, tuple(c.index for c in cols), cols) for name, cols in groups.items()]


def group_name(col) -> str | None:
    """The group a column's cells belong to, or None for a kind this table does not know."""
    if col.kind in ("lab", "lab_attr", "lab_range", "lab_flag"):
        return f"labs.{col.key}"
    if col.kind in _SECTIONS:
        return _SECTIONS[col.kind]
    if col.kind == "json_list" and col.key in ("diagnoses", "treatments", "neoplasms"):
        return col.key
    if col.kind == "scalar":
        return "person." + _TOGETHER.get(col.key, col.key)
    if col.kind in ("allergies", "complete", "attestation"):
        return f"person.{col.kind}"
    return None


def group_of(path: str) -> str | None:
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


def assemble(pid: str, source: str, parts) -> Patient:
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
