"""经办人 Agents: who may act for a legal person, in what scope, until when, and the check on every act.

A legal person (its own account, or its 法定代表人 acting for it) authorises registered natural
persons as 经办人, each with a scope of authority (授权范围: actions — apply 申请, supplement 补正,
withdraw 撤回, view 查看 — and optionally only some items) and validity dates. The agent chooses
"act for company X" and gets a token whose claims (``act_for``, ``agent_scopes``) say so; every
act is then checked against the authorisation as the database holds it *now*, so a revocation or
an expiry takes effect at once, whatever the token says. The 法定代表人 acts with every action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_APPLICANT, CurrentPrincipal, Principal, TokenIssuer
from yiwang_common.contracts.common import Agent
from yiwang_common.db import get_session, utcnow
from yiwang_common.http.openapi import REQUIRES_ROLE
from yiwang_common.http.problems import Forbidden
from yiwang_common.masking import mask_id_number
from yiwang_gateway.account.errors import (
    AccountNotFound,
    AgentAuthorisationExpired,
    AgentBeyondAuthority,
    AgentNotRegistered,
    AuthorisationDatesInvalid,
    AuthorisationNotFound,
    NotAuthorisedAgent,
    NotLegalRepresentative,
)
from yiwang_gateway.account.models import Account, AgentAuthorisation
from yiwang_gateway.account.registration import checked_credit_code, checked_id_number
from yiwang_gateway.account.repository import AccountRepository, AgentAuthorisationRepository
from yiwang_gateway.account.schemas import (
    AGENT_ACTIONS,
    ActingToken,
    AgentGrant,
    AgentOut,
    Company,
)

#: Authorisation dates are calendar days where the platform is (valid_until is inclusive).
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
MAX_AUTHORISATION_DAYS = 5 * 366
ITEM_SCOPE_PREFIX = "item:"
ACTION_TEXT = {"apply": "申请", "supplement": "补正", "withdraw": "撤回", "view": "查看"}
Role = Literal["agent", "legal_representative"]


def today() -> date:
    """Today where the platform is."""
    return datetime.now(LOCAL_ZONE).date()


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=LOCAL_ZONE).astimezone(UTC)


def _status(grant: AgentAuthorisation, on: date) -> Literal["active", "pending", "expired", "revoked"]:
    if grant.revoked_at is not None:
        return "revoked"
    if on < grant.valid_from:
        return "pending"
    if on > grant.valid_until:
        return "expired"
    return "active"


@dataclass(frozen=True)
class Acting:
    """Who applies and who acts: the applicant as the domain services see it, and the agent.

    ``principal`` is the caller itself, or — for an agent — the legal person (``sub`` is its
    account id), so that cases, materials and licences belong to the company, not to the agent.
    """

    principal: Principal
    agent: Agent | None = None
    item_codes: frozenset[str] = field(default_factory=frozenset)

    def check_item(self, item_code: str) -> None:
        """Refuse an item outside an agent's item-limited authority (403)."""
        if self.agent is not None and self.item_codes and item_code not in self.item_codes:
            raise AgentBeyondAuthority(f"您的授权不包括事项 {item_code}，请联系法定代表人调整授权范围")


@dataclass(frozen=True)
class _Standing:
    company: Account
    me: Account
    role: Role
    grant: AgentAuthorisation | None

    @property
    def actions(self) -> list[str]:
        return list(AGENT_ACTIONS) if self.grant is None else list(self.grant.actions)

    @property
    def item_codes(self) -> list[str]:
        return [] if self.grant is None else list(self.grant.item_codes)


class AgentService:
    """经办人 use cases."""

    async def _standing(self, session: AsyncSession, *, me_id: str, credit_code: str) -> _Standing:
        """The caller's standing with a legal person: 法定代表人, or an agent with a valid authorisation."""
        accounts = AccountRepository.from_session(session)
        me = await accounts.get(me_id)
        if me is None or not me.active:
            raise AccountNotFound()
        if me.kind != "natural_person":
            raise NotAuthorisedAgent("只有自然人可以作为经办人代单位办事")
        company = await accounts.get_by_identity("001", credit_code)
        if company is None or company.kind != "legal_person" or not company.active:
            raise NotAuthorisedAgent(f"统一社会信用代码 {credit_code} 的单位未在本门户注册，或您未获其授权")
        if company.legal_rep_id_number and company.legal_rep_id_number == me.id_number:
            return _Standing(company, me, "legal_representative", None)
        grant = await AgentAuthorisationRepository.from_session(session).latest_unrevoked(company.id, me.id)
        if grant is None:
            raise NotAuthorisedAgent(f"您未获“{company.name}”授权为经办人，或授权已被撤销")
        status = _status(grant, today())
        if status == "pending":
            raise AgentAuthorisationExpired(f"您的经办人授权自 {grant.valid_from} 起生效")
        if status == "expired":
            raise AgentAuthorisationExpired(
                f"您的经办人授权已于 {grant.valid_until} 到期，请联系法定代表人续期"
            )
        return _Standing(company, me, "agent", grant)

    async def acting(self, session: AsyncSession, *, principal: Principal, action: str) -> Acting:
        """The applicant and agent of one act, checked against the authorisation as it is now.

        Raises:
            NotAuthorisedAgent, AgentAuthorisationExpired, AgentBeyondAuthority: 403 problems.
        """
        if principal.acting_for is None:
            return Acting(principal=principal)
        standing = await self._standing(session, me_id=principal.sub, credit_code=principal.acting_for)
        # The token may carry a narrower scope than the authorisation (chosen at act-for time).
        if action not in standing.actions or (
            standing.role == "agent" and action not in principal.agent_scopes
        ):
            allowed = "、".join(ACTION_TEXT[a] for a in standing.actions if a in ACTION_TEXT)
            raise AgentBeyondAuthority(
                f"您的授权范围不包括“{ACTION_TEXT.get(action, action)}”（可办理：{allowed or '无'}）",
                action=action,
            )
        company = standing.company
        applicant = Principal(
            sub=str(company.id),
            name=company.name,
            kind="legal_person",
            roles=frozenset({ROLE_APPLICANT}),
            acting_for=principal.acting_for,
            agent_scopes=principal.agent_scopes,
            realname_level=company.realname_level,
        )
        agent = Agent(
            account_id=str(standing.me.id),
            name=standing.me.name,
            id_number_masked=mask_id_number(standing.me.id_number) or "",
            authorisation_id=str(standing.grant.id) if standing.grant else None,
            role=standing.role,
        )
        return Acting(principal=applicant, agent=agent, item_codes=frozenset(standing.item_codes))

    async def acting_token(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        credit_code: str,
        issuer: TokenIssuer,
        max_ttl: int,
    ) -> ActingToken:
        """A token to act for a legal person, never valid past the authorisation's last day."""
        code = checked_credit_code(credit_code)
        standing = await self._standing(session, me_id=principal.sub, credit_code=code)
        scopes = standing.actions + [ITEM_SCOPE_PREFIX + c for c in standing.item_codes]
        ttl = max_ttl
        if standing.grant is not None:
            ttl = max(1, min(max_ttl, int((_end_of(standing.grant.valid_until) - utcnow()).total_seconds())))
        acting = Principal(
            sub=str(standing.me.id),
            name=standing.me.name,
            kind="natural_person",
            roles=frozenset({ROLE_APPLICANT}),
            acting_for=code,
            agent_scopes=frozenset(scopes),
            realname_level=standing.me.realname_level,
        )
        return ActingToken(
            access_token=issuer.issue(acting, ttl_seconds=ttl),
            expires_in=ttl,
            acting_for=code,
            legal_person_name=standing.company.name,
            role=standing.role,
            agent_scopes=sorted(scopes),
        )

    async def companies(self, session: AsyncSession, *, principal: Principal) -> list[Company]:
        """The legal persons the caller may act for today."""
        accounts = AccountRepository.from_session(session)
        me = await accounts.get(principal.sub)
        if me is None or me.kind != "natural_person" or not me.id_number:
            return []
        found = [
            Company(
                credit_code=c.id_number or "",
                name=c.name,
                role="legal_representative",
                actions=list(AGENT_ACTIONS),
                item_codes=[],
            )
            for c in await accounts.represented_by(me.id_number)
        ]
        on = today()
        grants = [
            g
            for g in await AgentAuthorisationRepository.from_session(session).unrevoked_of_agent(me.id)
            if _status(g, on) == "active"
        ]
        by_id = {a.id: a for a in await accounts.get_many([g.legal_person_id for g in grants])}
        seen = {c.credit_code for c in found}
        for g in grants:
            company = by_id.get(g.legal_person_id)
            if company is None or not company.active or g.credit_code in seen:
                continue
            seen.add(g.credit_code)
            found.append(
                Company(
                    credit_code=g.credit_code,
                    name=company.name,
                    role="agent",
                    actions=list(g.actions),
                    item_codes=list(g.item_codes),
                    valid_until=g.valid_until,
                )
            )
        return found

    async def _managed_company(self, session: AsyncSession, *, principal: Principal) -> Account:
        """The legal person the caller manages: its own account, or the one its 法定代表人 acts for."""
        if principal.kind == "legal_person" and principal.acting_for is None:
            company = await AccountRepository.from_session(session).get(principal.sub)
            if company is None or not company.active:
                raise AccountNotFound()
            return company
        if principal.acting_for is not None:
            standing = await self._standing(session, me_id=principal.sub, credit_code=principal.acting_for)
            if standing.role == "legal_representative":
                return standing.company
        raise NotLegalRepresentative("只有法人账户或其法定代表人可以授权、撤销经办人")

    async def grant(self, session: AsyncSession, *, principal: Principal, body: AgentGrant) -> AgentOut:
        """Authorise a registered (L2+) natural person; a new grant replaces the agent's earlier one."""
        company = await self._managed_company(session, principal=principal)
        id_number = checked_id_number(body.agent_id_number, field="经办人公民身份号码")
        if body.valid_until < body.valid_from:
            raise AuthorisationDatesInvalid("授权截止日期不能早于起始日期")
        if body.valid_until < today():
            raise AuthorisationDatesInvalid("授权截止日期已过")
        if (body.valid_until - body.valid_from).days > MAX_AUTHORISATION_DAYS:
            raise AuthorisationDatesInvalid("单次授权最长 5 年")
        agent = await AccountRepository.from_session(session).get_by_identity("111", id_number)
        if (
            agent is None
            or not agent.active
            or agent.kind != "natural_person"
            or agent.name != body.agent_name.strip()
            or agent.realname_level not in ("L2", "L3")
        ):
            raise AgentNotRegistered(
                "经办人须先在本门户以该姓名和公民身份号码完成实名注册（实名等级 L2 及以上）"
            )
        if company.legal_rep_id_number == id_number:
            raise AuthorisationDatesInvalid("法定代表人本人无需授权")
        grants = AgentAuthorisationRepository.from_session(session)
        now = utcnow()
        await grants.revoke_unrevoked(company.id, agent.id, at=now, by=principal.sub)
        grant = AgentAuthorisation(
            id=uuid.uuid4(),
            legal_person_id=company.id,
            credit_code=company.id_number or "",
            agent_account_id=agent.id,
            agent_name=agent.name,
            agent_id_number=id_number,
            actions=[a for a in AGENT_ACTIONS if a in body.actions],
            item_codes=sorted(set(body.item_codes)),
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            granted_by=principal.sub,
            granted_at=now,
        )
        await grants.create(grant, flush=True)
        return agent_out(grant)

    async def revoke(
        self, session: AsyncSession, *, principal: Principal, authorisation_id: uuid.UUID
    ) -> None:
        """Revoke one of the legal person's authorisations (at once: the next act is refused)."""
        company = await self._managed_company(session, principal=principal)
        grants = AgentAuthorisationRepository.from_session(session)
        grant = await grants.get_by_id(authorisation_id)
        if grant is None or grant.legal_person_id != company.id:
            raise AuthorisationNotFound(f"授权 {authorisation_id} 不存在")
        if grant.revoked_at is None:
            await grants.update(grant, update_dict={"revoked_at": utcnow(), "revoked_by": principal.sub})

    async def list(self, session: AsyncSession, *, principal: Principal) -> list[AgentOut]:
        """Every authorisation the legal person granted, newest first, the agents' numbers masked."""
        company = await self._managed_company(session, principal=principal)
        return [
            agent_out(g)
            for g in await AgentAuthorisationRepository.from_session(session).of_legal_person(company.id)
        ]


def agent_out(grant: AgentAuthorisation) -> AgentOut:
    return AgentOut(
        id=grant.id,
        agent_name=grant.agent_name,
        agent_id_number_masked=mask_id_number(grant.agent_id_number) or "",
        actions=list(grant.actions),
        item_codes=list(grant.item_codes),
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        status=_status(grant, today()),
        granted_at=grant.granted_at.isoformat(),
    )


agent_service = AgentService()


def acting_applicant(*actions: str) -> Any:
    """A dependency: the applicant acting (itself, or through an agent allowed one of ``actions``).

    A caller without the applicant role gets 403 as before; an agent beyond their authority, or
    whose authorisation expired or was revoked, gets the 403 problem that says which.
    """

    async def dependency(
        principal: CurrentPrincipal, session: AsyncSession = Depends(get_session, scope="function")
    ) -> Acting:
        if ROLE_APPLICANT not in principal.roles:
            raise Forbidden(f"需要以下角色之一: {ROLE_APPLICANT}")
        last: Exception | None = None
        for action in actions:
            try:
                return await agent_service.acting(session, principal=principal, action=action)
            except AgentBeyondAuthority as exc:
                last = exc
        assert last is not None
        raise last

    setattr(dependency, REQUIRES_ROLE, (ROLE_APPLICANT,))
    return Depends(dependency)
