"""yiwang-sdk: connect a department's own approval system (部门自建审批系统) to yiwang (ADR 0112).

Installs with the event contracts (:mod:`yiwang_contracts`) and httpx only — none of the suite's
server dependencies. :class:`PluginClient` speaks the REST side of the contract (token, dispatches,
callbacks); :class:`DispatchWorker` runs a handler over every dispatched part, at least once;
:class:`BusDispatches` reads the same parts from JetStream for a system inside the network.
"""

from __future__ import annotations

from yiwang_contracts.management import JointPartDispatched
from yiwang_contracts.plugin import (
    Dispatch,
    DispatchList,
    PartState,
    ResultReport,
    StepReport,
    SupplementRequest,
    TokenResponse,
)
from yiwang_sdk.bus import BusDispatches
from yiwang_sdk.client import PluginClient, PluginError
from yiwang_sdk.worker import DispatchWorker

__all__ = [
    "BusDispatches",
    "Dispatch",
    "DispatchList",
    "DispatchWorker",
    "JointPartDispatched",
    "PartState",
    "PluginClient",
    "PluginError",
    "ResultReport",
    "StepReport",
    "SupplementRequest",
    "TokenResponse",
]
