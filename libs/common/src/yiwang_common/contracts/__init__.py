"""Event contracts: re-exported from the ``yiwang-contracts`` package (pydantic only, ADR 0112).

The models live in :mod:`yiwang_contracts` so that a department's own system can install them with
``yiwang-sdk`` and without the suite's server dependencies; ``yiwang_common.contracts.<module>``
stays the import path inside the services.
"""

from __future__ import annotations

from yiwang_common.contracts import business, datasharing, gateway, management, plugin
from yiwang_contracts import ALL_EVENTS

__all__ = ["ALL_EVENTS", "business", "datasharing", "gateway", "management", "plugin"]
