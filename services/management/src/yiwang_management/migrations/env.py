"""Alembic environment of the management service: its own schema and version table."""

from yiwang_common.migrations import run_env
from yiwang_management.config import get_settings
from yiwang_management.db import Base
from yiwang_management.models import load_all_models

load_all_models()
run_env(Base.metadata, get_settings().database)
