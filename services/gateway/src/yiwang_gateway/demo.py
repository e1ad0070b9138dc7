"""Demonstration accounts (password ``demo123``), loaded idempotently."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from yiwang_common.auth import ROLE_ACCEPTOR, ROLE_ADMIN, ROLE_APPROVER, ROLE_REVIEWER, ROLE_SUPERVISOR
from yiwang_common.db import create_engine, session_scope
from yiwang_gateway.account.repository import AccountRepository
from yiwang_gateway.account.schemas import AccountCreate
from yiwang_gateway.account.service import account_service
from yiwang_gateway.config import Settings
from yiwang_gateway.models import load_all_models

DEMO_PASSWORD = "demo123"
#: 元江县住房和城乡建设局.
DEMO_ORG_CODE = "11530428015176456L"


#: 元江县政务服务管理局 (a demonstration code with a correct GB 32100 check character).
CENTRE_ORG_CODE = "11530428893884844E"


def _staff(username: str, name: str, role: str) -> AccountCreate:
    return AccountCreate(
        username=username,
        password=DEMO_PASSWORD,
        kind="staff",
        name=name,
        org_code=DEMO_ORG_CODE,
        roles=[role],
    )


DEMO_ACCOUNTS: tuple[AccountCreate, ...] = (
    AccountCreate(
        username="zhangsan",
        password=DEMO_PASSWORD,
        kind="natural_person",
        name="张三",
        id_number="530428199001011231",
        phone="13800000001",
        realname_level="L2",
    ),
    AccountCreate(
        username="yjcj",
        password=DEMO_PASSWORD,
        kind="legal_person",
        name="元江县城市建设投资有限公司",
        id_number="91530428MA6K000015",
        phone="08776000001",
        realname_level="L2",
        # As the demo 法人库 (data-sharing) has it: 张三 (zhangsan) represents the company.
        legal_rep_name="张三",
        legal_rep_id_number="530428199001011231",
    ),
    AccountCreate(
        username="lisi",
        password=DEMO_PASSWORD,
        kind="natural_person",
        name="李四",
        id_number="53042819850505234X",
        phone="13800000002",
        realname_level="L2",
    ),
    _staff("chuangkou", "窗口受理员", ROLE_ACCEPTOR),
    _staff("shencha", "审查员", ROLE_REVIEWER),
    _staff("juece", "决定人", ROLE_APPROVER),
    _staff("jiancha", "电子监察员", ROLE_SUPERVISOR),
    # 政务服务管理机构: compiles the 目录清单, approves and publishes 实施清单 versions (ADR 0018).
    AccountCreate(
        username="zhongxin",
        password=DEMO_PASSWORD,
        kind="staff",
        name="政务服务中心管理员",
        org_code=CENTRE_ORG_CODE,
        roles=[ROLE_ADMIN],
    ),
)


async def load_demo(settings: Settings) -> None:
    """Create the demo accounts that do not exist yet."""
    load_all_models()
    engine = create_engine(settings.database)
    try:
        async with session_scope(async_sessionmaker(engine, expire_on_commit=False)) as session:
            accounts = AccountRepository.from_session(session)
            for account_create in DEMO_ACCOUNTS:
                if await accounts.get_by_username(account_create.username) is None:
                    await account_service.create(session, account_create=account_create)
    finally:
        await engine.dispose()
