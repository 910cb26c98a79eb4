"""The one table of patient fields: the scalar facts of a record that a rule can name with
``field:`` (age, sex, ECOG, weight, height and the yes/no flags).

The criteria compiler, the linter, the patient reader, the batch column plan and the
explanations all read it; a new field is one row here (and its reading in patient/load.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PatientField:
    name: str                             # as a rule, a record and a CSV column name it
    kind: str                             # number, integer, sex, kg, cm or bool
    label: str                            # in explanations
    range: tuple[float, float] | None = None   # what a real patient can have (the reader refuses the rest)


FIELDS: dict[str, PatientField] = {f.name: f for f in (
    PatientField("age", "number", "age", (0, 130)),
    PatientField("ecog", "integer", "ECOG", (0, 5)),
    PatientField("sex", "sex", "sex"),
    PatientField("weight", "kg", "weight", (0.5, 500)),
    PatientField("height", "cm", "height", (30, 260)),
    PatientField("childbearing_potential", "bool", "childbearing potential"),
    PatientField("pregnant", "bool", "pregnancy"),
    PatientField("lactating", "bool", "breastfeeding"),
    PatientField("transplant_candidate", "bool", "transplant candidate"),
)}

FLAGS: tuple[str, ...] = tuple(name for name, f in FIELDS.items() if f.kind == "bool")


def range_of(name: str) -> tuple[float, float]:
    """The range of a numeric field (age, ecog, weight, height)."""
    found = FIELDS[name].range
    if found is None:
        raise KeyError(f"{name} has no range")
    return found
