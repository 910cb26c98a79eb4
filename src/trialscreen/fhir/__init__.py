"""FHIR R4 (docs/fhir.md): bundles and Bulk Data exports read as patient records, and records written as a Bundle."""
