"""Alembic environment of the datasharing service: its own schema and version table."""

from yiwang_common.migrations import run_env
from yiwang_datasharing.config import get_settings
from yiwang_datasharing.db import Base
from yiwang_datasharing.models import load_all_models

load_all_models()
run_env(Base.metadata, get_settings().database)
