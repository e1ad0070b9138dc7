"""Re-export of :mod:`yiwang_contracts.gateway`: the contracts live in the ``yiwang-contracts`` package (ADR 0112)."""

from __future__ import annotations

from yiwang_contracts.gateway import *  # noqa: F403
