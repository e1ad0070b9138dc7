"""办件进度 Progress: the applicant's view of their case by 办件编号, fed by management's events."""
