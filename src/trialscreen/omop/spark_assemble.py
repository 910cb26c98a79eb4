"""Per-person rows in Spark: the concepts placed, then the same rows assemble.py's SQL gives.

The concept ids each column uses are computed in Spark and collected (they are few); their
CONCEPT and CONCEPT_ANCESTOR rows are fetched with Spark joins and placed on the driver by
``concepts.place``, the code the DuckDB engine runs. The meanings go back as a broadcast table.
Each stream's query is assemble.py's, in Spark SQL (the same joins, the same filters: nothing dated
after the as-of date, of the labs the most recent per analyte); its rows are gathered per person in
the order assemble.py sorts them (``collect_list`` of structs, sorted by the same keys, NULLs last)
and joined to the persons screened, numbered in person_id order.
"""

from __future__ import annotations

from datetime import date

from trialscreen.omop.concepts import ROLES, Meanings, meaning_rows, place
from trialscreen.omop.queries import STREAMS

_VIEW = "ts_"      # the temporary views of a run: ts_person, ts_meaning, ts_lines, ...
MEANING_SCHEMA = "role string, concept_id bigint, kind string, name string, detail string"
_CONCEPT = ["concept_id", "vocabulary_id", "concept_code", "concept_class_id", "concept_name", "domain_id"]


def place_in_spark(spark, tables: dict) -> Meanings:
    """The meanings of every concept the source uses, registered as the view ``ts_meaning``. Two
    Spark jobs: the (role, id) pairs used; then their CONCEPT_ANCESTOR rows and the CONCEPT rows
    of those ids and of their ancestors."""
    from pyspark.sql import functions as F

    by_table: dict = {}
    for (table, column), role in ROLES.items():
        by_table.setdefault(table, []).append(f"named_struct('role', '{role}', 'id', {column})")
    union = None
    for table, pairs in by_table.items():    # one scan of each table
        arm = tables[table].selectExpr(f"explode(array({', '.join(pairs)})) AS u").selectExpr("u.role", "u.id")
        union = arm if union is None else union.unionByName(arm)
    used = [(r["role"], r["id"]) for r in union.where("id IS NOT NULL AND id <> 0").distinct().collect()]  # type: ignore[union-attr]
    concepts, ancestors = _concept_rows(spark, tables, used)
    meanings = place(used, concepts, ancestors)
    frame = spark.createDataFrame(meaning_rows(meanings), MEANING_SCHEMA)
    F.broadcast(frame).createOrReplaceTempView(_VIEW + "meaning")
    return meanings


def _concept_rows(spark, tables: dict, used: list) -> tuple:
    """(CONCEPT rows as tuples of concepts.CONCEPT_COLUMNS, CONCEPT_ANCESTOR rows (descendant,
    ancestor, min levels)) of the concepts ``used`` and of the ancestors of their conditions,
    drugs and procedures, in one Spark job."""
    from pyspark.sql import functions as F

    if not used:
        return [], []
    ids = spark.createDataFrame(sorted({(cid,) for _, cid in used}), "id bigint")
    through = spark.createDataFrame(sorted({(cid,) for role, cid in used if role in _THROUGH}) or [(None,)],
                                    "id bigint")
    anc = tables["concept_ancestor"].join(F.broadcast(through), F.col("descendant_concept_id") == through["id"],
                                          "left_semi")
    wanted = ids.unionByName(anc.select(F.col("ancestor_concept_id").alias("id"))).distinct()
    concept = tables["concept"]
    found = concept.join(wanted, concept["concept_id"] == wanted["id"], "left_semi")
    text = [F.lit(None).cast("string")] * 5
    rows = (anc.select(F.lit("a").alias("k"), "descendant_concept_id", "ancestor_concept_id",
                       F.col("min_levels_of_separation").cast("bigint"), *text)
            .union(found.select(F.lit("c"), "concept_id", F.lit(None).cast("bigint"), F.lit(None).cast("bigint"),
                                *_CONCEPT[1:]))).collect()
    return ([tuple(r[i] for i in (1, 4, 5, 6, 7, 8)) for r in rows if r[0] == "c"],
            [(r[1], r[2], r[3]) for r in rows if r[0] == "a"])


_THROUGH = ("condition", "drug", "procedure")


PERSONS = """
SELECT l.line, p.person_id, g.name AS sex, p.gender_source_value, p.gender_concept_id, p.birth_datetime,
       p.year_of_birth, p.month_of_birth, p.day_of_birth, o.observed, o.periods, p.ts_rows
FROM (SELECT *, row_number() OVER (PARTITION BY person_id ORDER BY person_id) AS ts_dup,
             count(*) OVER (PARTITION BY person_id) AS ts_rows FROM ts_person) p
JOIN ts_lines l ON l.person_id = p.person_id
LEFT JOIN ts_meaning g ON g.role = 'gender' AND g.concept_id = p.gender_concept_id
LEFT JOIN (SELECT person_id, bool_or({as_of} BETWEEN observation_period_start_date
                                     AND observation_period_end_date) AS observed,
                  collect_list(array(observation_period_start_date, observation_period_end_date)) AS periods
           FROM ts_observation_period GROUP BY person_id) o ON o.person_id = p.person_id
WHERE p.ts_dup = 1
"""

STREAM_COLUMN = "rows_"     # the column of a person's rows of a stream: rows_measured, ...
PERSON_FIELDS = ("person_id", "sex", "gender_source_value", "gender_concept_id", "birth_datetime",
                 "year_of_birth", "month_of_birth", "day_of_birth", "observed", "periods", "ts_rows")


def person_frame(spark, tables: dict, as_of: date, limit: int | None):
    """The persons screened, one row each: line (the position in person_id order), the PERSONS
    columns and one array of row structs per stream (``rows_measured``, ...). Without ``limit``
    the streams are joined in full: a row with no line holds rows naming a person PERSON does not
    hold, which the executors count."""
    for table, frame in tables.items():
        frame.createOrReplaceTempView(_VIEW + table)
    ids = "SELECT DISTINCT person_id FROM ts_person WHERE person_id IS NOT NULL"
    if limit is not None:
        ids = f"SELECT person_id FROM ({ids}) ORDER BY person_id LIMIT {int(limit)}"
    spark.sql(f"SELECT person_id, row_number() OVER (ORDER BY person_id) AS line FROM ({ids})") \
        .createOrReplaceTempView(_VIEW + "lines")
    day = f"DATE'{as_of.isoformat()}'"
    persons = "AND person_id IN (SELECT person_id FROM ts_lines)" if limit is not None else ""
    frame = spark.sql(PERSONS.format(as_of=day))
    for name, (_table, sql, keys) in STREAMS.items():
        rows = spark.sql(sql.format(t=_VIEW, as_of=day, persons=persons))
        frame = frame.join(_grouped(rows, STREAM_COLUMN + name, keys), "person_id", "left" if limit else "full")
    return frame


def _grouped(rows, name: str, keys: tuple):
    """One row per person: ``name`` the array of the person's rows (structs), sorted by ``keys``
    with NULLs last."""
    from pyspark.sql import functions as F

    key = F.struct(*[c for k in keys for c in (F.col(k).isNull().alias(f"n{k}"), F.col(k).alias(k))])
    gathered = F.collect_list(F.struct(key.alias("k"), F.struct(*rows.columns).alias("r")))
    return (rows.groupBy("person_id").agg(F.sort_array(gathered).alias("x"))
            .select("person_id", F.expr("transform(x, e -> e.r)").alias(name)))


def drop_views(spark, tables: dict) -> None:
    for name in [*tables, "meaning", "lines"]:
        spark.catalog.dropTempView(_VIEW + name)
