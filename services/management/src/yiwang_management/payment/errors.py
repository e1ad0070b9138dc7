"""Problems of fees and payment (zh-CN first)."""

from __future__ import annotations

from yiwang_common.http import Conflict, NotFound, UnprocessableContent
from yiwang_common.http.problems import BadRequest


class PaymentCaseNotFound(NotFound):
    """No such case, or not the caller's (not distinguished)."""

    code = "payment_case_not_found"
    title = "办件不存在"


class NoFeeDue(Conflict):
    """The case's item charges nothing."""

    code = "no_fee_due"
    title = "该事项不收费，无需缴费"


class CaseNotPayable(Conflict):
    """A case refused or withdrawn owes nothing."""

    code = "case_not_payable"
    title = "办件已不予受理或已撤回，无需缴费"


class PaymentRequired(Conflict):
    """缴费后方可办理: the item's fee is due before this step (受理 or 送达)."""

    code = "payment_required"
    title = "尚未缴费，缴费后方可继续办理"


class OrderNotFound(NotFound):
    """No such payment order (or not the caller's)."""

    code = "payment_order_not_found"
    title = "缴费订单不存在"


class NotificationRejected(BadRequest):
    """A notification whose signature does not verify: forged, altered or too old."""

    code = "payment_notification_rejected"
    title = "支付结果通知验签失败，已拒绝"


class NotificationAmountMismatch(UnprocessableContent):
    """A signed notification whose amount is not the order's: never recorded as paid."""

    code = "payment_amount_mismatch"
    title = "支付金额与订单金额不一致"


class ReceiptNotIssued(Conflict):
    """No receipt before the payment."""

    code = "receipt_not_issued"
    title = "尚未缴费，没有电子票据"


class ItemNotFoundForFees(NotFound):
    """Fees for an item the catalogue does not have."""

    code = "fee_item_not_found"
    title = "事项不存在"


class SandboxOrderNotFound(NotFound):
    """The sandbox knows no such order."""

    code = "sandbox_order_not_found"
    title = "模拟支付订单不存在"
