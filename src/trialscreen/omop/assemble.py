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

PERSONS = """
SELECT p.person_id, g.name AS sex, p.gender_source_value, p.gender_concept_id, p.birth_datetime,
       p.year_of_birth, p.month_of_birth, p.day_of_birth, o.observed, o.periods
FROM person p
LEFT JOIN ts_meaning g ON g.role = 'gender' AND g.concept_id = p.gender_concept_id
LEFT JOIN (SELECT person_id, bool_or($as_of BETWEEN observation_period_start_date
                                       AND observation_period_end_date) AS observed,
                  list([observation_period_start_date, observation_period_end_date]) AS periods
           FROM observation_period GROUP BY person_id) o ON o.person_id = p.person_id
{where}
ORDER BY p.person_id
"""

MEASURED = """
SELECT * EXCLUDE (rn) FROM (
  SELECT m.person_id, COALESCE(k1.kind, k2.kind) AS kind, COALESCE(k1.name, k2.name) AS name,
         m.measurement_date AS day, m.value_as_number, m.value_as_number_text, op.name AS operator,
         m.operator_concept_id, u.name AS unit, m.unit_concept_id, m.unit_source_value, m.value_source_value,
         m.range_low, m.range_low_text, m.range_high, m.range_high_text, a.name AS answer,
         m.value_as_concept_id, m.measurement_id,
         row_number() OVER (PARTITION BY m.person_id, COALESCE(k1.kind, k2.kind), COALESCE(k1.name, k2.name)
                            ORDER BY m.measurement_date DESC, m.measurement_datetime DESC NULLS LAST,
                                     m.measurement_id DESC) AS rn
  FROM measurement m
  LEFT JOIN ts_meaning k1 ON k1.role = 'measured' AND k1.concept_id = m.measurement_concept_id
  LEFT JOIN ts_meaning k2 ON k2.role = 'measured' AND k2.concept_id = m.measurement_source_concept_id
  LEFT JOIN ts_meaning u ON u.role = 'unit' AND u.concept_id = m.unit_concept_id
  LEFT JOIN ts_meaning op ON op.role = 'operator' AND op.concept_id = m.operator_concept_id
  LEFT JOIN ts_meaning a ON a.role = 'answer' AND a.concept_id = m.value_as_concept_id
  WHERE COALESCE(k1.name, k2.name) IS NOT NULL AND m.measurement_date <= $as_of
    AND (m.value_as_number_text IS NOT NULL OR COALESCE(m.value_as_concept_id, 0) <> 0
         OR NULLIF(TRIM(m.value_source_value), '') IS NOT NULL)
    {persons}
) WHERE rn = 1
ORDER BY person_id
"""

OBSERVED = """
SELECT o.person_id, COALESCE(k1.kind, k2.kind) AS kind, COALESCE(k1.name, k2.name) AS name,
       o.observation_date AS day, o.value_as_number, o.value_as_number_text, o.value_as_string,
       a.name AS answer, o.value_as_concept_id, t.name AS event_table, o.observation_event_id, o.observation_id
FROM observation o
LEFT JOIN ts_meaning k1 ON k1.role = 'observed' AND k1.concept_id = o.observation_concept_id
LEFT JOIN ts_meaning k2 ON k2.role = 'observed' AND k2.concept_id = o.observation_source_concept_id
LEFT JOIN ts_meaning a ON a.role = 'answer' AND a.concept_id = o.value_as_concept_id
LEFT JOIN ts_meaning t ON t.role = 'table' AND t.concept_id = o.obs_event_field_concept_id
WHERE COALESCE(k1.name, k2.name) IS NOT NULL AND o.observation_date <= $as_of {persons}
ORDER BY o.person_id, o.observation_date, o.observation_id
"""

# A standard concept decides; its source concept only when the standard one is 0, not in CONCEPT,
# or unplaced. A concept placed as "nothing trialscreen reads" (kind 'none') drops its row.
_PICK = """CASE WHEN k1.kind IS NULL OR k1.kind = 'unplaced' THEN COALESCE(k2.{0}, k1.{0}) ELSE k1.{0} END"""
KIND, NAME = _PICK.format("kind"), _PICK.format("name")

CONDITIONS = f"""
SELECT * FROM (
  SELECT c.person_id, {KIND} AS kind, {NAME} AS name, c.condition_start_date AS day,
         c.condition_end_date AS end_day, c.condition_occurrence_id AS item_id
  FROM condition_occurrence c
  LEFT JOIN ts_meaning k1 ON k1.role = 'condition' AND k1.concept_id = c.condition_concept_id
  LEFT JOIN ts_meaning k2 ON k2.role = 'condition' AND k2.concept_id = c.condition_source_concept_id
  WHERE c.condition_start_date <= $as_of {{persons}}
) WHERE kind IS NOT NULL AND kind <> 'none'
ORDER BY person_id, day, item_id
"""

DRUGS = """
SELECT d.person_id, k.kind, k.name, d.drug_exposure_start_date AS day, d.drug_exposure_end_date AS end_day,
       d.drug_exposure_id AS item_id, k.detail
FROM drug_exposure d
JOIN ts_meaning k ON k.role = 'drug' AND k.concept_id = d.drug_concept_id
WHERE d.drug_exposure_start_date <= $as_of AND k.kind <> 'none' AND (k.kind <> 'drug' OR k.detail <> '') {persons}
ORDER BY d.person_id, d.drug_exposure_start_date, d.drug_exposure_id, k.name
"""

PROCEDURES = f"""
SELECT * FROM (
  SELECT p.person_id, {KIND} AS kind, {NAME} AS name, p.procedure_date AS day, p.procedure_end_date AS end_day,
         p.procedure_occurrence_id AS item_id
  FROM procedure_occurrence p
  LEFT JOIN ts_meaning k1 ON k1.role = 'procedure' AND k1.concept_id = p.procedure_concept_id
  LEFT JOIN ts_meaning k2 ON k2.role = 'procedure' AND k2.concept_id = p.procedure_source_concept_id
  WHERE p.procedure_date <= $as_of {{persons}}
) WHERE kind IN ('treatment', 'unplaced')
ORDER BY person_id, day, item_id
"""

STREAMS = {"measured": ("measurement", MEASURED), "observed": ("observation", OBSERVED),
           "conditions": ("condition_occurrence", CONDITIONS), "drugs": ("drug_exposure", DRUGS),
           "procedures": ("procedure_occurrence", PROCEDURES)}
FETCH = 10_000


@dataclass
class PersonRows:
    """One person's rows: the PERSON row, then each stream's rows (as dicts)."""

    person: dict
    rows: dict = field(default_factory=dict)


def person_rows(source, as_of: date, limit: int | None = None, orphans: dict | None = None):
    """Yield PersonRows in person_id order. ``limit``: the first N persons only. ``orphans``, when
    given, is filled at the end with stream -> how many rows named a person PERSON does not hold."""
    from trialscreen.omop.source import cast_error

    where = ""
    persons = ""
    params = {"as_of": as_of}
    if limit is not None:
        source.con.execute("CREATE OR REPLACE TABLE ts_persons AS SELECT person_id FROM person "
                           f"ORDER BY person_id LIMIT {int(limit)}")
        where = "WHERE p.person_id IN (SELECT person_id FROM ts_persons)"
        persons = "AND person_id IN (SELECT person_id FROM ts_persons)"
    cursors = {}
    try:
        head = _stream(source, "person", PERSONS.format(where=where), params)
        for name, (table, sql) in STREAMS.items():
            cursors[name] = _Stream(_stream(source, table, sql.format(persons=persons), params))
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
            raise cast_error(source, _table_of(exc), exc) from None
        raise


def _table_of(exc: Exception) -> str:
    text = str(exc).lower()
    return next((t for t in ("measurement", "observation", "condition_occurrence", "drug_exposure",
                             "procedure_occurrence", "observation_period") if t in text), "person")


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
