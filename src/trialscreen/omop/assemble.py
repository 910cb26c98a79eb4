"""Per-person rows out of DuckDB, in person_id order, in bounded memory.

One query per table, each sorted by person_id and joined to ``ts_meaning`` (concepts.py), so only
the rows some rule reads leave DuckDB, and of the labs only the most recent per analyte on or before
the as-of date (latest date, then datetime, then the highest measurement_id). Nothing dated after
the as-of date is read. The streams are merged person by person: memory holds one person's rows
and one fetch of each stream. records.py turns a person's rows into a patient record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from trialscreen.omop.queries import STREAMS

PERSONS = """
SELECT p.person_id, g.name AS sex, p.gender_source_value, p.gender_concept_id, p.birth_datetime,
       p.year_of_birth, p.month_of_birth, p.day_of_birth, o.observed, o.periods,
       count(*) OVER (PARTITION BY p.person_id) AS ts_rows
FROM person p
LEFT JOIN ts_meaning g ON g.role = 'gender' AND g.concept_id = p.gender_concept_id
LEFT JOIN (SELECT person_id, bool_or($as_of BETWEEN observation_period_start_date
                                       AND observation_period_end_date) AS observed,
                  list([observation_period_start_date, observation_period_end_date]) AS periods
           FROM observation_period GROUP BY person_id) o ON o.person_id = p.person_id
WHERE p.person_id IS NOT NULL {where}
ORDER BY p.person_id
"""

FETCH = 10_000


@dataclass
class PersonRows:
    """One person's rows: the PERSON row, then each stream's rows (as dicts)."""

    person: dict
    rows: dict = field(default_factory=dict)


def person_rows(source, as_of: date, limit: int | None = None, orphans: dict | None = None,
                between: tuple = (None, None)):
    """Yield PersonRows in person_id order. ``limit``: the first N persons only. ``orphans``, when
    given, is filled at the end with stream -> how many rows named a person PERSON does not hold.
    ``between``: only person_ids from the first (inclusive) to the second (exclusive), None open."""
    from trialscreen.omop.source import cast_error

    where = ""
    persons = ""
    params = {"as_of": as_of}
    if limit is not None:
        source.con.execute("CREATE OR REPLACE TABLE ts_persons AS SELECT DISTINCT person_id FROM person "
                           f"WHERE person_id IS NOT NULL ORDER BY person_id LIMIT {int(limit)}")
        where = "AND p.person_id IN (SELECT person_id FROM ts_persons)"
        persons = "AND person_id IN (SELECT person_id FROM ts_persons)"
    for bound, op in zip(between, (">=", "<")):
        if bound is not None:
            where += f" AND p.person_id {op} {int(bound)}"
            persons += f" AND person_id {op} {int(bound)}"
    cursors = {}
    try:
        head = _stream(source, "person", PERSONS.format(where=where), params)
        for name, (table, sql, keys) in STREAMS.items():
            query = sql.format(t="", as_of="$as_of", persons=persons) + f" ORDER BY person_id, {', '.join(keys)}"
            cursors[name] = _Stream(_stream(source, table, query, params))
        for group in head:
            pid = group[0]["person_id"]
            yield PersonRows(group[0], {name: s.take(pid) for name, s in cursors.items()})
        for name, stream in cursors.items():
            stream.take(None)
            if orphans is not None and stream.orphans:
                orphans[STREAMS[name][0].upper()] = stream.orphans
    except Exception as exc:
        import duckdb

        if isinstance(exc, (duckdb.ConversionException, duckdb.InvalidInputException)):
            raise cast_error(source, "person", exc) from None
        raise


def _stream(source, table: str, sql: str, params: dict):
    """The groups of rows of one query, one person at a time (a list of dicts each)."""
    cur = source.con.cursor()
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    key = None
    rows: list = []
    while batch := cur.fetchmany(FETCH):
        for row in batch:
            if row[0] != key:
                if rows:
                    yield rows
                key, rows = row[0], []
            rows.append(dict(zip(names, row)))
    if rows:
        yield rows
    cur.close()


class _Stream:
    """A sorted stream of groups, taken person by person. Rows of a person_id PERSON does not
    hold (an orphan) are counted and skipped."""

    def __init__(self, groups):
        self.groups = groups
        self.next = next(groups, None)
        self.orphans = 0

    def take(self, pid) -> list:
        while self.next is not None and (pid is None or self.next[0]["person_id"] < pid):
            self.orphans += len(self.next)
            self.next = next(self.groups, None)
        if self.next is not None and self.next[0]["person_id"] == pid:
            found, self.next = self.next, next(self.groups, None)
            return found
        return []
