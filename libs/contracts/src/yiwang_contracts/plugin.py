"""The plug-in contract's REST bodies (部门自建审批系统接入): what an external system sends and receives.

An external system registered for a department (its 统一社会信用代码) exchanges its client id and
secret for a short-lived bearer token (``POST /api/v1/plugin/token``), pulls the parts dispatched to
it (``GET /api/v1/plugin/dispatches``: :class:`Dispatch`, the payload of
``yiwang.management.joint_part.dispatched.v1``), acknowledges each, and reports steps, requests for
supplements and its result under ``/api/v1/plugin/parts/{part_no}/…``. ADR 0112, docs/plugin-guide.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_contracts.common import DecisionDocument, ELicence
from yiwang_contracts.management import JointPartDispatched

#: What a part can be: 已分派 (not yet taken), 办理中, 待补正, then 准予 / 不予.
PartStatus = Literal["dispatched", "in_progress", "awaiting_supplement", "approved", "refused"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenRequest(_Body):
    """Client credentials of an external system (OAuth 2.0 client_credentials, as JSON)."""

    grant_type: Literal["client_credentials"] = "client_credentials"
    client_id: str = Field(min_length=1, max_length=64, examples=["cli-0123456789abcdef0123456789abcdef"])
    client_secret: str = Field(min_length=1, max_length=200, examples=["s3cr3t-shown-once-at-registration"])


class TokenResponse(BaseModel):
    """A short-lived bearer token scoped to the system's department."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds the token is valid")
    system_id: str
    department_code: str = Field(description="统一社会信用代码 of the department the token acts for")


class Dispatch(BaseModel):
    """One part waiting for the external system; stays in the list until acknowledged (at least once)."""

    part: JointPartDispatched
    dispatched_at: datetime
    deliveries: int = Field(ge=1, description="How many times this dispatch has been handed out")
    reason: Literal["new", "supplemented"] = Field(
        default="new",
        description="new: the part is new to the system; supplemented: the applicant answered its 补正 request "
        "and ``part.materials`` holds the supplemented materials",
    )


class DispatchList(BaseModel):
    """The parts dispatched to the calling system and not acknowledged yet, oldest first."""

    items: list[Dispatch]


class StepReport(_Body):
    """环节: a step the external system finished for a part (replays with the same key and time are ignored)."""

    step_key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["review"])
    step_name: str = Field(min_length=1, max_length=100, examples=["审查"])
    handler_name: str = Field(min_length=1, max_length=100, description="环节处理人")
    opinion: str = Field(default="", max_length=2000)
    started_at: datetime
    ended_at: datetime


class SupplementRequest(_Body):
    """补正: the department needs more from the applicant; the part waits (its clock keeps running)."""

    reason: str = Field(
        min_length=1, max_length=2000, description="需补正的内容", examples=["请补充食品经营场所平面图"]
    )
    materials: list[str] = Field(
        default_factory=list, max_length=50, description="材料编码 needed", examples=[["M03"]]
    )


class ResultReport(_Body):
    """办理结果: the department's decision on its part. A second report of the same result is a no-op."""

    outcome: Literal["approved", "refused"] = Field(examples=["refused"])
    reason: str | None = Field(
        default=None,
        max_length=2000,
        description="不予许可的理由 (required when refused)",
        examples=["不符合规划条件"],
    )
    decision: DecisionDocument
    licence: ELicence | None = None


class PartState(BaseModel):
    """Where a part stands, as management records it."""

    part_no: str
    joint_no: str
    status: PartStatus
    system_id: str | None
    steps: int = Field(description="Steps recorded so far")
    outcome: Literal["approved", "refused"] | None = None
