"""The import worker: runs queued catalogue imports in the background of a management process.

Every management process runs one (``settings.import_worker``). A job is claimed with
``FOR UPDATE SKIP LOCKED``, so replicas share the queue without taking the same job twice, and
held by a heartbeat (a lease). A process killed mid-import leaves its job ``running`` with a
heartbeat that stops; any worker finding it older than the lease queues it again, to be resumed
after its last committed batch, or marks it failed once it has had ``max_attempts`` tries. A
process that stops cleanly hands its job back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.db import session_scope, utcnow
from yiwang_management.catalogue.imports import JobContext, LeaseLost, run_job
from yiwang_management.catalogue.models import IMPORT_FAILED, IMPORT_QUEUED, IMPORT_RUNNING
from yiwang_management.catalogue.repository import CatalogueImportRepository

log = logging.getLogger(__name__)


class ImportWorker:
    """Claims and runs import jobs one at a time; recovers jobs whose worker died."""

    def __init__(
        self,
        context: JobContext,
        *,
        lease_s: float = 30.0,
        poll_s: float = 2.0,
        max_attempts: int = 3,
        only: uuid.UUID | None = None,
    ) -> None:
        """Create a worker.

        Args:
            context: database, events' source and heartbeat interval.
            lease_s: a running job whose heartbeat is older than this is taken back.
            poll_s: how often the queue is looked at without a notification.
            max_attempts: tries before a job whose worker keeps dying is marked failed.
            only: run this job and nothing else (the CLI's own worker).
        """
        self.context = context
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.max_attempts = max_attempts
        self.only = only
        self.current: uuid.UUID | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def notify_after_commit(self, session: AsyncSession) -> None:
        """Wake the worker once ``session`` has committed the job it queued."""
        event.listen(session.sync_session, "after_commit", lambda _s: self.notify(), once=True)

    def start(self) -> None:
        """Run in the background of the current event loop."""
        self._task = asyncio.create_task(self.run(), name="catalogue-import-worker")

    async def stop(self) -> None:
        """Stop, handing a job in progress back to the queue (it resumes after its last batch)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._task = None

    async def recover(self) -> int:
        """Queue again (or fail) the jobs whose worker stopped beating."""
        now = utcnow()
        async with session_scope(self.context.sessionmaker) as session:
            found = await CatalogueImportRepository.from_session(session).recover(
                stale_before=now - timedelta(seconds=self.lease_s), max_attempts=self.max_attempts, now=now
            )
        if found:
            log.warning("catalogue imports recovered after a lost worker", extra={"jobs": found})
        return found

    async def run_once(self) -> bool:
        """Recover, then claim and run one job; False when the queue was empty."""
        await self.recover()
        async with session_scope(self.context.sessionmaker) as session:
            job_id = await CatalogueImportRepository.from_session(session).claim(
                now=utcnow(), job_id=self.only
            )
        if job_id is None:
            return False
        self.current = job_id
        try:
            await run_job(self.context, job_id)
        except LeaseLost:
            log.warning("catalogue import taken back from this worker", extra={"job": str(job_id)})
        except asyncio.CancelledError:
            await asyncio.shield(self._hand_back(job_id))
            raise
        except Exception as exc:
            log.exception("catalogue import failed", extra={"job": str(job_id)})
            await self._failed(job_id, exc)
        finally:
            self.current = None
        return True

    async def run(self) -> None:
        """Work until cancelled; a database that is away is waited for."""
        while True:
            try:
                if await self.run_once():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("catalogue import worker: database unavailable, retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def _hand_back(self, job_id: uuid.UUID) -> None:
        with contextlib.suppress(Exception):
            async with session_scope(self.context.sessionmaker) as session:
                repository = CatalogueImportRepository.from_session(session)
                job = await repository.get_by_id(job_id)
                if job is not None and job.status == IMPORT_RUNNING:
                    # A clean stop is no failed attempt.
                    await repository.progress(
                        job_id, {"status": IMPORT_QUEUED, "attempts": max(0, job.attempts - 1)}
                    )

    async def _failed(self, job_id: uuid.UUID, exc: Exception) -> None:
        """An error of our own (not of the file: those are row errors): retry, then give up."""
        with contextlib.suppress(Exception):
            async with session_scope(self.context.sessionmaker) as session:
                repository = CatalogueImportRepository.from_session(session)
                job = await repository.get_by_id(job_id)
                if job is None:
                    return
                if job.attempts >= self.max_attempts:
                    values = {
                        "status": IMPORT_FAILED,
                        "finished_at": utcnow(),
                        "failure": f"导入失败（{type(exc).__name__}），请重新导入或联系管理员",
                    }
                else:
                    values = {"status": IMPORT_QUEUED, "failure": f"导入中断（{type(exc).__name__}），将重试"}
                await repository.progress(job_id, values)


async def start_import_worker(app: FastAPI) -> None:
    """Lifespan hook: every management process works the import queue (unless disabled)."""
    settings = app.state.settings
    context = JobContext(
        sessionmaker=app.state.runtime.sessionmaker,
        source=app.state.runtime.source,
        heartbeat_s=settings.import_heartbeat_s,
    )
    worker = ImportWorker(
        context,
        lease_s=settings.import_lease_s,
        poll_s=settings.import_poll_s,
        max_attempts=settings.import_max_attempts,
    )
    app.state.import_worker = worker
    if settings.import_worker:
        worker.start()


async def stop_import_worker(app: FastAPI) -> None:
    """Lifespan hook: hand the job in progress back."""
    worker: ImportWorker | None = getattr(app.state, "import_worker", None)
    if worker is not None:
        await worker.stop()
