"""Long EHR extracts (issue 16): a patients file and files of results, diagnoses and treatments, one row per event."""
