"""The portal's fee and delivery pages without management: sign-in first, CSRF, and no open
redirect from the sandbox cashier (the flows through management are in tests/browser)."""

from __future__ import annotations

import httpx
import pytest

from yiwang_gateway.payment.web import _safe_return


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/me/cases/53042820261202000001V/payment", "/me/cases/53042820261202000001V/payment"),
        ("https://evil.example/me/cases/x", "/me"),
        ("//evil.example/me/cases/x", "/me"),
        ("/me/cases//evil.example", "/me"),
        ("/me/cases/\\evil", "/me"),
        ("/console/manage", "/me"),
    ],
)
def test_the_cashier_returns_only_to_the_portals_fee_pages(target: str, expected: str) -> None:
    assert _safe_return(target) == expected


async def test_the_pages_ask_to_sign_in_first(client: httpx.AsyncClient) -> None:
    for path in ("/me/cases/53042820261202000001V/payment", "/me/cases/53042820261202000001V/delivery"):
        page = await client.get(path)
        assert page.status_code == 401 and "登录" in page.text
    posted = await client.post("/me/cases/53042820261202000001V/payment", data={"csrf": "forged"})
    assert posted.status_code == 401
    assert (await client.get("/pay/sandbox/not-an-order")).status_code == 422
