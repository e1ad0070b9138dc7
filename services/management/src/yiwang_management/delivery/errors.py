"""Problems of delivery (送达), zh-CN first."""

from __future__ import annotations

from yiwang_common.http import Conflict, NotFound, UnprocessableContent


class DeliveryCaseNotFound(NotFound):
    """No such case, or not the caller's (not distinguished)."""

    code = "delivery_case_not_found"
    title = "办件不存在"


class DeliveryNotFound(NotFound):
    """The case has no delivery yet."""

    code = "delivery_not_found"
    title = "办件尚未确定送达方式"


class DeliveryClosed(Conflict):
    """Dispatched or delivered: the choice no longer changes."""

    code = "delivery_closed"
    title = "结果已寄出或已送达，不能再更改送达方式"


class ResultNotReady(Conflict):
    """No decision yet: nothing to hand over or post."""

    code = "result_not_ready"
    title = "办件尚未作出决定，没有可送达的结果"


class WrongDeliveryMethod(Conflict):
    """Posting a pick-up, or handing over a posted result."""

    code = "wrong_delivery_method"
    title = "与申请人选择的送达方式不符"


class AddressRequired(UnprocessableContent):
    """邮寄送达 needs a recipient, a phone number and an address."""

    code = "delivery_address_required"
    title = "邮寄送达须填写收件人、联系电话和地址"


class TrackingEventRejected(Conflict):
    """A courier event for a delivery not dispatched, or after it was delivered."""

    code = "tracking_event_rejected"
    title = "该送达不在运输途中，不能记录物流轨迹"


class TrackingNumberTaken(Conflict):
    """A hand-filled waybill whose tracking number another delivery already has."""

    code = "tracking_number_taken"
    title = "运单号已被另一件送达使用"
