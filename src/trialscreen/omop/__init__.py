"""OMOP CDM databases: read persons into patient records (docs/omop.md), and write records as OMOP tables."""
