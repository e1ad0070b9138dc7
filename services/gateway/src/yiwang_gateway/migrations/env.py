"""Alembic environment of the gateway service: its own schema and version table."""

from yiwang_common.migrations import run_env
from yiwang_gateway.config import get_settings
from yiwang_gateway.db import Base
from yiwang_gateway.models import load_all_models

load_all_models()
run_env(Base.metadata, get_settings().database)
