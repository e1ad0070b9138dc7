"""Request and response models of delivery (送达)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yiwang_common.masking import mask_mobile, mask_person_name
from yiwang_common.text import Name, Text
from yiwang_management.delivery.models import EVENT_NAMES, METHOD_NAMES, POST, STATUS_NAMES, courier_name


class DeliveryChoice(BaseModel):
    """选择送达方式: 窗口领取, or 邮寄送达 with the address."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"method": "window"},
                {
                    "method": "post",
                    "recipient_name": "张三",
                    "recipient_phone": "13800138000",
                    "address": "云南省玉溪市元江县澧江街道滨江花园3栋2单元501",
                    "postcode": "653300",
                },
            ]
        },
    )

    method: Literal["window", "post"] = Field(description="window 窗口领取 / post 邮寄送达")
    recipient_name: Name | None = None
    recipient_phone: str | None = Field(default=None, pattern=r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")
    address: Text | None = None
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")

    @model_validator(mode="after")
    def _address_for_post(self) -> DeliveryChoice:
        if self.method == POST and not (self.recipient_name and self.recipient_phone and self.address):
            raise ValueError("邮寄送达须填写收件人、联系电话和地址")
        return self


class HandOver(BaseModel):
    """窗口领取: who collected the result (identity checked at the window)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"collected_by": "张三"}]})

    collected_by: Name = Field(description="领取人（已核验身份证件）")


class DispatchRequest(BaseModel):
    """证照寄送 with a waybill filled in at the window (人工录入运单); empty: the courier interface books one."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"courier": "ems", "tracking_no": "1151234567890"}]}
    )

    courier: Literal["ems", "sf", "jd"] = Field(
        description="承运方: ems 中国邮政 EMS / sf 顺丰速运 / jd 京东物流"
    )
    tracking_no: str = Field(pattern=r"^[0-9A-Za-z]{8,32}$", description="运单号")


class TrackingEventIn(BaseModel):
    """A courier scan (物流轨迹)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "delivered", "description": "本人签收"}]},
    )

    kind: Literal["in_transit", "out_for_delivery", "delivered"]
    description: Text


class TrackingEvent(BaseModel):
    """送达轨迹."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    kind_name: str = ""
    description: str
    at: datetime
    by: str


class DeliveryView(BaseModel):
    """送达 of a case: method, where to, by when, the tracking events."""

    case_no: str
    method: Literal["window", "post"]
    method_name: str
    status: str
    status_name: str
    recipient_name: str | None = Field(default=None, description="收件人（脱敏）")
    recipient_phone: str | None = Field(default=None, description="联系电话（脱敏）")
    address: str | None = None
    postcode: str | None = None
    decided_on: date | None = None
    due_date: date | None = Field(default=None, description="送达期限（作出决定之日起 5 个工作日）")
    courier: str | None = None
    courier_name: str | None = Field(default=None, description="承运方")
    tracking_no: str | None = Field(default=None, description="运单号")
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None
    on_time: bool | None = None
    events: list[TrackingEvent] = Field(default_factory=list)

    @classmethod
    def of(cls, delivery: Any, events: Any = ()) -> DeliveryView:
        return cls(
            case_no=delivery.case_no,
            method=delivery.method,
            method_name=METHOD_NAMES[delivery.method],
            status=delivery.status,
            status_name=STATUS_NAMES[delivery.status],
            recipient_name=mask_person_name(delivery.recipient_name),
            recipient_phone=mask_mobile(delivery.recipient_phone),
            address=delivery.address,
            postcode=delivery.postcode,
            decided_on=delivery.decided_on,
            due_date=delivery.due_date,
            courier=delivery.courier,
            courier_name=courier_name(delivery.courier) if delivery.courier else None,
            tracking_no=delivery.tracking_no,
            dispatched_at=delivery.dispatched_at,
            delivered_at=delivery.delivered_at,
            on_time=delivery.on_time,
            events=[
                TrackingEvent(
                    kind=e.kind,
                    kind_name=EVENT_NAMES.get(e.kind, e.kind),
                    description=e.description,
                    at=e.at,
                    by=e.actor,
                )
                for e in events
            ],
        )


class DeliveryRateRow(BaseModel):
    """送达及时率 of one department."""

    key: str = Field(description="实施主体 统一社会信用代码")
    delivered: int
    on_time: int
    on_time_rate: float | None = Field(description="on_time / delivered")


class DeliveryRateReport(BaseModel):
    """送达及时率 (seed rules §4.1 KPI: share delivered within 5 working days of the decision)."""

    first: date
    last: date
    rows: list[DeliveryRateRow]
