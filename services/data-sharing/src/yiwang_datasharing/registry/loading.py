"""Loads outside a request: the command line (with a progress bar) and the demo registries."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import async_sessionmaker

from yiwang_common.db import create_engine, session_scope
from yiwang_datasharing.config import Settings
from yiwang_datasharing.models import load_all_models
from yiwang_datasharing.registry.files import Registry
from yiwang_datasharing.registry.schemas import LoadJobOut
from yiwang_datasharing.registry.service import ProgressCallback, registry_service

DEMO_DIR = Path(__file__).parent / "demo"


async def load_file(
    settings: Settings,
    registry: Registry,
    path: Path,
    *,
    started_by: str,
    on_progress: ProgressCallback | None = None,
) -> LoadJobOut:
    """Load one registry file as a job (the same checks and counts as the API) and return its status."""
    load_all_models()
    content = await anyio.Path(path).read_bytes()
    engine = create_engine(settings.database)
    try:
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        async with session_scope(sessionmaker) as session:
            job = await registry_service.create_job(
                session, registry=registry, content=content, filename=path.name, started_by=started_by
            )
        await registry_service.run_load(
            sessionmaker,
            job_id=job.id,
            registry=registry,
            content=content,
            filename=path.name,
            on_progress=on_progress,
        )
        async with session_scope(sessionmaker) as session:
            return await registry_service.get_job(session, job_id=job.id)
    finally:
        await engine.dispose()


async def load_demo_registries(settings: Settings) -> None:
    """The demo 人口库 and 法人库 (the demo accounts' people and units); a reload changes nothing."""
    for registry in Registry:
        await load_file(settings, registry, DEMO_DIR / f"{registry.value}.csv", started_by="load-demo")


def registry_command(settings: Settings, argv: list[str]) -> int:
    """``yiwang-datasharing registry load population|legal_person FILE``: load with a progress bar.

    Returns:
        0 when every row loaded, 1 when some rows were refused (listed), 2 when the file failed.
    """
    parser = argparse.ArgumentParser(prog="yiwang-datasharing registry")
    sub = parser.add_subparsers(dest="action", required=True)
    load = sub.add_parser("load", help="load a registry file (CSV or xlsx, docs/base-registries.md)")
    load.add_argument("registry", choices=[r.value for r in Registry])
    load.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    path: Path = args.file
    if not path.is_file():
        print(f"{path}: 文件不存在 (no such file)", file=sys.stderr)  # noqa: T201
        return 2
    registry = Registry(args.registry)
    console = Console(stderr=True)
    columns = (
        TextColumn(f"导入{registry.label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("load", total=None)

        def moved(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        job = asyncio.run(load_file(settings, registry, path, started_by="cli", on_progress=moved))
    for error in job.errors:
        console.print(f"第 {error.row} 行 {error.column or ''}：{error.reason}")
    if job.error_count > len(job.errors):
        console.print(f"……另有 {job.error_count - len(job.errors)} 处错误")
    console.print(
        f"{job.status}: 共 {job.total_rows} 行，新增 {job.inserted}，更新 {job.updated}，"
        f"未变 {job.unchanged}，错误 {job.error_count}" + (f"（{job.detail}）" if job.detail else "")
    )
    if job.status == "failed":
        return 2
    return 1 if job.error_count else 0
