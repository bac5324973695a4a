"""Reference data (units, procedures, calendars) cached per process for the submission path."""
