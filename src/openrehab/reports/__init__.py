"""Reports: the clinical progress report (PDF) and CSV exports of a patient's records."""
