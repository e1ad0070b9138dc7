"""Business rules of my space: what the caller (or the legal person an agent acts for) may see."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.http.pagination import ListResource, PageParams
from yiwang_common.masking import mask_identifier, mask_name
from yiwang_gateway.account.registry import RegistryClient
from yiwang_gateway.account.service import account_service
from yiwang_gateway.myspace.repository import MySpaceRepository
from yiwang_gateway.myspace.schemas import MyLicence, MyLicences, MyMaterial, RegistryRecord


class MySpaceService:
    """我的 use cases; ``principal`` is the applicant acting (an agent's is the legal person)."""

    async def materials(
        self, session: AsyncSession, *, principal: Principal, page: PageParams
    ) -> ListResource[MyMaterial]:
        rows, total = await MySpaceRepository.from_session(session).materials_of(
            principal.sub, page=page.page, limit=page.limit
        )
        items = [
            MyMaterial(
                sha256=r.sha256,
                size=r.size,
                media_type=r.media_type,
                filename=r.filename,
                uploaded_at=r.uploaded_at,
            )
            for r in (row[0] for row in rows)
        ]
        return page.wrap(items, total)

    async def licences(
        self, session: AsyncSession, *, principal: Principal, registry: RegistryClient
    ) -> MyLicences:
        """The licences data-sharing holds for the holder: the person's 身份号码 or the unit's 信用代码."""
        account = await account_service.get_active(session, account_id=principal.sub)
        holder = account.id_number or ""
        found = await registry.licences_of(holder_code=holder, on_behalf_of=principal.sub) if holder else []
        items = [
            MyLicence(
                identifier=lic["identifier"],
                type_name=lic["type_name"],
                licence_no=lic["licence_no"],
                holder_name=mask_name(lic["holder_name"], kind=account.kind) or "",
                issuer_name=lic["issuer"]["name"],
                issued_on=lic["issued_on"],
                valid_until=lic.get("valid_until"),
                status=lic["status"],
                case_no=lic["case_no"],
            )
            for lic in found
        ]
        return MyLicences(
            holder_code_masked=mask_identifier(holder, id_type=account.id_type) or "", items=items
        )

    async def registry_record(
        self, session: AsyncSession, *, principal: Principal, registry: RegistryClient
    ) -> RegistryRecord | None:
        """The caller's own 人口库 record (natural persons only), for pre-filling forms."""
        account = await account_service.get_active(session, account_id=principal.sub)
        if account.kind != "natural_person" or not account.id_number:
            return None
        record = await registry.person_record(
            id_number=account.id_number, name=account.name, on_behalf_of=principal.sub
        )
        if record is None:
            return None
        return RegistryRecord(
            name=record["name"],
            gender=record.get("gender"),
            birth_date=record["birth_date"],
            address=record.get("address"),
        )


myspace_service = MySpaceService()
