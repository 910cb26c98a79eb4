"""What to fetch: the data item that would decide an unknown criterion, as structured data.

A ``Missing`` names the patient field (``path``, a path into the patient model such as
``labs.anc`` or ``diagnoses[0].stage``) and, where the field alone does not say it, what
is needed of it (``need``, shown in brackets), an alternative field (``alt``), the unit it
must come in (``unit``) or a question
to answer about it (``ask``, shown after a colon); for an item of a list, what the item is
(``of``, its type: the checklist names it, the words of the lists do not change). ``missing_text`` is the one place that
writes it as the words of the CSV ``missing`` column and the JSON ``missing`` lists.
"""

from __future__ import annotations

NOTHING: tuple = ()


class Missing(str):
    """A data item to fetch. It is its own words (a ``str``, so results stay plain data that
    JSON, CSV and Markdown print as is), and it keeps the parts those words are made of."""

    path: str
    need: str
    ask: str
    alt: str
    unit: str
    of: str

    def __new__(cls, path: str, need: str = "", ask: str = "", alt: str = "", unit: str = "",
                of: str = "") -> Missing:
        self = super().__new__(cls, missing_text(path, need, ask, alt, unit))
        self.path, self.need, self.ask, self.alt, self.unit, self.of = path, need, ask, alt, unit, of
        return self

    def __reduce__(self):
        return (Missing, (self.path, self.need, self.ask, self.alt, self.unit, self.of))


def missing_text(path: str, need: str = "", ask: str = "", alt: str = "", unit: str = "") -> str:
    """'labs.anc (fetch a current anc, dated within 28 days before 2025-06-01)',
    'age or birth_date', 'allergies: is 'x' one of y?', 'labs.anc in 10^9/L or /uL'."""
    out = path
    if alt:
        out += f" or {alt}"
    if unit:
        out += f" in {unit}"
    if need:
        out += f" ({need})"
    if ask:
        out += f": {ask}"
    return out
