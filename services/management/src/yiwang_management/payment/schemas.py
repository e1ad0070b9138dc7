"""Request and response models of fees, payment orders, receipts and reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yiwang_common.text import Name, Text
from yiwang_management.payment.models import LINE_NAMES, ORDER_STATUS_NAMES, TIMING_NAMES


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def yuan(fen: int) -> str:
    """¥12.50 from 1250 fen."""
    return f"¥{fen // 100}.{fen % 100:02d}"


class FeeItem(BaseModel):
    """收费项目: name, amount in fen (分), legal basis (收费依据)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: Name = Field(description="收费项目名称")
    amount_fen: int = Field(gt=0, le=10**10, description="金额（分，整数）")
    basis: Text = Field(description="收费依据（法律法规、价格主管部门文件）")


class FeeScheduleRequest(BaseModel):
    """An item's fee schedule and when it is paid (an empty list: the item charges nothing)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "timing": "before_delivery",
                    "fees": [
                        {
                            "name": "不动产权证书工本费",
                            "amount_fen": 1000,
                            "basis": "《关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号）",
                        }
                    ],
                }
            ]
        },
    )

    timing: Literal["before_acceptance", "before_delivery"] = Field(
        description="before_acceptance 受理前缴费 / before_delivery 送达前缴费"
    )
    fees: list[FeeItem] = Field(max_length=20)

    @model_validator(mode="after")
    def _distinct(self) -> FeeScheduleRequest:
        names = [f.name for f in self.fees]
        if len(set(names)) != len(names):
            raise ValueError("收费项目名称不能重复")
        return self


class FeeSchedule(BaseModel):
    """收费标准 of an item as the payment module charges it."""

    item_code: str
    charged: bool = Field(description="是否收费")
    timing: str | None = None
    timing_name: str | None = None
    fees: list[FeeItem]
    total_fen: int
    total: str = Field(description="合计（元）", examples=["¥10.00"])


class OrderView(BaseModel):
    """缴费订单 of a case."""

    order_no: str
    case_no: str
    item_code: str
    timing: str
    timing_name: str
    lines: list[FeeItem]
    amount_fen: int
    amount: str = Field(examples=["¥10.00"])
    status: Literal["unpaid", "paid"]
    status_name: str
    provider: str
    pay_url: str | None = Field(default=None, description="支付页面（模拟支付渠道的收银台）")
    provider_txn_id: str | None = None
    created_at: datetime
    paid_at: datetime | None = None
    receipt_no: str | None = Field(default=None, description="电子票据号")

    @classmethod
    def of(cls, order: Any) -> OrderView:
        return cls(
            order_no=order.order_no,
            case_no=order.case_no,
            item_code=order.item_code,
            timing=order.timing,
            timing_name=TIMING_NAMES.get(order.timing, order.timing),
            lines=[FeeItem.model_validate(line) for line in order.lines],
            amount_fen=order.amount_fen,
            amount=yuan(order.amount_fen),
            status=order.status,
            status_name=ORDER_STATUS_NAMES[order.status],
            provider=order.provider,
            pay_url=order.pay_url if order.status == "unpaid" else None,
            provider_txn_id=order.provider_txn_id,
            created_at=order.created_at,
            paid_at=order.paid_at,
            receipt_no=order.receipt_no,
        )


class CasePayment(BaseModel):
    """What a case owes and whether it is paid."""

    case_no: str
    schedule: FeeSchedule
    order: OrderView | None = None
    paid: bool = Field(description="已缴清（不收费的事项也为 true）")


class NotificationAck(BaseModel):
    """The answer the provider waits for (it repeats the notification until it gets one)."""

    code: Literal["SUCCESS"] = "SUCCESS"
    duplicate: bool = Field(description="已处理过的重复通知")


class SandboxOrder(BaseModel):
    """The sandbox cashier's view of an order."""

    provider_order_id: str
    merchant_order_no: str
    subject: str
    amount_fen: int
    amount: str
    status: str


class SandboxPaid(BaseModel):
    """模拟付款 done: the notification is on its way (asynchronously) to the merchant."""

    provider_order_id: str
    status: str
    txn_id: str | None


class ReconciliationLineView(_Out):
    """对账明细."""

    kind: str
    kind_name: str = ""
    order_no: str | None
    case_no: str | None
    provider_txn_id: str | None
    our_amount_fen: int | None
    provider_amount_fen: int | None

    @classmethod
    def of(cls, line: Any) -> ReconciliationLineView:
        view = cls.model_validate(line)
        view.kind_name = LINE_NAMES.get(view.kind, view.kind)
        return view


class ReconciliationView(_Out):
    """对账记录 of a day."""

    day: date
    provider: str
    status: Literal["balanced", "mismatched"]
    status_name: str = ""
    matched: int
    missing_on_our_side: int
    missing_at_provider: int
    amount_mismatch: int
    our_total_fen: int
    provider_total_fen: int
    run_at: datetime
    run_by: str
    lines: list[ReconciliationLineView] = Field(default_factory=list)

    @classmethod
    def of(cls, record: Any, lines: Any = ()) -> ReconciliationView:
        view = cls.model_validate(record)
        view.status_name = "账实相符" if view.status == "balanced" else "存在差异"
        view.lines = [ReconciliationLineView.of(line) for line in lines]
        return view
