"""Demonstration data."""

from __future__ import annotations

from business_testkit import scalar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_business.config import Settings
from yiwang_business.demo import CONSTRUCTION_PERMIT_ITEM_CODE, load_demo


class TestLoadDemo:
    async def test_loads_construction_permit_workflow_once(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await load_demo(settings)
        await load_demo(settings)
        sql = "SELECT count(*) FROM workflow_definition WHERE item_code = :code AND version = 1"
        assert await scalar(sessionmaker, sql, code=CONSTRUCTION_PERMIT_ITEM_CODE) == 1
        sql = "SELECT licence_type_code FROM workflow_definition WHERE item_code = :code"
        assert await scalar(sessionmaker, sql, code=CONSTRUCTION_PERMIT_ITEM_CODE) == "11100000000013338W032"
