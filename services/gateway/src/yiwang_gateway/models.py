"""Imports every ORM module so that Alembic and ``create_all`` see the whole schema."""

from __future__ import annotations

import importlib

# Domain packages with a models module; each registers its tables on ``Base.metadata``.
MODEL_MODULES: tuple[str, ...] = (
    "account",
    "identity",
    "federation",
    "catalogue",
    "material",
    "application",
    "staff",
    "draft",
)


def load_all_models() -> None:
    """Import every domain's models module."""
    for module in MODEL_MODULES:
        importlib.import_module(f"yiwang_gateway.{module}.models")
