"""Problems of the applicant's handling actions (补正, 撤回)."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, ServiceUnavailable, UnprocessableContent


class CaseNotInHandling(Conflict):
    """The case has not reached the business-handling system yet (or never will): nothing to correct or withdraw there."""

    code = "case_not_in_handling"
    title = "办件尚未进入审批办理"


class HandlingRefused(Conflict):
    """The business-handling system refused the action in the case's state (decided, withdrawn, not returned)."""

    code = "handling_refused"
    title = "业务办理系统拒绝了该操作"


class HandlingInvalid(UnprocessableContent):
    """The business-handling system found the correction itself invalid; its reason is passed on."""

    code = "handling_invalid"
    title = "补正内容不符合要求"


class BusinessUnavailable(ServiceUnavailable):
    """business could not be reached or did not answer in time."""

    code = "upstream_unavailable"
    title = "业务办理系统暂不可用"
