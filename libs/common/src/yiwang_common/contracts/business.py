"""Re-export of :mod:`yiwang_contracts.business`: the contracts live in the ``yiwang-contracts`` package (ADR 0112)."""

from __future__ import annotations

from yiwang_contracts.business import *  # noqa: F403
