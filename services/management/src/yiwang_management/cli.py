"""Command line: ``yiwang-management serve|migrate|load-demo|openapi|dead-letters|worker|calendar|import``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from yiwang_common.cli import ExtraCommand, ServiceCli
from yiwang_management.config import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from yiwang_management.catalogue.models import CatalogueImport
    from yiwang_management.config import Settings


# The app and the demo data are imported only by the commands that use them: ``migrate``
# starts without either, and ``serve`` does not pay for the demo loader.
def _create_app(settings: Settings) -> FastAPI:
    from yiwang_management.main import create_app

    return create_app(settings)


async def _load_demo(settings: Settings) -> None:
    from yiwang_management.demo import load_demo

    await load_demo(settings)


def _extra_commands() -> tuple[ExtraCommand, ...]:
    from yiwang_management.supervision.worker import COMMANDS

    return COMMANDS


cli = ServiceCli(
    name="management",
    settings=get_settings,
    app=_create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
    load_demo=_load_demo,  # type: ignore[arg-type]
    extra_commands=_extra_commands(),
)

#: Exit codes of ``import``: everything imported, rejected or failed, imported with row errors.
EXIT_OK, EXIT_REJECTED, EXIT_WITH_ERRORS = 0, 1, 2


def _import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yiwang-management import",
        description="导入实施清单 Import a catalogue spreadsheet (xlsx / xls / csv) as a background job, with progress",
    )
    parser.add_argument(
        "file",
        type=Path,
        help="实施清单文件 (.xlsx, .xls or .csv, the template of docs/catalogue-template.md)",
    )
    parser.add_argument("--force", action="store_true", help="有错误时仍导入其余有效行")
    parser.add_argument("--publish", action="store_true", help="直接审核并发布 (centre only)")
    parser.add_argument(
        "--org-code",
        help="import as staff of this body (统一社会信用代码) instead of the centre administrator",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    return parser


def _principal(org_code: str | None) -> object:
    from yiwang_common.auth import ROLE_ACCEPTOR, ROLE_ADMIN, Principal

    if org_code:
        return Principal(
            sub=f"cli-{org_code}",
            name="命令行导入",
            kind="staff",
            roles=frozenset({ROLE_ACCEPTOR}),
            org_code=org_code,
        )
    return Principal(
        sub="cli-centre", name="命令行导入（中心管理员）", kind="staff", roles=frozenset({ROLE_ADMIN})
    )


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    """Queue the file as a job, run it here (unless a server's worker takes it first) and show
    the job's progress as it is stored: what ``GET …/imports/{id}`` shows, as a bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from yiwang_common.auth import Principal
    from yiwang_common.db import create_engine, create_sessionmaker, session_scope
    from yiwang_management.catalogue import imports
    from yiwang_management.catalogue.endpoints import IMPORT_FORMATS, IMPORT_FORMATS_TEXT, MAX_IMPORT_BYTES
    from yiwang_management.catalogue.imports import JobContext
    from yiwang_management.catalogue.models import IMPORT_FINISHED, IMPORT_QUEUED, PHASE_NAMES
    from yiwang_management.catalogue.repository import CatalogueImportRepository
    from yiwang_management.catalogue.worker import ImportWorker
    from yiwang_management.models import load_all_models
    from yiwang_management.shared import event_source

    console = Console(stderr=True)
    path: Path = args.file
    file_format = path.suffix.lower().removeprefix(".")
    if file_format not in IMPORT_FORMATS:
        console.print(IMPORT_FORMATS_TEXT)
        return EXIT_REJECTED
    data = await asyncio.to_thread(path.read_bytes)
    if not data or len(data) > MAX_IMPORT_BYTES:
        console.print(f"文件为空或超过 {MAX_IMPORT_BYTES // 2**20} MB")
        return EXIT_REJECTED
    principal = _principal(args.org_code)
    assert isinstance(principal, Principal)
    load_all_models()
    engine = create_engine(settings.database)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with session_scope(sessionmaker) as session:
            job = await imports.submit_import(
                session,
                filename=path.name,
                file_format=file_format,
                data=data,
                principal=principal,
                force=args.force,
                publish=args.publish,
            )
        job_id = job.id
        console.print(f"导入任务 {job_id}")
        context = JobContext(
            sessionmaker=sessionmaker,
            source=event_source(settings.platform.region_code),
            heartbeat_s=min(settings.import_heartbeat_s, 0.5),
        )
        worker = ImportWorker(
            context, lease_s=settings.import_lease_s, max_attempts=settings.import_max_attempts, only=job_id
        )
        runner = asyncio.create_task(worker.run_once())
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        current: CatalogueImport | None = None
        with Progress(*columns, console=console, disable=args.no_progress) as bar:
            tasks: dict[str, object] = {}
            while True:
                async with session_scope(sessionmaker) as session:
                    current = await CatalogueImportRepository.from_session(session).get_by_id(job_id)
                assert current is not None
                phase = current.phase if current.phase in ("validating", "importing") else "importing"
                total = current.write_rows if phase == "importing" else current.total_rows
                if phase not in tasks:
                    tasks[phase] = bar.add_task(PHASE_NAMES[phase], total=None)
                bar.update(tasks[phase], total=total or None, completed=current.processed_rows)  # type: ignore[arg-type]
                if current.status in IMPORT_FINISHED:
                    if phase == "importing" and current.status != "failed":
                        bar.update(tasks[phase], total=total, completed=total)  # type: ignore[arg-type]
                    break
                if runner.done() and current.status == IMPORT_QUEUED:
                    # Handed back (a failed attempt to retry, or a server's worker stopped): take it again.
                    runner = asyncio.create_task(worker.run_once())
                await asyncio.sleep(0.25)
        await runner
        async with session_scope(sessionmaker) as session:
            errors, total_errors = await imports.import_errors_of(session, job_id, page=1, limit=20)
        out = Console()
        out.print(
            f"{current.status}: 总行数 {current.total_rows}，有效 {current.valid_rows}，新建 {current.created}，"
            f"更新 {current.updated}，未变化 {current.unchanged}，发布 {current.published}，错误 {current.error_count}"
        )
        for error in errors:
            out.print(
                f"  {error.sheet} 第 {error.row} 行 {error.column or '整行'}：{error.reason}", markup=False
            )
        if total_errors > len(errors):
            out.print(
                f"  …另有 {total_errors - len(errors)} 条错误，见 GET /api/v1/catalogue/imports/{job_id}/errors"
            )
        if current.failure:
            out.print(current.failure, markup=False)
        if current.status in ("rejected", "failed"):
            return EXIT_REJECTED
        return EXIT_WITH_ERRORS if current.error_count else EXIT_OK
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """The shared commands, plus ``import``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["import"]:
        args = _import_parser().parse_args(argv[1:])
        raise SystemExit(asyncio.run(_import(get_settings(), args)))
    cli.main(argv)


if __name__ == "__main__":
    main()
