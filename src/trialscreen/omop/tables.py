"""The OMOP CDM v5.4 tables trialscreen reads, with their column types.

From the OHDSI CommonDataModel DDL (inst/ddl/5.4/duckdb/OMOPCDM_duckdb_5.4_ddl.sql). Ids are read
as BIGINT (sites use bigint where the DDL says integer). A folder of CSV files is read with these
types, never inferred: an empty table or an all-empty column would otherwise come back as text.
Columns the reader does not use are still listed, so a file with them loads, and the exporter
writes every column in DDL order.
"""

from __future__ import annotations

ID = "BIGINT"

TABLES: dict[str, dict[str, str]] = {
    "person": {
        "person_id": ID, "gender_concept_id": ID, "year_of_birth": "INTEGER", "month_of_birth": "INTEGER",
        "day_of_birth": "INTEGER", "birth_datetime": "TIMESTAMP", "race_concept_id": ID,
        "ethnicity_concept_id": ID, "location_id": ID, "provider_id": ID, "care_site_id": ID,
        "person_source_value": "VARCHAR", "gender_source_value": "VARCHAR", "gender_source_concept_id": ID,
        "race_source_value": "VARCHAR", "race_source_concept_id": ID, "ethnicity_source_value": "VARCHAR",
        "ethnicity_source_concept_id": ID,
    },
    "observation_period": {
        "observation_period_id": ID, "person_id": ID, "observation_period_start_date": "DATE",
        "observation_period_end_date": "DATE", "period_type_concept_id": ID,
    },
    "measurement": {
        "measurement_id": ID, "person_id": ID, "measurement_concept_id": ID, "measurement_date": "DATE",
        "measurement_datetime": "TIMESTAMP", "measurement_time": "VARCHAR", "measurement_type_concept_id": ID,
        "operator_concept_id": ID, "value_as_number": "DOUBLE", "value_as_concept_id": ID, "unit_concept_id": ID,
        "range_low": "DOUBLE", "range_high": "DOUBLE", "provider_id": ID, "visit_occurrence_id": ID,
        "visit_detail_id": ID, "measurement_source_value": "VARCHAR", "measurement_source_concept_id": ID,
        "unit_source_value": "VARCHAR", "unit_source_concept_id": ID, "value_source_value": "VARCHAR",
        "measurement_event_id": ID, "meas_event_field_concept_id": ID,
    },
    "observation": {
        "observation_id": ID, "person_id": ID, "observation_concept_id": ID, "observation_date": "DATE",
        "observation_datetime": "TIMESTAMP", "observation_type_concept_id": ID, "value_as_number": "DOUBLE",
        "value_as_string": "VARCHAR", "value_as_concept_id": ID, "qualifier_concept_id": ID,
        "unit_concept_id": ID, "provider_id": ID, "visit_occurrence_id": ID, "visit_detail_id": ID,
        "observation_source_value": "VARCHAR", "observation_source_concept_id": ID,
        "unit_source_value": "VARCHAR", "qualifier_source_value": "VARCHAR", "value_source_value": "VARCHAR",
        "observation_event_id": ID, "obs_event_field_concept_id": ID,
    },
    "condition_occurrence": {
        "condition_occurrence_id": ID, "person_id": ID, "condition_concept_id": ID,
        "condition_start_date": "DATE", "condition_start_datetime": "TIMESTAMP", "condition_end_date": "DATE",
        "condition_end_datetime": "TIMESTAMP", "condition_type_concept_id": ID,
        "condition_status_concept_id": ID, "stop_reason": "VARCHAR", "provider_id": ID,
        "visit_occurrence_id": ID, "visit_detail_id": ID, "condition_source_value": "VARCHAR",
        "condition_source_concept_id": ID, "condition_status_source_value": "VARCHAR",
    },
    "drug_exposure": {
        "drug_exposure_id": ID, "person_id": ID, "drug_concept_id": ID, "drug_exposure_start_date": "DATE",
        "drug_exposure_start_datetime": "TIMESTAMP", "drug_exposure_end_date": "DATE",
        "drug_exposure_end_datetime": "TIMESTAMP", "verbatim_end_date": "DATE", "drug_type_concept_id": ID,
        "stop_reason": "VARCHAR", "refills": "INTEGER", "quantity": "DOUBLE", "days_supply": "INTEGER",
        "sig": "VARCHAR", "route_concept_id": ID, "lot_number": "VARCHAR", "provider_id": ID,
        "visit_occurrence_id": ID, "visit_detail_id": ID, "drug_source_value": "VARCHAR",
        "drug_source_concept_id": ID, "route_source_value": "VARCHAR", "dose_unit_source_value": "VARCHAR",
    },
    "procedure_occurrence": {
        "procedure_occurrence_id": ID, "person_id": ID, "procedure_concept_id": ID, "procedure_date": "DATE",
        "procedure_datetime": "TIMESTAMP", "procedure_end_date": "DATE", "procedure_end_datetime": "TIMESTAMP",
        "procedure_type_concept_id": ID, "modifier_concept_id": ID, "quantity": "INTEGER", "provider_id": ID,
        "visit_occurrence_id": ID, "visit_detail_id": ID, "procedure_source_value": "VARCHAR",
        "procedure_source_concept_id": ID, "modifier_source_value": "VARCHAR",
    },
    "concept": {
        "concept_id": ID, "concept_name": "VARCHAR", "domain_id": "VARCHAR", "vocabulary_id": "VARCHAR",
        "concept_class_id": "VARCHAR", "standard_concept": "VARCHAR", "concept_code": "VARCHAR",
        "valid_start_date": "DATE", "valid_end_date": "DATE", "invalid_reason": "VARCHAR",
    },
    "concept_ancestor": {
        "ancestor_concept_id": ID, "descendant_concept_id": ID, "min_levels_of_separation": "INTEGER",
        "max_levels_of_separation": "INTEGER",
    },
}

# Tables a source must have: without PERSON there is nobody to screen. The others read as empty.
REQUIRED = ("person",)

# DDL dates a CSV file may write as a timestamp ('2024-05-01 00:00:00'): read both.
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")
