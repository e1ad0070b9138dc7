"""Run a handler over every part dispatched to one external system, at least once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import httpx

from yiwang_contracts.management import JointPartDispatched
from yiwang_sdk.client import PluginClient, PluginError

log = logging.getLogger(__name__)

#: The handler takes a part over; it must be idempotent per ``part_no`` (a dispatch whose
#: acknowledgement was lost is handed out again).
PartHandler = Callable[[PluginClient, JointPartDispatched], Awaitable[None]]


class DispatchWorker:
    """Poll ``GET /api/v1/plugin/dispatches``, run the handler per part, then acknowledge it.

    A part is acknowledged only after its handler returned, so a system that stops in between is
    handed the same part again when it comes back; while it is away the parts wait on the
    platform (supervision sees their deadlines run).
    """

    def __init__(self, client: PluginClient, handler: PartHandler, *, poll_seconds: float = 0.5) -> None:
        self.client = client
        self.handler = handler
        self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        """Handle and acknowledge what is waiting now.

        Returns:
            How many parts were handled.
        """
        handled = 0
        for dispatch in (await self.client.dispatches()).items:
            await self.handler(self.client, dispatch.part)
            await self.client.ack(dispatch.part.part_no)
            handled += 1
        return handled

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Poll until ``stop`` is set; errors of the platform or the network are logged and retried."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except (PluginError, httpx.HTTPError):
                log.exception("dispatches could not be handled; trying again")
                handled = 0
            if not handled:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    pass
