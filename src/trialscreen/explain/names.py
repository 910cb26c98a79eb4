"""The names explanations give things: a vocabulary entry's ``short`` name where it has one
(ALT, ANC, CNS involvement, ASCT), else its canonical name in words (multiple myeloma). The
vocabularies hold the names; nothing here knows a disease."""

from __future__ import annotations

from functools import lru_cache

from trialscreen import vocab

_KINDS = {"condition": vocab.conditions, "diagnosis": vocab.diagnoses, "treatment": vocab.treatments}


def words(name: str) -> str:
    """A canonical name in words: 'newly_diagnosed' -> 'newly diagnosed'."""
    return str(name).replace("_", " ")


def analyte_name(analyte) -> str:
    """'ALT', 'creatinine', 'HBV DNA'."""
    return getattr(analyte, "short", None) or words(analyte.name)


@lru_cache(maxsize=1024)
def term_name(kind: str, name: str) -> str:
    """A condition's, diagnosis's or treatment type's short name: 'CNS involvement', 'ASCT'; a
    name no vocabulary knows is kept as the record writes it, so it can be found there."""
    entry = _KINDS[kind]().get(name)
    if entry is None:
        return name               # a name the record gives that no vocabulary knows: as written
    short = entry.extra.get("short")
    return str(short) if short else words(entry.name)
