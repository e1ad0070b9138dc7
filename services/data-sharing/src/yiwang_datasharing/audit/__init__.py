"""审计日志 Audit log: sign-ins, failed sign-ins, permission changes, reads of personal data."""
