"""ORM models of delivery of results (送达): the applicant's choice, the courier's tracking."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import TZDateTime
from yiwang_management.db import Base

#: 送达方式: 窗口领取 pick-up at a window, 邮寄送达 by post.
WINDOW, POST = "window", "post"
METHOD_NAMES = {WINDOW: "窗口领取", POST: "邮寄送达"}

#: 送达状态.
AWAITING, READY, DISPATCHED, DELIVERED = "awaiting_decision", "ready", "dispatched", "delivered"
STATUS_NAMES = {AWAITING: "待出结果", READY: "待送达", DISPATCHED: "已寄出", DELIVERED: "已送达"}

#: Tracking event kinds (物流/送达轨迹).
EVENT_NAMES = {
    "chosen": "选择送达方式",
    "ready": "结果待领取/待寄送",
    "dispatched": "已交寄",
    "in_transit": "运输中",
    "out_for_delivery": "派送中",
    "delivered": "已签收",
    "picked_up": "窗口已领取",
}
#: 承运方: the couriers a deliverer may record by hand (the waybill printed at the window), and the
#: sandbox courier, whose interface issues the tracking number itself.
SANDBOX_COURIER = "sandbox"
COURIERS = {"ems": "中国邮政 EMS", "sf": "顺丰速运", "jd": "京东物流", SANDBOX_COURIER: "模拟寄递"}


def courier_name(code: str) -> str:
    """承运方 name of a courier code (an unknown code shows as itself)."""
    return COURIERS.get(code, code)


#: The step key of the delivery limit on ``case_step_clock`` (supervised like any step).
DELIVERY_STEP = "delivery"
DELIVERY_STEP_NAME = "送达"


class CaseDelivery(Base):
    """送达 How a case's result reaches the applicant, and by when (5 working days of the decision)."""

    __tablename__ = "case_delivery"

    case_no: Mapped[str] = mapped_column(
        ForeignKey("case_file.case_no", ondelete="CASCADE"), primary_key=True
    )
    method: Mapped[str] = mapped_column(String(16))
    recipient_name: Mapped[str | None] = mapped_column(String(100))
    recipient_phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(20))
    chosen_at: Mapped[datetime] = mapped_column(TZDateTime)
    chosen_by: Mapped[str] = mapped_column(String(100))
    decided_on: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    courier: Mapped[str | None] = mapped_column(String(32))
    tracking_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    on_time: Mapped[bool | None]


class DeliveryEvent(Base):
    """送达轨迹 One tracking event of a delivery (choice, dispatch, courier scans, signed for)."""

    __tablename__ = "delivery_event"

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZDateTime)
    actor: Mapped[str] = mapped_column(String(100))
