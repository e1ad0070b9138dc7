"""Staff pages of the 业务办理系统 under ``/console/handle`` (ADR 0016, 0021, 0115)."""
