"""Rules of the portal's licences: my licences with QR codes, throttled verification, 以证代材.

Docs: docs/adr/0108-signed-e-licences.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yiwang_common.contracts.common import MaterialRef, MaterialRequirement
from yiwang_common.qr import qr_svg
from yiwang_gateway.licence.client import LicenceClient
from yiwang_gateway.licence.errors import (
    LicenceNotAccepted,
    LicenceNotHeld,
    LicenceNotUsable,
    VerificationThrottled,
)
from yiwang_gateway.licence.schemas import LicenceSelection, MyLicence, Verification
from yiwang_gateway.licence.throttle import SlidingWindow
from yiwang_gateway.material.errors import MaterialUnknown

STATUS_TEXT = {"valid": "有效", "suspended": "暂停使用", "revoked": "已撤销", "expired": "已过期"}
#: The media type of a licence handed in as a material: its signed document (JSON), not a scan.
LICENCE_MEDIA_TYPE = "application/vnd.yiwang.e-licence+json"
VERIFY_PATH = "/licences/verify/"


def verify_url(portal_url: str, token: str) -> str:
    """The public verification page a licence's QR code opens."""
    return portal_url.rstrip("/") + VERIFY_PATH + token


def accepts(requirement: MaterialRequirement, licence: dict[str, Any]) -> bool:
    """Whether a material of the list may be satisfied by this licence (共享协同).

    The material must be one data-sharing can supply (``shareable``), and name the licence's type:
    by ``licence_type_code`` when the catalogue gives one, else by the type's name in the
    material's name (``营业执照`` satisfies 营业执照（副本）).
    """
    if not requirement.shareable:
        return False
    if requirement.licence_type_code:
        return requirement.licence_type_code == licence.get("type_code")
    type_name = str(licence.get("type_name", ""))
    return bool(type_name) and type_name in requirement.name


class LicenceService:
    """Portal use cases of e-licences."""

    async def my_licences(
        self, client: LicenceClient, *, authorization: str, portal_url: str
    ) -> list[MyLicence]:
        """我的证照: what data-sharing holds for the caller, with the QR code of each."""
        held = await client.held(authorization)
        mine = []
        for h in held:
            token = h.get("verification_token")
            url = verify_url(portal_url, token) if token else None
            mine.append(
                MyLicence(
                    identifier=h["identifier"],
                    type_code=h["type_code"],
                    type_name=h["type_name"],
                    licence_no=h["licence_no"],
                    holder_name=h["holder_name"],
                    issuer_name=h["issuer"]["name"],
                    issued_on=h["issued_on"],
                    valid_from=h["valid_from"],
                    valid_until=h.get("valid_until"),
                    status=h["status"],
                    status_text=STATUS_TEXT.get(h["status"], h["status"]),
                    case_no=h["case_no"],
                    data=h.get("data") or {},
                    verify_url=url,
                    qr_svg=qr_svg(url) if url else None,
                )
            )
        return mine

    async def verify(
        self, client: LicenceClient, limiter: SlidingWindow, *, address: str, token: str
    ) -> Verification:
        """证照核验 for anyone, at most so many per address and minute."""
        if wait := limiter.hit(address):
            raise VerificationThrottled(f"请 {wait} 秒后再试", retry_after=wait)
        return Verification.model_validate(await client.verify(token))

    async def materials(
        self,
        client: LicenceClient,
        *,
        authorization: str,
        requirements: Sequence[dict[str, Any]],
        selections: Sequence[LicenceSelection],
    ) -> list[MaterialRef]:
        """以证代材: each selected licence, held by the caller, valid now and accepted by its material."""
        if not selections:
            return []
        listed = {r["code"]: MaterialRequirement.model_validate(r) for r in requirements}
        unknown = sorted({s.material_code for s in selections} - listed.keys())
        if unknown:
            raise MaterialUnknown(f"材料编码不在申请材料目录中: {', '.join(unknown)}", material_codes=unknown)
        held = {h["identifier"]: h for h in await client.held(authorization)}
        refs = []
        for s in selections:
            requirement, licence = listed[s.material_code], held.get(s.identifier)
            if licence is None:
                raise LicenceNotHeld(f"电子证照 {s.identifier} 不在本人名下", identifier=s.identifier)
            if not accepts(requirement, licence):
                raise LicenceNotAccepted(
                    f"{requirement.name} 不能以{licence['type_name']}代替", material_code=requirement.code
                )
            token = licence.get("verification_token")
            # Checked now, signature included: a suspended, revoked, expired or altered licence is refused.
            verdict = await client.verify(token) if token else {"result": "invalid", "result_text": "未签名"}
            if verdict["result"] != "valid" or not licence.get("document_sha256"):
                raise LicenceNotUsable(
                    f"电子证照 {s.identifier} 当前不可用：{verdict['result_text']}", identifier=s.identifier
                )
            refs.append(
                MaterialRef(
                    material_code=requirement.code,
                    name=requirement.name,
                    sha256=licence["document_sha256"],
                    size=licence["document_size"],
                    media_type=LICENCE_MEDIA_TYPE,
                    filename=f"{licence['type_name']}.json",
                    licence_identifier=s.identifier,
                )
            )
        return refs


licence_service = LicenceService()
