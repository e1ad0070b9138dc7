"""Re-export of :mod:`yiwang_contracts.common`: the contracts live in the ``yiwang-contracts`` package (ADR 0112)."""

from __future__ import annotations

from yiwang_contracts.common import *  # noqa: F403
