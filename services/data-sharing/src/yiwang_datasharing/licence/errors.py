"""Problems of the e-licence library (电子证照库)."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, Forbidden, NotFound


class LicenceNotFound(NotFound):
    """电子证照不存在 No such licence, or none the caller may see."""

    code = "licence_not_found"
    title = "电子证照不存在"


class HolderListingDenied(Forbidden):
    """Listing by holder is for the portal's service principal only (it has checked who asks)."""

    code = "licence_listing_denied"
    title = "无权按持证主体查询证照"


class LicenceTypeNotFound(NotFound):
    """证照类型不存在 No such entry in the licence catalogue."""

    code = "licence_type_not_found"
    title = "证照类型不存在"


class LicenceVerificationNotFound(NotFound):
    """核验码无效 No licence has this verification token."""

    code = "licence_verification_not_found"
    title = "证照核验码无效"


class LicenceStatusForbidden(Forbidden):
    """Only the issuing unit's approvers or administrators change a licence's status."""

    code = "licence_status_forbidden"
    title = "无权变更该证照状态"


class LicenceKeyForbidden(Forbidden):
    """Only the unit's administrator rotates its signing key."""

    code = "licence_key_forbidden"
    title = "无权轮换该单位的签名密钥"


class LicenceCatalogueForbidden(Forbidden):
    """Only administrators maintain the licence catalogue."""

    code = "licence_catalogue_forbidden"
    title = "无权维护证照目录"


class LicenceRevoked(Conflict):
    """A revoked licence (撤销) is final: it can be neither reinstated nor suspended."""

    code = "licence_revoked"
    title = "证照已撤销，状态不可再变更"


class SigningKeyNotFound(NotFound):
    """签名密钥不存在 No key with this id."""

    code = "signing_key_not_found"
    title = "签名密钥不存在"
