"""联办 Joint approval across departments (并联审批) and the plug-in contract for departments' own systems (ADR 0112)."""
