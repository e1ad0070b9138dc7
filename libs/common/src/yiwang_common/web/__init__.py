"""Shared server-rendered web parts (the staff consoles: :mod:`yiwang_common.web.console`)."""
