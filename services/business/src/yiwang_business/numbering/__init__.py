"""编号 Numbering: gap-free counters for 决定书 numbers and 证照编号."""
