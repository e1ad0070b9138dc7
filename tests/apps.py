"""Service apps for tests that only read what an app declares (OpenAPI, routes)."""

from __future__ import annotations

import importlib
from typing import Any

from yiwang_common.testing import ephemeral_auth


def offline_app(package: str) -> Any:
    """A service's app that is never started: building it opens no connection, so the database
    URL only has to be a PostgreSQL one, and the key a throwaway."""
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    settings = config.Settings(
        database={"url": "postgresql://openapi@127.0.0.1:1/none"}, auth=ephemeral_auth()
    )
    return main.create_app(settings)
