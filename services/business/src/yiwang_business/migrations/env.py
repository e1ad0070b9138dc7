"""Alembic environment of the business service: its own schema and version table."""

from yiwang_business.config import get_settings
from yiwang_business.db import Base
from yiwang_business.models import load_all_models
from yiwang_common.migrations import run_env

load_all_models()
run_env(Base.metadata, get_settings().database)
