"""The whole handling flow on SQLite, the ``make dev`` backend."""

from __future__ import annotations

from pathlib import Path

import httpx
from business_testkit import ADMIN, APPROVER, ITEM, REVIEWER, accepted, envelope

import yiwang_business
from yiwang_business.config import Settings
from yiwang_business.demo import CONSTRUCTION_PERMIT_WORKFLOW
from yiwang_business.licence.identifier import identifier_valid
from yiwang_business.main import create_app
from yiwang_business.task.handlers import on_case_accepted
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import session_scope
from yiwang_common.migrations import upgrade_database

MIGRATIONS = Path(yiwang_business.__file__).parent / "migrations"
PERMIT = {k: v for k, v in CONSTRUCTION_PERMIT_WORKFLOW.items() if k != "version"}
APPROVE = {"decision": "approve", "opinion": "同意。"}


class TestSqliteFlow:
    async def test_accept_review_decide_issues_licence(self, tmp_path: Path) -> None:
        database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/business.db")
        settings = Settings(database=database, run_workers=False, env="test")
        await upgrade_database(settings.database, MIGRATIONS)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            ) as http:
                await http.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
                data = accepted()
                async with session_scope(app.state.sessionmaker) as session:
                    await on_case_accepted(session, envelope(data), data)
                for headers in (REVIEWER, APPROVER):
                    [task] = (await http.get("/api/v1/tasks", headers=headers)).json()["items"]
                    response = await http.post(
                        f"/api/v1/tasks/{task['id']}/complete", json=APPROVE, headers=headers
                    )
                    assert response.status_code == 200
                body = (await http.get(f"/api/v1/cases/{data.case_no}", headers=APPROVER)).json()
        assert (body["status"], body["outcome"]) == ("decided", "approved")
        assert body["decision"]["document_no"].endswith("第000001号")
        assert identifier_valid(body["licence"]["identifier"])
