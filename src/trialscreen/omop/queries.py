"""The SQL that gathers each person's rows, written once for both engines (DuckDB and Spark SQL).

Each query joins one CDM table to ``ts_meaning`` (concepts.py) and keeps only the rows some rule
reads: nothing dated after the as-of date, of the labs the most recent per analyte (latest date,
then datetime, then the highest measurement_id), with how many results there were. The
placeholders: ``{t}`` the prefix of the table names (DuckDB's views are ``measurement``, Spark's
``ts_measurement``), ``{as_of}`` the as-of date (a parameter or a literal), ``{persons}`` a filter
on the persons screened. No rule is judged here: the queries gather rows; records.py and the one
record reader decide what they say.

A row of a condition, drug or procedure whose concepts place it nowhere (0, missing from CONCEPT,
or no vocabulary entry) is kept as kind 'unplaced', so that records.py can keep the section open.
"""

from __future__ import annotations

MEASURED = """
SELECT person_id, kind, name, day, value_as_number, value_as_number_text, operator, operator_concept_id,
       unit, unit_concept_id, unit_source_value, value_source_value, range_low, range_low_text, range_high,
       range_high_text, answer, value_as_concept_id, measurement_id, results FROM (
  SELECT m.person_id, COALESCE(k1.kind, k2.kind) AS kind, COALESCE(k1.name, k2.name) AS name,
         m.measurement_date AS day, m.value_as_number, m.value_as_number_text, op.name AS operator,
         m.operator_concept_id, u.name AS unit, m.unit_concept_id, m.unit_source_value, m.value_source_value,
         m.range_low, m.range_low_text, m.range_high, m.range_high_text, a.name AS answer,
         m.value_as_concept_id, m.measurement_id,
         row_number() OVER (PARTITION BY m.person_id, COALESCE(k1.kind, k2.kind), COALESCE(k1.name, k2.name)
                            ORDER BY m.measurement_date DESC NULLS LAST, m.measurement_datetime DESC NULLS LAST,
                                     m.measurement_id DESC NULLS LAST) AS rn,
         count(*) OVER (PARTITION BY m.person_id, COALESCE(k1.kind, k2.kind), COALESCE(k1.name, k2.name)) AS results
  FROM {t}measurement m
  LEFT JOIN ts_meaning k1 ON k1.role = 'measured' AND k1.concept_id = m.measurement_concept_id
  LEFT JOIN ts_meaning k2 ON k2.role = 'measured' AND k2.concept_id = m.measurement_source_concept_id
  LEFT JOIN ts_meaning u ON u.role = 'unit' AND u.concept_id = m.unit_concept_id
  LEFT JOIN ts_meaning op ON op.role = 'operator' AND op.concept_id = m.operator_concept_id
  LEFT JOIN ts_meaning a ON a.role = 'answer' AND a.concept_id = m.value_as_concept_id
  WHERE m.person_id IS NOT NULL AND COALESCE(k1.name, k2.name) IS NOT NULL AND m.measurement_date <= {as_of}
    AND (m.value_as_number_text IS NOT NULL OR COALESCE(m.value_as_concept_id, 0) <> 0
         OR NULLIF(TRIM(m.value_source_value), '') IS NOT NULL)
    {persons}
) WHERE rn = 1
"""

OBSERVED = """
SELECT o.person_id, COALESCE(k1.kind, k2.kind) AS kind, COALESCE(k1.name, k2.name) AS name,
       o.observation_date AS day, o.value_as_number, o.value_as_number_text, o.value_as_string,
       a.name AS answer, o.value_as_concept_id, t.name AS event_table, o.observation_event_id, o.observation_id
FROM {t}observation o
LEFT JOIN ts_meaning k1 ON k1.role = 'observed' AND k1.concept_id = o.observation_concept_id
LEFT JOIN ts_meaning k2 ON k2.role = 'observed' AND k2.concept_id = o.observation_source_concept_id
LEFT JOIN ts_meaning a ON a.role = 'answer' AND a.concept_id = o.value_as_concept_id
LEFT JOIN ts_meaning t ON t.role = 'table' AND t.concept_id = o.obs_event_field_concept_id
WHERE o.person_id IS NOT NULL AND COALESCE(k1.name, k2.name) IS NOT NULL AND o.observation_date <= {as_of}
  {persons}
"""

# The standard concept decides, its source concept when the standard one is 0, not in CONCEPT or
# unplaced, or when the source code is one that does not tell two entries apart (ICD-10-CM C90.0:
# an ETL maps it to the SNOMED multiple myeloma concept, which would decide what C90.0 cannot);
# when neither places the row it is 'unplaced', labelled by the concept (or the source value when
# there is no concept at all). 'none' (placed as nothing trialscreen reads: a drug
# whose ATC classes are no treatment, a condition code vocab/not_conditions.yaml lists) drops the row.
_PICK_KIND = """CASE WHEN k2.detail = 'ambiguous' THEN k2.kind
                     WHEN k1.kind IS NOT NULL AND k1.kind <> 'unplaced' THEN k1.kind
                     WHEN k2.kind IS NOT NULL AND k2.kind <> 'unplaced' THEN k2.kind ELSE 'unplaced' END"""
_PICK_NAME = """CASE WHEN k2.detail = 'ambiguous' THEN k2.name
                     WHEN k1.kind IS NOT NULL AND k1.kind <> 'unplaced' THEN k1.name
                     WHEN k2.kind IS NOT NULL AND k2.kind <> 'unplaced' THEN k2.name
                     ELSE COALESCE(k1.name, k2.name, 'with no concept (source value "' ||
                                   COALESCE({source_value}, '') || '")') END"""
_PICK_DETAIL = """CASE WHEN k2.detail = 'ambiguous' THEN k2.detail
                       WHEN k1.kind IS NOT NULL AND k1.kind <> 'unplaced' THEN k1.detail
                       WHEN k2.kind IS NOT NULL AND k2.kind <> 'unplaced' THEN k2.detail ELSE '' END"""


def _picked(source_value: str) -> str:
    return (f"{_PICK_KIND} AS kind, {_PICK_NAME.format(source_value=source_value)} AS name, "
            f"{_PICK_DETAIL} AS detail")


CONDITIONS = f"""
SELECT person_id, kind, name, day, end_day, item_id FROM (
  SELECT c.person_id, {_picked('c.condition_source_value')}, c.condition_start_date AS day,
         c.condition_end_date AS end_day, c.condition_occurrence_id AS item_id
  FROM {{t}}condition_occurrence c
  LEFT JOIN ts_meaning k1 ON k1.role = 'condition' AND k1.concept_id = c.condition_concept_id
  LEFT JOIN ts_meaning k2 ON k2.role = 'condition' AND k2.concept_id = c.condition_source_concept_id
  WHERE c.person_id IS NOT NULL AND c.condition_start_date <= {{as_of}} {{persons}}
) WHERE kind <> 'none'
"""

# A drug exposure has one meaning row per ingredient: the standard concept's rows when it is placed
# as a drug, else the source concept's when that is, else the standard concept's rows (unplaced, or
# 'none': not a treatment), else the source's (or none at all: no concept).
_PLACED_DRUGS = ("(SELECT DISTINCT concept_id FROM ts_meaning WHERE role = 'drug' "
                 "AND kind NOT IN ('unplaced', 'none'))")
DRUGS = f"""
SELECT d.person_id, COALESCE(k.kind, 'unplaced') AS kind,
       COALESCE(k.name, 'with no concept (source value "' || COALESCE(d.drug_source_value, '') || '")') AS name,
       d.drug_exposure_start_date AS day, d.drug_exposure_end_date AS end_day, d.drug_exposure_id AS item_id,
       COALESCE(k.detail, '') AS detail
FROM {{t}}drug_exposure d
LEFT JOIN {_PLACED_DRUGS} s1 ON s1.concept_id = d.drug_concept_id
LEFT JOIN {_PLACED_DRUGS} s2 ON s2.concept_id = d.drug_source_concept_id
LEFT JOIN ts_meaning k ON k.role = 'drug' AND k.concept_id = CASE
    WHEN s1.concept_id IS NOT NULL THEN d.drug_concept_id WHEN s2.concept_id IS NOT NULL THEN d.drug_source_concept_id
    WHEN COALESCE(d.drug_concept_id, 0) <> 0 THEN d.drug_concept_id ELSE d.drug_source_concept_id END
WHERE d.person_id IS NOT NULL AND d.drug_exposure_start_date <= {{as_of}}
  AND COALESCE(k.kind, '') <> 'none' AND (COALESCE(k.kind, '') <> 'drug' OR k.detail <> '') {{persons}}
"""

PROCEDURES = f"""
SELECT person_id, kind, name, day, end_day, item_id FROM (
  SELECT p.person_id, {_picked('p.procedure_source_value')}, p.procedure_date AS day,
         p.procedure_end_date AS end_day, p.procedure_occurrence_id AS item_id
  FROM {{t}}procedure_occurrence p
  LEFT JOIN ts_meaning k1 ON k1.role = 'procedure' AND k1.concept_id = p.procedure_concept_id
  LEFT JOIN ts_meaning k2 ON k2.role = 'procedure' AND k2.concept_id = p.procedure_source_concept_id
  WHERE p.person_id IS NOT NULL AND p.procedure_date <= {{as_of}} {{persons}}
) WHERE kind IN ('treatment', 'unplaced')
"""

# stream -> (its table, its query, the order of a person's rows after person_id)
STREAMS = {"measured": ("measurement", MEASURED, ("kind", "name")),
           "observed": ("observation", OBSERVED, ("day", "observation_id")),
           "conditions": ("condition_occurrence", CONDITIONS, ("day", "item_id")),
           "drugs": ("drug_exposure", DRUGS, ("day", "item_id", "name")),
           "procedures": ("procedure_occurrence", PROCEDURES, ("day", "item_id"))}
