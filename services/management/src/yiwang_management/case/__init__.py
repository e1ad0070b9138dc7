"""办件 Cases: registration with a 办件编号, acceptance, one-time notices, step records, deadlines."""
