"""Problems of the portal's licence domain."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound, TooManyRequests, UnprocessableContent


class VerificationNotFound(NotFound):
    """核验码无效 No licence has this verification token."""

    code = "licence_verification_not_found"
    title = "证照核验码无效"


class VerificationThrottled(TooManyRequests):
    """Too many verifications from one address in a minute."""

    code = "licence_verification_throttled"
    title = "证照核验过于频繁，请稍后再试"


class LicenceNotHeld(UnprocessableContent):
    """The application names a licence the applicant does not hold in the e-licence library."""

    code = "licence_not_held"
    title = "电子证照不在本人名下"


class LicenceNotUsable(UnprocessableContent):
    """The licence is not valid now (suspended, revoked, expired) or not signed."""

    code = "licence_not_usable"
    title = "电子证照当前不可用"


class LicenceNotAccepted(UnprocessableContent):
    """That material of the item cannot be satisfied by this licence (not shareable, other type)."""

    code = "licence_not_accepted"
    title = "该材料不接受此电子证照"
