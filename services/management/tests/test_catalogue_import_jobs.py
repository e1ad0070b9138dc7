"""Imports as background jobs (导入任务): 202 + Location, progress numbers, paged errors, a worker
killed mid-import (resumed after its last batch, or failed after its tries), the row-hash skip of
an idempotent re-import, and the CLI with its progress bar."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from management_factories import ACCEPTOR, auth, count, wait_for_job
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.db import session_scope, utcnow
from yiwang_management.catalogue import imports, service, spreadsheet
from yiwang_management.catalogue.demo import demo_catalogue, tsv_items
from yiwang_management.catalogue.imports import JobContext, run_job
from yiwang_management.catalogue.models import CatalogueImport, ItemVersion
from yiwang_management.catalogue.repository import CatalogueImportRepository
from yiwang_management.catalogue.schemas import VersionCreate
from yiwang_management.catalogue.worker import ImportWorker

CENTRE = Principal(sub="centre", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="X")
ITEMS = list(tsv_items(known=demo_catalogue("minimal")))[:40]
SOURCE = "urn:yiwang:530428:management"


def _csv(items: list[Any], *, broken: dict[int, tuple[str, str]] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = [c.name for c in spreadsheet.ITEM_COLUMNS]
    writer.writerow(names)
    for index, item in enumerate(items):
        cells = spreadsheet.item_cells(
            item.item_code, item.entry.model_dump(mode="json"), item.content.model_dump(mode="json")
        )
        if broken and index in broken:
            column, value = broken[index]
            cells[names.index(column)] = value
        writer.writerow(cells)
    return buffer.getvalue().encode()


async def _post(
    client: httpx.AsyncClient, data: bytes, who: Principal = CENTRE, **params: Any
) -> httpx.Response:
    return await client.post(
        "/catalogue/imports", content=data, params={"filename": "清单.csv", **params}, headers=auth(who)
    )


async def _job(sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID) -> CatalogueImport:
    async with session_scope(sessionmaker) as session:
        job = await CatalogueImportRepository.from_session(session).get_by_id(job_id)
    assert job is not None
    return job


@pytest.fixture
async def paused(app: FastAPI) -> AsyncIterator[ImportWorker]:
    """The app's own worker stopped, so that a test decides who runs a job and when."""
    worker: ImportWorker = app.state.import_worker
    await worker.stop()
    yield worker
    worker.start()


async def _queue(sessionmaker: async_sessionmaker[AsyncSession], data: bytes, **options: Any) -> uuid.UUID:
    async with session_scope(sessionmaker) as session:
        job = await imports.submit_import(
            session,
            filename="清单.csv",
            file_format="csv",
            data=data,
            principal=CENTRE,
            force=options.get("force", False),
            publish=options.get("publish", False),
        )
    return job.id


class TestJobResource:
    async def test_the_request_answers_202_with_the_job_and_its_location(
        self, client: httpx.AsyncClient, paused: ImportWorker
    ) -> None:
        r = await _post(client, _csv(ITEMS[:3]))
        assert r.status_code == 202, r.text
        job = r.json()
        assert r.headers["location"] == f"/api/v1/catalogue/imports/{job['id']}"
        assert (job["status"], job["phase"], job["finished"], job["processed_rows"]) == (
            "queued",
            "validating",
            False,
            0,
        )
        # Nobody works the queue here: the job waits, readable, and nothing is imported.
        r = await client.get(f"/catalogue/imports/{job['id']}", headers=auth(CENTRE))
        assert r.json()["status"] == "queued" and r.json()["status_name"] == "排队中"

    async def test_progress_numbers_when_done(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        r = await _post(client, _csv(ITEMS[:12], broken={4: ("行政区划代码", "990428")}), force="true")
        job = (await wait_for_job(client, r.headers["location"], CENTRE)).json()
        assert job["status"] == "imported_with_errors" and job["phase"] == "done" and job["finished"]
        assert (job["total_rows"], job["valid_rows"], job["error_rows"], job["error_count"]) == (12, 11, 1, 1)
        assert (job["write_rows"], job["processed_rows"], job["created"]) == (11, 11, 11)
        assert job["attempts"] == 1 and job["finished_at"] is not None
        assert await count(sessionmaker, ItemVersion) == 11

    async def test_errors_are_paged(self, client: httpx.AsyncClient) -> None:
        broken = dict.fromkeys(range(25), ("法定办结时限", "很多"))
        r = await _post(client, _csv(ITEMS[:25], broken=broken))
        job = (await wait_for_job(client, r.headers["location"], CENTRE)).json()
        assert job["status"] == "rejected" and job["error_count"] == 25 and len(job["errors"]) == 25
        page = await client.get(
            f"/catalogue/imports/{job['id']}/errors", params={"page": 2, "limit": 10}, headers=auth(CENTRE)
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["pagination"]["total_count"] == 25
        assert [e["row"] for e in body["items"]] == list(range(12, 22))
        assert {e["column"] for e in body["items"]} == {"法定办结时限"}
        other = await client.get(f"/catalogue/imports/{job['id']}/errors", headers=auth(ACCEPTOR))
        assert other.status_code == 404


class TestRestart:
    async def test_a_worker_killed_mid_import_is_resumed_after_its_last_batch(
        self,
        paused: ImportWorker,
        sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(imports, "BATCH_ROWS", 10)
        job_id = await _queue(sessionmaker, _csv(ITEMS[:40]))
        # The first worker dies inside its third batch: two are committed, the third is lost.
        real_batch, batches, stuck, third = imports._write_batch, [0], asyncio.Event(), asyncio.Event()

        async def dying(*args: Any, **kwargs: Any) -> Any:
            batches[0] += 1
            if batches[0] == 3:
                third.set()
                await stuck.wait()  # never set: the process "hangs" here until it is killed
            return await real_batch(*args, **kwargs)

        monkeypatch.setattr(imports, "_write_batch", dying)
        context = JobContext(sessionmaker=sessionmaker, source=SOURCE, heartbeat_s=0.05)
        async with session_scope(sessionmaker) as session:
            assert await CatalogueImportRepository.from_session(session).claim(now=utcnow()) == job_id
        first = asyncio.create_task(run_job(context, job_id))
        await asyncio.wait_for(third.wait(), 60)
        job = await _job(sessionmaker, job_id)
        assert (job.status, job.phase, job.processed_rows, job.created) == ("running", "importing", 20, 20)
        first.cancel()  # killed: no hand-back, the job stays "running" and its heartbeat stops
        with pytest.raises(asyncio.CancelledError):
            await first
        monkeypatch.setattr(imports, "_write_batch", real_batch)

        # A worker of a restarted process finds the stale lease, queues the job again and resumes it.
        restarted = ImportWorker(context, lease_s=0.2, max_attempts=3)
        await asyncio.sleep(0.3)
        assert await restarted.run_once()
        job = await _job(sessionmaker, job_id)
        assert (job.status, job.attempts, job.processed_rows, job.created) == ("imported", 2, 40, 40)
        assert await count(sessionmaker, ItemVersion) == 40
        async with session_scope(sessionmaker) as session:
            numbers = (await session.execute(select(ItemVersion.version).distinct())).scalars().all()
        assert list(numbers) == [1], "a resumed batch created versions twice"

    async def test_the_parsed_file_is_frozen_while_writing_and_thawed_after_even_when_killed(
        self,
        paused: ImportWorker,
        sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """ADR 0118: the collector skips the parsed rows while the batches are written, and a job
        that ends, or is cancelled mid-write, leaves nothing frozen behind in the process."""
        monkeypatch.setattr(imports, "BATCH_ROWS", 10)
        context = JobContext(sessionmaker=sessionmaker, source=SOURCE, heartbeat_s=0.05)
        real_batch, frozen, stuck, second = imports._write_batch, [], asyncio.Event(), asyncio.Event()

        async def watching(*args: Any, **kwargs: Any) -> Any:
            frozen.append(gc.get_freeze_count())
            if len(frozen) == 2 and kill[0]:
                second.set()
                await stuck.wait()
            return await real_batch(*args, **kwargs)

        monkeypatch.setattr(imports, "_write_batch", watching)
        kill = [False]
        job_id = await _queue(sessionmaker, _csv(ITEMS[:20]))
        async with session_scope(sessionmaker) as session:
            assert await CatalogueImportRepository.from_session(session).claim(now=utcnow()) == job_id
        await run_job(context, job_id)
        assert (await _job(sessionmaker, job_id)).status == "imported"
        assert len(frozen) == 2 and all(n > 0 for n in frozen), frozen
        assert gc.get_freeze_count() == 0

        kill[0], frozen[:] = True, []
        job_id = await _queue(sessionmaker, _csv(ITEMS[20:40]))
        async with session_scope(sessionmaker) as session:
            assert await CatalogueImportRepository.from_session(session).claim(now=utcnow()) == job_id
        task = asyncio.create_task(run_job(context, job_id))
        await asyncio.wait_for(second.wait(), 60)
        assert gc.get_freeze_count() > 0
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gc.get_freeze_count() == 0

    async def test_a_job_whose_worker_keeps_dying_is_failed_not_left_running(
        self, paused: ImportWorker, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        job_id = await _queue(sessionmaker, _csv(ITEMS[:2]))
        async with session_scope(sessionmaker) as session:
            await session.execute(
                update(CatalogueImport)
                .where(CatalogueImport.id == job_id)
                .values(status="running", attempts=3, heartbeat_at=utcnow() - timedelta(minutes=5))
            )
        context = JobContext(sessionmaker=sessionmaker, source=SOURCE)
        assert await ImportWorker(context, lease_s=30, max_attempts=3).recover() == 1
        job = await _job(sessionmaker, job_id)
        assert job.status == "failed" and job.finished_at is not None and "重试 3 次" in job.failure
        assert await count(sessionmaker, ItemVersion) == 0

    async def test_a_live_lease_is_left_alone(
        self, paused: ImportWorker, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        job_id = await _queue(sessionmaker, _csv(ITEMS[:2]))
        async with session_scope(sessionmaker) as session:
            assert await CatalogueImportRepository.from_session(session).claim(now=utcnow()) == job_id
        context = JobContext(sessionmaker=sessionmaker, source=SOURCE)
        assert await ImportWorker(context, lease_s=30).recover() == 0
        assert (await _job(sessionmaker, job_id)).status == "running"

    async def test_a_clean_stop_hands_the_job_back(
        self,
        paused: ImportWorker,
        sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(imports, "BATCH_ROWS", 5)
        job_id = await _queue(sessionmaker, _csv(ITEMS[:20]))
        started, stuck = asyncio.Event(), asyncio.Event()
        real_batch = imports._write_batch

        async def slow(*args: Any, **kwargs: Any) -> Any:
            started.set()
            await stuck.wait()
            return await real_batch(*args, **kwargs)

        monkeypatch.setattr(imports, "_write_batch", slow)
        worker = ImportWorker(JobContext(sessionmaker=sessionmaker, source=SOURCE), lease_s=30, only=job_id)
        worker.start()
        await asyncio.wait_for(started.wait(), 30)
        await worker.stop()
        job = await _job(sessionmaker, job_id)
        assert (job.status, job.attempts) == ("queued", 0)


class TestRaces:
    async def test_a_draft_opened_between_validation_and_writing_takes_the_per_row_path(
        self,
        paused: ImportWorker,
        sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        items = ITEMS[:5]
        job_id = await _queue(sessionmaker, _csv(items))
        raced = items[2]

        async def open_draft() -> None:
            owner = CENTRE.model_copy(update={"org_code": raced.content.implementing_org.code})
            other = raced.content.model_copy(update={"hours": "另一人刚保存的草稿"})
            async with session_scope(sessionmaker) as session:
                await service.create_entry(session, raced.entry, CENTRE)
                await service.create_version(
                    session, VersionCreate(item_code=raced.item_code, content=other), owner
                )

        real_write = imports._write

        async def write(*args: Any, **kwargs: Any) -> None:
            await open_draft()  # after the validation's plan, before the first batch
            await real_write(*args, **kwargs)

        monkeypatch.setattr(imports, "_write", write)
        worker = ImportWorker(JobContext(sessionmaker=sessionmaker, source=SOURCE), only=job_id)
        assert await worker.run_once()
        job = await _job(sessionmaker, job_id)
        assert (job.status, job.created, job.updated, job.error_count) == ("imported", 4, 1, 0)
        async with session_scope(sessionmaker) as session:
            version = await session.get(ItemVersion, (raced.item_code, 1))
            assert version is not None and version.content["hours"] == raced.content.hours


class TestIdempotent:
    async def test_unchanged_rows_are_skipped_by_their_hash(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = _csv(ITEMS[:6])
        first = (await wait_for_job(client, (await _post(client, data)).headers["location"], CENTRE)).json()
        assert first["created"] == 6
        async with session_scope(sessionmaker) as session:
            hashes = (await session.execute(select(ItemVersion.source_hash))).scalars().all()
        assert len(set(hashes)) == 6 and None not in hashes
        again = (await wait_for_job(client, (await _post(client, data)).headers["location"], CENTRE)).json()
        # Skipped before validation: nothing left to write.
        assert (again["unchanged"], again["created"], again["write_rows"], again["valid_rows"]) == (
            6,
            0,
            0,
            6,
        )

    async def test_a_draft_edited_by_hand_is_compared_again(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        item = ITEMS[0]
        data = _csv([item])
        await wait_for_job(client, (await _post(client, data)).headers["location"], CENTRE)
        content = item.content.model_dump(mode="json") | {"hours": "工作日全天"}
        owner = CENTRE.model_copy(
            update={"org_code": item.content.implementing_org.code, "roles": frozenset({"acceptor"})}
        )
        r = await client.put(
            f"/catalogue/items/{item.item_code}/versions/1", json=content, headers=auth(owner)
        )
        assert r.status_code == 200, r.text
        job = (await wait_for_job(client, (await _post(client, data)).headers["location"], CENTRE)).json()
        assert (job["updated"], job["unchanged"], job["write_rows"]) == (1, 0, 1), job
        r = await client.get(f"/catalogue/items/{item.item_code}/versions/1", headers=auth(CENTRE))
        assert r.json()["content"]["hours"] == item.content.hours


def test_the_cli_imports_a_file_with_progress(tmp_path: Path, database_url: str, app: FastAPI) -> None:
    path = tmp_path / "清单.csv"
    path.write_bytes(_csv(ITEMS[20:24]))
    env = os.environ | {"MANAGEMENT_DATABASE__URL": database_url, "MANAGEMENT_IMPORT_HEARTBEAT_S": "0.2"}
    cli = Path(sys.executable).parent / "yiwang-management"
    done = subprocess.run(
        [str(cli), "import", str(path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "imported: 总行数 4" in done.stdout and "新建 4" in done.stdout, done.stdout
    assert "导入任务" in done.stderr
    broken = tmp_path / "错误.csv"
    broken.write_bytes(_csv(ITEMS[24:26], broken={1: ("事项类型", "行政审批")}))
    done = subprocess.run(
        [str(cli), "import", str(broken), "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout
    assert "rejected" in done.stdout and "第 3 行 事项类型" in done.stdout, done.stdout
