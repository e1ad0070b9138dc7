"""Check digits (ISO/IEC 7064, GB 32100, GB 11643): moved to :mod:`yiwang_contracts.checkdigits`."""

from __future__ import annotations

from yiwang_contracts.checkdigits import *  # noqa: F403
