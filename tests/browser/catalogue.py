"""Items the browser tests publish through management besides the demo catalogue: other bodies,
another level (市级) and a natural-person item, so that filters have something to filter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from yiwang_common.auth import ROLE_ADMIN, AuthSettings, Principal, TokenIssuer
from yiwang_common.keys import development_keypair

POLICE = {"name": "元江县公安局", "code": "11530428015176560Q"}
MARKET = {"name": "玉溪市市场监督管理局", "code": "11530400015176612W"}
ID_CARD_CODE = "11530428015176560Q2000201001000"
FOOD_CODE = "11530400015176612W2000302001000"

EXTRA_ITEMS: dict[str, dict[str, Any]] = {
    ID_CARD_CODE: {
        "basic_code": "000201001000",
        "name": "居民身份证换领",
        "item_type": "公共服务",
        "version": 1,
        "implementing_org": POLICE,
        "region_code": "530428",
        "service_object": ["自然人"],
        "scope": "户籍在元江县的居民，居民身份证有效期满或者证件损坏的。",
        "legal_basis": ["《中华人民共和国居民身份证法》第十一条"],
        "conditions": ["居民身份证有效期满、证件损坏或者登记项目有误"],
        "materials": [
            {"code": "M01", "name": "居民户口簿", "form": "original", "source": "申请人自备"},
            {"code": "M02", "name": "原居民身份证", "form": "original", "required": False},
        ],
        "statutory_limit_days": 60,
        "promised_limit_days": 30,
        "fee": "工本费 20 元",
        "guide": {"主题分类": ["证件办理"], "办理地点": "元江县公安局户政服务窗口", "办理形式": ["窗口办理"]},
    },
    FOOD_CODE: {
        "basic_code": "000302001000",
        "name": "食品经营许可",
        "item_type": "行政许可",
        "version": 1,
        "implementing_org": MARKET,
        "region_code": "530400",
        "service_object": ["企业法人", "个体工商户"],
        "scope": "在玉溪市辖区内从事食品销售和餐饮服务的经营者。",
        "legal_basis": ["《中华人民共和国食品安全法》第三十五条"],
        "conditions": ["有与经营的食品品种、数量相适应的经营场所"],
        "materials": [
            {"code": "M01", "name": "食品经营许可申请书"},
            {"code": "M02", "name": "营业执照复印件", "form": "copy"},
        ],
        "statutory_limit_days": 20,
        "promised_limit_days": 10,
        "guide": {"主题分类": ["准营准办"], "办理形式": ["网上办理", "窗口办理"]},
    },
}


def admin_headers(var_dir: Path) -> dict[str, str]:
    """A catalogue administrator's token, signed with the key of the test stack's installation."""
    principal = Principal(
        sub="browser-test-admin", name="目录管理员", kind="staff", roles=frozenset({ROLE_ADMIN})
    )
    private_pem, public_pem = development_keypair(var_dir)
    settings = AuthSettings(private_key_pem=SecretStr(private_pem), public_key_pem=public_pem)
    return {"Authorization": f"Bearer {TokenIssuer(settings).issue(principal)}"}
