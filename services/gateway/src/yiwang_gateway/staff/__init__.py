"""工作人员 Staff accounts: the roles, unit and region management assigns (ADR 0105)."""
