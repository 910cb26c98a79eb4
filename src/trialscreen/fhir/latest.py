"""Which of several results of one lab or person field decides (docs/fhir.md, "Observation").

Results sort by the local day each is written with (a date alone is a whole day, wherever it was
taken), then by instant within the day, then by place in the file; an undated one (no date, or one
that cannot be read) sorts before every dated one. Results whose order cannot be told decide
nothing unless they agree with the one that sorts last, as in ``batch --extract``.
"""

from __future__ import annotations

from datetime import date

from trialscreen.fhir import values as v


def sort_key(latest: date | None, text: str, index: int, day: date | None) -> tuple:
    """(dated, local day, instant, place in the file, the full date written): ``latest`` is the
    day the result sorts by (for a partial date its last possible day), ``day`` its own date."""
    return (latest is not None, latest or date.min, v.instant(text, latest), index, day)


def undecided(seen: list, key: tuple, entry) -> str | None:
    """Why the results ``seen`` of one lab or field ((sort key, entry, has a time, date as
    written) each) do not let the one that sorts last (``key``, ``entry``) decide; None if it does."""
    timed = next((t for k, _, t, _ in seen if k == key), False)
    for k, other, has_time, written in seen:
        if k == key or _bare(other) == _bare(entry):
            continue
        if not key[0]:
            return "results with no readable date that differ"
        if not k[0]:
            said = f"its date: {written!r}" if written else "it has no date"
            return f"a result with no readable date differs from the latest dated one ({key[1].isoformat()}; {said})"
        if k[1] == key[1] and not (has_time and timed):
            return f"results of one day that differ and whose order cannot be told ({key[1].isoformat()})"
        if has_time and timed and k[2] >= key[2]:
            return ("results that differ and whose order cannot be told: their time zones put them in "
                    f"another order than their days ({written!r} is later than the result of {key[1].isoformat()})")
    return None


def _bare(entry):
    """A result as compared with another: its value, not its date."""
    return {k: x for k, x in entry.items() if k != "date"} if isinstance(entry, dict) else entry
